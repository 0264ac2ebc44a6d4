"""Warehouse receipts: commodity deposited at GCX warehouses, later pledged or withdrawn.

Receipts are what sellers deliver against; deposits follow the traded commodities (a symbol's
warehouse, commodity and grade), in proportion to the market's activity. A receipt's row carries
its state at the end of the simulated period (withdrawals and pledges after the end have not
happened yet).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from gcx.simulator import columns
from gcx.simulator.market import DayMarket, expected_trades
from gcx.simulator.reference import COMMODITIES, WAREHOUSES
from gcx.simulator.trading_calendar import US_PER_DAY

RECEIPT_STATUSES = ("active", "pledged", "withdrawn")
DEPOSITS_PER_DAY_AT_SCALE_1 = 3.0
US_PER_HOUR = 3600 * 1_000_000


def deposit_receipts(
    market: DayMarket, rng: np.random.Generator, scale: float, next_serial: np.ndarray, end_us: int
) -> pa.Table:
    """The day's deposits; ``next_serial`` (per warehouse) is advanced in place."""
    reference = market.reference
    instruments = reference.instruments
    weight = expected_trades(market, 1.0)
    n = int(rng.poisson(DEPOSITS_PER_DAY_AT_SCALE_1 * scale)) if weight.sum() > 0 else 0
    instrument = rng.choice(len(weight), size=n, p=weight / weight.sum()) if n else np.zeros(0, np.int64)
    accounts = reference.accounts
    depositors = (
        accounts.activity / accounts.buy_propensity * market.tradable_accounts * ~accounts.proprietary
    )
    account = rng.choice(len(depositors), size=n, p=depositors / depositors.sum())
    deposited = (
        market.day_number * US_PER_DAY + 8 * US_PER_HOUR + (rng.random(n) * 9 * US_PER_HOUR).astype(np.int64)
    )
    order = np.argsort(deposited, kind="stable")
    instrument, account, deposited = instrument[order], account[order], deposited[order]
    warehouse = instruments.warehouse[instrument]
    serial = np.empty(n, dtype=np.int64)
    for w in np.unique(warehouse):
        at = np.flatnonzero(warehouse == w)
        serial[at] = next_serial[w] + np.arange(len(at))
        next_serial[w] += len(at)

    withdrawn_at = deposited + (rng.exponential(45.0, n) * US_PER_DAY).astype(np.int64)
    withdraws = (rng.random(n) < 0.7) & (withdrawn_at <= end_us)
    pledged_at = deposited + (rng.uniform(1.0, 10.0, n) * US_PER_DAY).astype(np.int64)
    pledged = ~withdraws & (rng.random(n) < 0.15) & (pledged_at <= end_us)
    status = np.select([withdraws, pledged], [2, 1], 0)
    updated = np.select([withdraws, pledged], [withdrawn_at, pledged_at], deposited)
    lots = np.minimum(rng.geometric(0.3, n), 10)
    codes = [f"WR-{w.code}-" for w in WAREHOUSES]
    receipt_id = pa.array([f"{codes[w]}{s:06d}" for w, s in zip(warehouse, serial, strict=True)], pa.string())
    return pa.table(
        {
            "receipt_id": receipt_id,
            "warehouse_code": columns.texts([w.code for w in WAREHOUSES], warehouse),
            "account_id": columns.texts(accounts.account_id, account),
            "commodity_code": columns.texts([c.code for c in COMMODITIES], instruments.commodity[instrument]),
            "grade": columns.integers(instruments.grade[instrument]),
            "quantity_t": columns.integers(instruments.lot_t[instrument] * lots),
            "deposited_at": columns.timestamps(deposited),
            "withdrawn_at": columns.timestamps(withdrawn_at, null=~withdraws),
            "status": columns.texts(RECEIPT_STATUSES, status),
            "updated_at": columns.timestamps(updated),
        }
    )
