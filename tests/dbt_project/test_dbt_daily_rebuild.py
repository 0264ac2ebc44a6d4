"""The daily marts built day by day, as the nightly runs build them, equal one full refresh; a late
correction rebuilds the day it corrects and leaves every other day's rows untouched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.dbt_project import raw_rows

pytestmark = pytest.mark.slow

FIRST_DAY = date(2024, 7, 1)
WEEK_END = date(2024, 7, 5)
DAILY = ("fct_trades+", "fct_orders+")
"""The incremental daily marts and everything built from them."""
CHECKED_SCHEMAS = ("marts", "compliance")


def window(first: date, last: date) -> dict[str, str]:
    return {"window_start": first.isoformat(), "window_end": last.isoformat()}


def raw_tables(warehouse) -> list[str]:
    rows = warehouse.query(
        "select table_name from information_schema.columns"
        " where table_schema = 'raw' and column_name = '_partition_date' order by 1"
    )
    return [name for (name,) in rows]


def mart_checksums(warehouse) -> dict[str, tuple[int, str]]:
    """Rows and an order-independent checksum of every table in the mart schemas."""
    tables = warehouse.query(
        "select table_schema, table_name from information_schema.tables"
        " where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
        (list(CHECKED_SCHEMAS),),
    )
    return {
        f"{schema}.{table}": warehouse.query(
            f"select count(*), coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '')"
            f" from {schema}.{table} t"
        )[0]
        for schema, table in tables
    }


@pytest.fixture(scope="module")
def built_day_by_day(fresh_warehouse):
    """Raw partitions arrive one day at a time, each followed by a run over that day's window."""
    warehouse = fresh_warehouse
    with warehouse.connect() as conn:
        raw_rows.load_all(conn, extra_trades=raw_rows.random_trades())
        conn.execute("create schema held")
        for table in raw_tables(warehouse):
            conn.execute(
                f"create table held.{table} as select * from raw.{table} where _partition_date > %s",
                (FIRST_DAY,),
            )
            conn.execute(f"delete from raw.{table} where _partition_date > %s", (FIRST_DAY,))
    (earliest,) = warehouse.query(
        " union all ".join(f"select min(_partition_date) from raw.{t}" for t in raw_tables(warehouse)).join(
            ["select min(m) from (", ") as mins(m)"]
        )
    )[0]
    models_and_snapshot = ("build", "--resource-type", "model", "--resource-type", "snapshot")
    warehouse.dbt(*models_and_snapshot, variables=window(earliest, FIRST_DAY))
    later_days = sorted(
        {
            day
            for t in raw_tables(warehouse)
            for (day,) in warehouse.query(f"select distinct _partition_date from held.{t}")
        }
    )
    # the rest of the week's days one run each, then the rest of the month in one run (a backfill)
    windows = [(day, day) for day in later_days if day <= WEEK_END] + [
        (WEEK_END + timedelta(days=1), later_days[-1])
    ]
    for first, last in windows:
        with warehouse.connect() as conn:
            for table in raw_tables(warehouse):
                conn.execute(
                    f"insert into raw.{table} select * from held.{table} where _partition_date between %s and %s",
                    (first, last),
                )
        warehouse.dbt("run", "--select", *DAILY, variables=window(first, last))
    return warehouse, windows


def test_day_by_day_equals_a_full_refresh(built_day_by_day):
    warehouse, windows = built_day_by_day
    assert len(windows) == 5 and windows[-1][1] > WEEK_END  # 07-02 .. 07-05, then the month's rest
    day_by_day = mart_checksums(warehouse)
    warehouse.dbt("run", "--full-refresh", "--select", *DAILY)
    full = mart_checksums(warehouse)
    assert full == day_by_day
    for mart in (
        "marts.fct_trades",
        "marts.fct_orders",
        "marts.fct_ohlcv_1m",
        "marts.fct_daily_market_summary",
    ):
        assert full[mart][0] > 0, mart


def test_a_late_correction_rebuilds_its_day_and_only_its_day(built_day_by_day):
    warehouse, _ = built_day_by_day
    before = dict(
        warehouse.query(
            "select trade_date, array_agg(xmin::text order by trade_id) from marts.fct_trades group by 1"
        )
    )
    t0013 = next(t for t in raw_rows.TRADES if t["trade_id"] == "T0013")
    # corrected on Monday 07-08, five days after it executed on 07-02: a new version in partition 07-08
    corrected_at = datetime(2024, 7, 8, 9, 0, tzinfo=UTC)
    correction = {**t0013, "price_ghs_per_t": Decimal("3145"), "updated_at": corrected_at}
    with warehouse.connect() as conn:
        raw_rows.insert(conn, "exchange__trades", [correction])

    result = warehouse.dbt("run", "--select", *DAILY, variables=window(date(2024, 7, 8), date(2024, 7, 8)))

    trades_of_day = warehouse.query("select count(*) from marts.fct_trades where trade_date = '2024-07-02'")[
        0
    ][0]
    fct_trades = next(r for r in result.result if r.node.name == "fct_trades")
    assert fct_trades.adapter_response["rows_affected"] == trades_of_day  # that day's rows, no other
    after = dict(
        warehouse.query(
            "select trade_date, array_agg(xmin::text order by trade_id) from marts.fct_trades group by 1"
        )
    )
    assert {day for day in after if after[day] != before.get(day)} == {date(2024, 7, 2)}
    assert warehouse.query("select price_ghs_per_t from marts.fct_trades where trade_id = 'T0013'") == [
        (Decimal("3145"),)
    ]
    high = warehouse.query(
        "select high_ghs_per_t from marts.fct_ohlcv_1d where instrument_id = 1 and bar_date = '2024-07-02'"
    )[0][0]
    assert high == Decimal("3145")  # above every other trade of the day: the bar saw the correction

    incremental = mart_checksums(warehouse)
    warehouse.dbt("run", "--full-refresh", "--select", *DAILY)
    assert mart_checksums(warehouse) == incremental


def test_a_build_without_a_window_rebuilds_the_days_loaded_since_the_last_one(built_day_by_day):
    warehouse, _ = built_day_by_day
    before = dict(
        warehouse.query(
            "select created_date, array_agg(xmin::text order by order_id) from marts.fct_orders group by 1"
        )
    )
    order_1002 = next(o for o in raw_rows.ORDERS if o["order_id"] == 1002)
    amended = {
        **order_1002,
        "quantity_t": Decimal("350"),
        "updated_at": datetime(2024, 7, 9, 9, 0, tzinfo=UTC),
    }
    with warehouse.connect() as conn:
        raw_rows.insert(
            conn, "exchange__orders", [amended]
        )  # loaded at 02:00 on 07-10, after every other load

    warehouse.dbt("run", "--select", *DAILY)  # a `dbt build` by hand: no partition window

    after = dict(
        warehouse.query(
            "select created_date, array_agg(xmin::text order by order_id) from marts.fct_orders group by 1"
        )
    )
    assert {day for day in after if after[day] != before.get(day)} == {date(2024, 7, 1)}
    assert warehouse.query("select quantity_t from marts.fct_orders where order_id = 1002") == [
        (Decimal("350"),)
    ]
    incremental = mart_checksums(warehouse)
    warehouse.dbt("run", "--full-refresh", "--select", *DAILY)
    assert mart_checksums(warehouse) == incremental
