"""The platform's one clock: whatever asks "what time is it" asks `now()` or `today()` here.

The free tier's delay, history windows, retention horizons, freshness, report periods, the live
simulator's timestamps and the default days of the command line all count from it, so a test can
stand at a fixed moment of a fixed-date world and get the same answers on any day it runs.

By default it is the real clock. `set_now(instant)` moves it: the clock then reads `instant` and
runs on from there, as real time does (live trading keeps moving). The move is one offset from the
real clock, kept in the environment variable GCX_CLOCK_OFFSET_S, so every process started from
here (the `gcx` command, dbt, a uvicorn server) reads the same time.

Durations (timeouts, latencies) are not "what time is it": they use `time.monotonic()`, and
timestamps that record when something really happened on this machine (a row's `loaded_at`, a
file's age) keep the database's or the file system's clock.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

OFFSET_VARIABLE = "GCX_CLOCK_OFFSET_S"
"""Seconds the platform's clock is ahead of the real one (negative: behind); unset or empty is 0."""


def now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC) + _offset(os.environ.get(OFFSET_VARIABLE, ""))


def today() -> date:
    """The current UTC day (Ghana keeps UTC all year)."""
    return now().date()


def set_now(instant: datetime) -> None:
    """Move the clock (this process and the processes it starts) so that it reads `instant` now."""
    if instant.tzinfo is None:
        raise ValueError("set_now needs an aware datetime (UTC)")
    offset = instant - datetime.now(UTC)
    os.environ[OFFSET_VARIABLE] = repr(offset.total_seconds())


def reset() -> None:
    """Back to the real clock."""
    os.environ.pop(OFFSET_VARIABLE, None)


@lru_cache(maxsize=4)
def _offset(text: str) -> timedelta:
    if not text.strip():
        return timedelta(0)
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be a number of seconds, got {text!r}") from None
