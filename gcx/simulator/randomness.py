"""Seeded random streams: one independent generator per (seed, stream, day).

Keying every generator by its purpose and its calendar day (``SeedSequence`` spawn keys) keeps days
independent: a day's data does not depend on how many random numbers earlier days drew, so changing
one generator's draws never shifts another's, and no state but explicit carried-over state (prices,
counters) links one day to the next.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum

import numpy as np

from gcx.simulator.trading_calendar import day_number


class Stream(IntEnum):
    REFERENCE = 1
    PRICES = 2
    MARKET = 3
    EPISODES = 4
    SETTLEMENT = 5
    RECEIPTS = 6
    COMPLIANCE = 7
    PLATFORM = 8
    FAULTS = 9
    LIVE = 10


def rng_for(seed: int, stream: Stream, day: date | None = None) -> np.random.Generator:
    """The generator of one stream on one day (or the stream's day-independent generator)."""
    key = (int(stream),) if day is None else (int(stream), day_number(day))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))
