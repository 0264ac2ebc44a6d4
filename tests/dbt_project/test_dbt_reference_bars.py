"""Real CME trades through raw -> dbt -> fct_ohlcv_1m reproduce the vendor's 1-minute bars exactly.

The trades (ESU4, instrument 118, 2024-07-01 23:58 to 2024-07-02 00:02 UTC) come with nanosecond
times; PostgreSQL keeps microseconds, so they are floored (a trade never leaves its minute). The
vendor stamps a bar with its start, as we do, and has no bar for a minute without a trade.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from tests.dbt_project import raw_rows

pytestmark = pytest.mark.slow

INSTRUMENT_ID = 118


@pytest.fixture(scope="module")
def cme_bars(fresh_warehouse, reference_data):
    cme = pd.read_csv(reference_data / "cme_esu4_trades_20240701.csv")
    executed = pd.to_datetime(cme.ts_event_ns, unit="ns", utc=True).dt.floor("us")
    loaded = executed.max().to_pydatetime()
    trades = [
        {
            # the sample has no trade ids (its sequence numbers repeat across fills): number the rows
            "trade_id": f"ESU4-{number:06d}",
            "instrument_id": INSTRUMENT_ID,
            "executed_at": at.to_pydatetime(),
            "price_ghs_per_t": Decimal(str(price)),
            "quantity_t": Decimal(int(size)),
            "aggressor_side": {"B": "buy", "A": "sell"}[side],
            "updated_at": loaded,
        }
        for number, (at, price, size, side) in enumerate(
            zip(executed, cme.price, cme["size"], cme.side, strict=True)
        )
    ]
    instrument = {
        "instrument_id": INSTRUMENT_ID, "symbol": "ESU4", "venue": "CME", "tick_size_ghs": Decimal("0.25"),
        "lot_size_t": 1, "listed_on": executed.min().date(), "updated_at": loaded,
    }  # fmt: skip
    with fresh_warehouse.connect() as conn:
        raw_rows.create_raw_schema(conn)
        raw_rows.insert(conn, "exchange__instruments", [instrument])
        raw_rows.insert(conn, "exchange__trades", trades)
    # the bars and everything upstream, with the tests that need nothing else built
    fresh_warehouse.dbt("build", "--select", "+fct_ohlcv_1m", "--indirect-selection", "cautious")
    rows = fresh_warehouse.query(
        "select bar_start_at, open_ghs_per_t, high_ghs_per_t, low_ghs_per_t, close_ghs_per_t, volume_t, trade_count"
        " from marts.fct_ohlcv_1m where instrument_id = %s order by bar_start_at",
        (INSTRUMENT_ID,),
    )
    return pd.DataFrame(
        rows, columns=["bar_start_at", "open", "high", "low", "close", "volume", "trade_count"]
    ), cme


def test_one_minute_bars_equal_the_vendor_bars(cme_bars, reference_data):
    bars, cme = cme_bars
    vendor = pd.read_csv(reference_data / "cme_ohlcv_1m_20240701_vendor.csv")
    vendor = vendor[vendor.instrument_id == INSTRUMENT_ID].copy()
    vendor["bar_start_at"] = pd.to_datetime(vendor.ts_event_ns, unit="ns", utc=True)
    # the vendor file spans 23:40 to 00:09; the trade sample covers the minutes it has trades for
    first = pd.to_datetime(cme.ts_event_ns.min(), unit="ns", utc=True).floor("min")
    last = pd.to_datetime(cme.ts_event_ns.max(), unit="ns", utc=True).floor("min")
    vendor = vendor[(vendor.bar_start_at >= first) & (vendor.bar_start_at <= last)].sort_values(
        "bar_start_at"
    )
    assert len(vendor) == len(bars) == 4
    assert list(bars.bar_start_at) == list(vendor.bar_start_at)
    for column in ("open", "high", "low", "close", "volume"):
        assert [Decimal(str(v)) for v in vendor[column]] == [Decimal(v).normalize() for v in bars[column]], (
            column
        )
    assert bars.trade_count.sum() == len(cme)
