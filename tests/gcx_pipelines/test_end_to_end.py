"""The platform end to end, as `make demo` runs it (the session's `built_platform`, tests/conftest.py):
simulated sources with injected faults plus real CME trades imported by `gcx import trades`, then
`gcx materialize` (one Dagster run: every ingestion asset for every day, every check, the dbt build). The marts are checked against the
sources and the simulator's ground truth, never against the pipeline's own bookkeeping.
"""

import json
from datetime import timedelta

import pandas as pd
import psycopg
import pytest

from gcx import clock, database
from gcx.settings import Settings
from gcx_pipelines.launch import materialize
from tests.conftest import WORLD_DAYS

pytestmark = pytest.mark.slow


def query(settings: Settings, name: database.DatabaseName, sql: str) -> list[tuple]:
    with psycopg.connect(database.database_url(name, settings=settings)) as conn:
        return conn.execute(sql).fetchall()


def one_minute_bars(trades: pd.DataFrame) -> pd.DataFrame:
    """1-minute bars computed independently of dbt: stamped at the minute's start, first/last by (time, id)."""
    trades = trades.sort_values(["executed_at", "trade_id"])
    trades["bar_start_at"] = trades.executed_at.dt.floor("min")
    bars = trades.groupby(["symbol", "bar_start_at"]).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("quantity", "sum"),
        trade_count=("price", "size"),
    )
    return bars.reset_index().sort_values(["symbol", "bar_start_at"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def platform(built_platform: Settings) -> Settings:
    return built_platform


def quarantined_trade_ids(settings: Settings) -> set[str]:
    rows = query(settings, "warehouse", "select record_key from raw.quarantine where dataset = 'trades'")
    return {key for (key,) in rows}


def test_every_source_trade_is_in_the_mart_or_in_quarantine(platform):
    source = {tid for (tid,) in query(platform, "exchange", "select trade_id from trades")}
    mart = {tid for (tid,) in query(platform, "warehouse", "select trade_id from marts.fct_trades")}
    quarantined = quarantined_trade_ids(platform)
    assert quarantined, "the simulation injected trade faults: some must be quarantined"
    assert mart.isdisjoint(quarantined)
    assert mart | quarantined == source


def test_quarantine_is_exactly_the_injected_bad_records(platform):
    truth = [json.loads(line) for line in (platform.truth_dir / "bad_records.jsonl").read_text().splitlines()]
    injected = {
        (t["dataset"], t.get("file"), t.get("line"), t.get("record_key") if "file" not in t else None)
        for t in truth
    }
    rows = query(
        platform,
        "warehouse",
        "select source, dataset, source_file, source_row, record_key from raw.quarantine",
    )
    quarantined = {
        (dataset, file, line, None) if source != "exchange" else (dataset, None, None, key)
        for source, dataset, file, line, key in rows
    }
    assert len(rows) == len(quarantined) == len(injected) > 20
    assert quarantined == injected


def test_bars_equal_an_independent_computation_from_source_trades(platform):
    """From the exchange source itself (minus the quarantined trades), not from the warehouse."""
    trades = pd.DataFrame(
        query(
            platform,
            "exchange",
            "select t.trade_id, i.symbol, t.executed_at, t.price_ghs_per_t::float8, t.quantity_t::float8 "
            "from trades t join instruments i using (instrument_id)",
        ),
        columns=["trade_id", "symbol", "executed_at", "price", "quantity"],
    )
    trades = trades[~trades.trade_id.isin(quarantined_trade_ids(platform))]
    trades["executed_at"] = pd.to_datetime(trades.executed_at, utc=True)
    expected = one_minute_bars(trades)
    actual = pd.DataFrame(
        query(
            platform,
            "warehouse",
            "select symbol, bar_start_at, open_ghs_per_t::float8, high_ghs_per_t::float8, low_ghs_per_t::float8,"
            " close_ghs_per_t::float8, volume_t::float8, trade_count from marts.fct_ohlcv_1m"
            " order by symbol, bar_start_at",
        ),
        columns=expected.columns,
    )
    actual["bar_start_at"] = pd.to_datetime(actual.bar_start_at, utc=True)
    assert expected.bar_start_at.dt.date.nunique() >= WORLD_DAYS  # bars on every session
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def test_imported_cme_trades_give_the_vendors_bars(platform, reference_data):
    trades = pd.read_csv(reference_data / "cme_esu4_trades_20240701.csv")
    minute_ns = 60 * 10**9
    first_bar, last_bar = (trades.ts_event_ns.min() // minute_ns) * minute_ns, trades.ts_event_ns.max()
    vendor = pd.read_csv(reference_data / "cme_ohlcv_1m_20240701_vendor.csv")
    # the vendor file spans 23:40 to 00:09; the trade sample covers the minutes from 23:58 on
    vendor = vendor[(vendor.instrument_id == 118) & vendor.ts_event_ns.between(first_bar, last_bar)]
    vendor = vendor.sort_values("ts_event_ns")
    ours = pd.DataFrame(
        query(
            platform,
            "warehouse",
            "select bar_start_at, open_ghs_per_t::float8, high_ghs_per_t::float8, low_ghs_per_t::float8,"
            " close_ghs_per_t::float8, volume_t::float8 from marts.fct_ohlcv_1m where symbol = 'ESU4'"
            " order by bar_start_at",
        ),
        columns=["bar_start_at", "open", "high", "low", "close", "volume"],
    )
    assert len(vendor) == 4
    assert ours.bar_start_at.map(lambda t: int(pd.Timestamp(t).value)).tolist() == vendor.ts_event_ns.tolist()
    for column in ("open", "high", "low", "close", "volume"):
        assert ours[column].tolist() == vendor[column].astype(float).tolist(), column


def test_reingesting_a_day_changes_nothing(platform):
    """Re-running a day's ingestion replaces it: no row doubled, none lost, checks still green.
    (Re-running dbt on the same raw rows is covered in tests/dbt_project.)"""
    counts = (
        "select (select count(*) from raw.exchange__trades), (select count(*) from raw.platform__api_usage),"
        " (select count(*) from raw.quarantine), (select sum(raw_rows + quarantined_rows) from raw.ingestion_log)"
    )
    before = query(platform, "warehouse", counts)
    last_day = clock.today() - timedelta(days=1)
    assert materialize(platform, start=last_day, end=last_day, job_name="ingestion_job")
    assert query(platform, "warehouse", counts) == before
