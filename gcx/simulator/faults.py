"""Bad records: the faults real sources carry, injected at ``--bad-rate`` and logged as ground truth.

Each injected fault is written exactly once to ``truth/bad_records.jsonl`` so a pipeline's quarantine
can be checked against it, record by record. Only faults that can really occur in a source are
injected there: the exchange database enforces types and primary keys, so its faults are bad values
in trades (prices, quantities, times, counterparties, instruments); the file drops can carry any
malformation (``filedrops.py``); the live feed carries malformed messages (``live.py``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import IO

import numpy as np

from gcx.simulator.market import MEMBER_NULL, MEMBER_UNKNOWN, DayBook, DayMarket, TradeValues
from gcx.simulator.trading_calendar import US_PER_DAY

TRADE_FAULTS = (
    "negative_price",
    "zero_price",
    "absurd_price",
    "null_quantity",
    "nonpositive_quantity",
    "executed_at_out_of_range",
    "executed_at_outside_session",
    "missing_counterparty",
    "unknown_member",
    "delisted_instrument",
)
FEED_FAULTS = ("broken_json", "missing_field", "unknown_symbol", "negative_price", "duplicate_trade_id")
UNKNOWN_SYMBOL = "GXXWM9"
ABSURD_PRICE_CENTS = 100_000_000_000  # GHS 1e9 per tonne


class BadRecordLog:
    """Appends one JSON line per injected fault to ``truth/bad_records.jsonl``."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self.counts: Counter[str] = Counter()

    @classmethod
    def open(cls, path: Path, *, append: bool) -> BadRecordLog:
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path.open("a" if append else "w", encoding="utf-8"))

    def record(
        self,
        source: str,
        dataset: str,
        record_key: str | None,
        fault: str,
        *,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        entry: dict[str, object] = {"source": source, "dataset": dataset, "record_key": record_key}
        if file is not None:
            entry["file"] = file
            entry["line"] = line
        entry["fault"] = fault
        self._handle.write(json.dumps(entry) + "\n")
        self.counts[f"{source}/{dataset}"] += 1

    def flush(self) -> None:
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def corrupt_trades(
    book: DayBook, market: DayMarket, rng: np.random.Generator, bad_rate: float
) -> tuple[TradeValues, list[tuple[int, str]]]:
    """The trades' written values with faults injected into about ``bad_rate`` of the ordinary
    trades (never into episode trades, whose truth must stay clean); returns (values, [(position,
    fault)])."""
    values = TradeValues.of(book)
    if bad_rate <= 0:
        return values, []
    chosen = np.flatnonzero((rng.random(len(values.instrument)) < bad_rate) & (book.trades["episode"] < 0))
    instruments = market.reference.instruments
    delisted = np.flatnonzero(instruments.delisted_day <= market.day_number)
    faults = [f for f in TRADE_FAULTS if f != "delisted_instrument" or len(delisted)]
    injected = []
    for i in chosen:
        fault = faults[int(rng.integers(len(faults)))]
        if fault == "negative_price":
            values.price_cents[i] = -values.price_cents[i]
        elif fault == "zero_price":
            values.price_cents[i] = 0
        elif fault == "absurd_price":
            values.price_cents[i] = ABSURD_PRICE_CENTS
        elif fault == "null_quantity":
            values.quantity_null[i] = True
        elif fault == "nonpositive_quantity":
            values.quantity_t[i] = -values.quantity_t[i] if rng.random() < 0.5 else 0
        elif fault == "executed_at_out_of_range":
            # a zeroed clock (1970) or a year typed wrong (2099), keeping the time of day
            time_of_day = values.executed_us[i] % US_PER_DAY
            day = 0 if rng.random() < 0.5 else int(np.datetime64("2099-01-01", "D").astype(np.int64))
            values.executed_us[i] = day * US_PER_DAY + time_of_day
        elif fault == "executed_at_outside_session":
            day_start = market.day_number * US_PER_DAY
            before = rng.random() < 0.5
            hours = rng.uniform(2.0, 9.9) if before else rng.uniform(14.05, 23.9)
            values.executed_us[i] = day_start + int(hours * 3600e6)
        elif fault == "missing_counterparty":
            side = values.buyer_member if rng.random() < 0.5 else values.seller_member
            side[i] = MEMBER_NULL
        elif fault == "unknown_member":
            side = values.buyer_member if rng.random() < 0.5 else values.seller_member
            side[i] = MEMBER_UNKNOWN
        else:  # delisted_instrument
            values.instrument[i] = int(rng.choice(delisted))
        injected.append((int(i), fault))
    return values, injected


def corrupt_feed_message(
    rng: np.random.Generator, message: dict[str, object], previous_payload: str | None
) -> tuple[str, str | None]:
    """A feed message's payload, malformed with one of ``FEED_FAULTS`` or clean (fault None)."""
    fault = FEED_FAULTS[int(rng.integers(len(FEED_FAULTS)))]
    if fault == "duplicate_trade_id" and previous_payload is None:
        fault = "missing_field"
    if fault == "broken_json":
        text = json.dumps(message)
        return text[: int(rng.integers(10, len(text) - 5))], fault
    if fault == "duplicate_trade_id":
        assert previous_payload is not None
        return previous_payload, fault
    bad = dict(message)
    if fault == "missing_field":
        del bad[("trade_id", "symbol", "price_ghs_per_t", "quantity_t", "executed_at")[int(rng.integers(5))]]
    elif fault == "unknown_symbol":
        bad["symbol"] = UNKNOWN_SYMBOL
    else:  # negative_price
        bad["price_ghs_per_t"] = -float(bad["price_ghs_per_t"])  # type: ignore[arg-type]
    return json.dumps(bad), fault
