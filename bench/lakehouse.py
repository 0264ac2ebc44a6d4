"""The lakehouse end to end at stress scale, and its bar building against DuckDB over the lake.

1. ``gcx_pipelines.launch.materialize`` of a simulated world of about ``trades`` trades over 20
   trading days (28 calendar days, bad rate 1 % as in ``make demo``): ingestion of every source and
   day into the lake and raw with every check, then the whole dbt build with its tests, in one
   Dagster run. Wall time, source rows/s (every exchange row and file-drop line ingested, from
   ``raw.ingestion_log``) and trades/s; the slowest steps from the run's step statistics.
2. Re-materializing the last day only: one day's ingestion and the incremental dbt build.
3. 1-minute bars: dbt's ``fct_ohlcv_1m`` (rebuilt with ``dbt run --full-refresh`` in process,
   after ``fct_trades``, each model's own time from dbt's results) against one DuckDB query over
   the lake's Parquet (``lake/exchange/trades/date=*/part-0.parquet``, every row as received) that
   does the same work from the same rows: drops the rows ingestion quarantined (their keys exported
   from ``raw.quarantine``), keeps each trade's latest version, the valid trades of known
   instruments, and builds open/high/low/close (first/last by ``(executed_at, trade_id)``),
   volume, value, VWAP (rounded half away from zero to 6 decimals) and trade count per instrument
   and minute, stamped at the minute's start. The two bar sets are compared column by column:
   a speed comparison only counts if ``bars mismatching`` is 0. For contrast, the same query with
   only the obvious filter (positive price and quantity, an execution time on the file's day)
   instead of the quarantine shows what skipping the platform's rules would get wrong.

It runs on a throwaway embedded PostgreSQL in a temporary GCX_HOME, so it never touches your world.

    python -m bench.lakehouse --trades 1000000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from contextlib import closing
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from bench.simulator_throughput import DAYS, START, TRADES_PER_TRADING_DAY_PER_SCALE
from gcx import database
from gcx.settings import Settings
from gcx.simulator import simulate
from gcx_pipelines.instance import platform_instance

BAD_RATE = 0.01
"""As `make demo`: the quarantine is exercised, so the DuckDB side has to honour it."""
BAR_COLUMNS = (
    "symbol",
    "open_ghs_per_t",
    "high_ghs_per_t",
    "low_ghs_per_t",
    "close_ghs_per_t",
    "vwap_ghs_per_t",
    "volume_t",
    "value_ghs",
    "trade_count",
)
"""Compared per (instrument_id, bar_start_at); bar_end_at and bar_date follow from the start."""

# ---------------------------------------------------------------------------------------------
# DuckDB over the lake


def _valid_latest(lake: Path, dataset: str, key: str) -> str:
    """SQL: the latest version of each record of an exchange dataset in the lake, as raw and
    staging keep it: rows ingestion quarantined left out, then the latest ``updated_at`` per key
    (ties to the later partition, then the later row: latest_version.sql orders by _loaded_at)."""
    files = (lake / "exchange" / dataset / "date=*" / "part-0.parquet").as_posix()
    return f"""
        select * exclude (version_rank) from (
            select
                rows.*,
                row_number() over (
                    partition by rows.{key}
                    order by rows.updated_at desc nulls last, rows.partition_date desc, rows._source_row desc
                ) as version_rank
            from (
                select *, cast("date" as date) as partition_date
                from read_parquet('{files}', hive_partitioning = true)
            ) as rows
            anti join quarantined
                on quarantined.dataset = '{dataset}'
                and quarantined.partition_date = rows.partition_date
                and quarantined.source_row = rows._source_row
        )
        where version_rank = 1
    """


def _bars_sql(trades: str) -> str:
    """SQL: 1-minute bars from `trades` (instrument_id, symbol, trade_id, executed_at, price, qty),
    as macros/ohlcv_bars.sql defines them. Value and VWAP are computed exactly in integers
    (prices and quantities have 4 decimals): value in 1e-8 GHS, VWAP in 1e-6 rounded half up."""
    return f"""
        with trades as (
            select
                instrument_id,
                symbol,
                trade_id,
                executed_at,
                price_ghs_per_t,
                quantity_t,
                cast(price_ghs_per_t * 10000 as hugeint) * cast(quantity_t * 10000 as hugeint) as value_units,
                cast(quantity_t * 10000 as hugeint) as quantity_units,
                date_trunc('minute', executed_at) as bar_start_at
            from ({trades})
        ),
        bars as (
            select
                instrument_id,
                bar_start_at,
                any_value(symbol) as symbol,
                arg_min(price_ghs_per_t, struct_pack(t := executed_at, id := trade_id)) as open_ghs_per_t,
                max(price_ghs_per_t) as high_ghs_per_t,
                min(price_ghs_per_t) as low_ghs_per_t,
                arg_max(price_ghs_per_t, struct_pack(t := executed_at, id := trade_id)) as close_ghs_per_t,
                sum(quantity_units) as volume_units,
                sum(value_units) as value_units,
                count(*) as trade_count
            from trades
            group by instrument_id, bar_start_at
        )
        select
            instrument_id,
            symbol,
            bar_start_at,
            epoch_us(bar_start_at) as bar_start_us,
            open_ghs_per_t,
            high_ghs_per_t,
            low_ghs_per_t,
            close_ghs_per_t,
            cast((value_units * 200 + volume_units) // (2 * volume_units) as decimal(20, 0))
                * cast(0.000001 as decimal(7, 6)) as vwap_ghs_per_t,
            cast(volume_units as decimal(24, 0)) * cast(0.0001 as decimal(5, 4)) as volume_t,
            cast(value_units as decimal(28, 0)) * cast(0.00000001 as decimal(9, 8)) as value_ghs,
            trade_count
        from bars
    """


def duckdb_bars_sql(lake: Path) -> str:
    """The platform's 1m bars from the lake: quarantine honoured, latest versions, valid trades."""
    trades = f"""
        select trades.instrument_id, instruments.symbol, trades.trade_id, trades.executed_at,
            trades.price_ghs_per_t, trades.quantity_t
        from ({_valid_latest(lake, "trades", "trade_id")}) as trades
        join ({_valid_latest(lake, "instruments", "instrument_id")}) as instruments
            on trades.instrument_id = instruments.instrument_id
        where trades.executed_at is not null and trades.price_ghs_per_t > 0 and trades.quantity_t > 0
    """
    return _bars_sql(trades)


def naive_bars_sql(lake: Path) -> str:
    """1m bars from every lake row with a positive price and quantity and an execution time on the
    file's day: what reading the lake without the platform's rules gives."""
    trades_files = (lake / "exchange" / "trades" / "date=*" / "part-0.parquet").as_posix()
    instruments_files = (lake / "exchange" / "instruments" / "date=*" / "part-0.parquet").as_posix()
    trades = f"""
        select trades.instrument_id, instruments.symbol, trades.trade_id, trades.executed_at,
            trades.price_ghs_per_t, trades.quantity_t
        from read_parquet('{trades_files}', hive_partitioning = true) as trades
        join (
            select instrument_id, arg_max(symbol, updated_at) as symbol
            from read_parquet('{instruments_files}', hive_partitioning = true)
            group by instrument_id
        ) as instruments on trades.instrument_id = instruments.instrument_id
        where trades.price_ghs_per_t > 0 and trades.quantity_t > 0
            and cast(trades.executed_at as date) = cast(trades."date" as date)
    """
    return _bars_sql(trades)


def _mismatches(con: duckdb.DuckDBPyConnection, left: str, right: str) -> int:
    """Bars present on one side only, or differing in any compared column."""
    differs = " or ".join(f"l.{c} is distinct from r.{c}" for c in BAR_COLUMNS)
    query = f"""
        from {left} as l full outer join {right} as r
            on l.instrument_id = r.instrument_id and l.bar_start_us = r.bar_start_us
        where l.instrument_id is null or r.instrument_id is null or {differs}
    """
    count = con.execute(f"select count(*) {query}").fetchone()[0]
    if count:
        columns = ", ".join(
            f"l.{c} as {left}_{c}, r.{c} as {right}_{c}" for c in ("bar_start_us", *BAR_COLUMNS)
        )
        print(f"  {count:,} bars differ between {left} and {right}; for example:")
        for row in con.execute(
            f"select l.instrument_id, r.instrument_id, {columns} {query} limit 3"
        ).fetchall():
            print(f"    {row}")
    return count


# ---------------------------------------------------------------------------------------------
# The warehouse side


def _export(settings: Settings, query: str, path: Path) -> None:
    """COPY a warehouse query's rows to a CSV file."""
    with database.connect("warehouse", settings=settings) as conn:
        conn.execute("set time zone 'UTC'")
        with path.open("wb") as out, conn.cursor().copy(f"copy ({query}) to stdout (format csv)") as copy:
            for chunk in copy:
                out.write(chunk)


def _warehouse_bars(settings: Settings, con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """marts.fct_ohlcv_1m as the DuckDB table `dbt_bars`, bar starts in epoch microseconds (exact)."""
    path = folder / "fct_ohlcv_1m.csv"
    _export(
        settings,
        "select instrument_id, symbol, (extract(epoch from bar_start_at) * 1000000)::bigint, "
        "open_ghs_per_t, high_ghs_per_t, low_ghs_per_t, close_ghs_per_t, vwap_ghs_per_t, volume_t, "
        "value_ghs, trade_count from marts.fct_ohlcv_1m",
        path,
    )
    types = {
        "instrument_id": "integer",
        "symbol": "varchar",
        "bar_start_us": "bigint",
        "open_ghs_per_t": "decimal(14, 4)",
        "high_ghs_per_t": "decimal(14, 4)",
        "low_ghs_per_t": "decimal(14, 4)",
        "close_ghs_per_t": "decimal(14, 4)",
        "vwap_ghs_per_t": "decimal(20, 6)",
        "volume_t": "decimal(18, 4)",
        "value_ghs": "decimal(24, 8)",
        "trade_count": "bigint",
    }
    con.execute(
        f"""
        create table dbt_bars as
        select * from read_csv('{path.as_posix()}', header = false, columns = {types!r}, quote = '"')
        """
    )


def _quarantined_keys(settings: Settings) -> pa.Table:
    """(dataset, partition_date, source_row) of every exchange row ingestion quarantined."""
    with database.connect("warehouse", settings=settings) as conn:
        rows = conn.execute(
            "select dataset, partition_date, source_row from raw.quarantine "
            "where source = 'exchange' and dataset in ('trades', 'instruments')"
        ).fetchall()
    names = ["dataset", "partition_date", "source_row"]
    return pa.table(
        {name: [row[i] for row in rows] for i, name in enumerate(names)},
        schema=pa.schema(
            [("dataset", pa.string()), ("partition_date", pa.date32()), ("source_row", pa.int32())]
        ),
    )


def _dbt_rebuild_bars(settings: Settings, folder: Path) -> dict[str, float]:
    """`dbt run --select fct_trades fct_ohlcv_1m --full-refresh` in process; seconds per model and
    the invocation's wall time (parse included). Artifacts go to `folder`, not the checkout."""
    from dbt.cli.main import dbtRunner

    from gcx.warehouse.dbt import PROJECT_DIR
    from gcx_pipelines.project import dbt_env, environment

    args = [
        "run",
        "--select",
        "fct_trades fct_ohlcv_1m",
        "--full-refresh",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(folder / "target"),
        "--log-path",
        str(folder / "logs"),
        "--quiet",
    ]
    with environment(dbt_env(settings)):
        began = time.perf_counter()
        result = dbtRunner().invoke(args)
        wall = time.perf_counter() - began
    if not result.success:
        raise RuntimeError(f"dbt run failed: {result.exception or result.result}")
    seconds = {node.node.name: node.execution_time for node in result.result.results}
    return {**seconds, "wall": wall}


def _step_seconds(settings: Settings) -> dict[str, float]:
    """Seconds per step of the instance's latest run (materialize records its runs there)."""
    with platform_instance(settings) as instance:
        run = instance.get_runs(limit=1)[0]
        return {
            stats.step_key: (stats.end_time or 0) - (stats.start_time or 0)
            for stats in instance.get_run_step_stats(run.run_id)
        }


def _dagster_model_seconds(settings: Settings, model: str) -> float | None:
    """dbt's execution time of a model in its latest materialization (dagster-dbt's metadata)."""
    import dagster as dg

    with platform_instance(settings) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", model]))
    if event is None or event.asset_materialization is None:
        return None
    duration = event.asset_materialization.metadata.get("Execution Duration")
    return None if duration is None else float(duration.value)


def _ingested(settings: Settings, day: date | None = None) -> dict[str, int]:
    """Source rows, raw rows, quarantined rows and source trades in raw.ingestion_log."""
    where = "" if day is None else "where partition_date = %s"
    with database.connect("warehouse", settings=settings) as conn:
        counts = conn.execute(
            f"select sum(source_rows), sum(raw_rows), sum(quarantined_rows), "
            f"sum(source_rows) filter (where source = 'exchange' and dataset = 'trades') "
            f"from raw.ingestion_log {where}",
            () if day is None else (day,),
        ).fetchone()
    return dict(zip(("source", "raw", "quarantined", "trades"), (int(n or 0) for n in counts), strict=True))


def _print_steps(steps: dict[str, float], top: int = 6) -> None:
    dbt = sum(s for key, s in steps.items() if "dbt" in key)
    print(f"  {len(steps)} steps; slowest:", flush=True)
    for key, seconds in sorted(steps.items(), key=lambda item: -item[1])[:top]:
        print(f"    {seconds:8.1f} s  {key}", flush=True)
    print(f"    dbt steps {dbt:.1f} s, the rest {sum(steps.values()) - dbt:.1f} s", flush=True)


# ---------------------------------------------------------------------------------------------


def main(trades: int = 1_000_000, days: int = DAYS) -> dict[str, object]:
    """Run the benchmark for about ``trades`` trades and return its figures (``days``: fewer
    calendar days for a quick smoke run; the trade rate per day stays that of ``trades``)."""
    from gcx_pipelines.launch import days_with_source_data, materialize

    scale = trades / (TRADES_PER_TRADING_DAY_PER_SCALE * 20)
    home = Path(tempfile.mkdtemp(prefix="gcx-bench-"))
    settings = Settings(home=home, database_url=None)
    try:
        database.ensure_databases(settings)
        print(f"simulating {days} days at scale {scale:,.0f} (about {trades:,} trades) ...", flush=True)
        began = time.perf_counter()
        summary = simulate(START, days, seed=1, scale=scale, bad_rate=BAD_RATE, settings=settings)
        simulate_seconds = time.perf_counter() - began
        print(f"  {summary.tables['trades']:,} trades in {simulate_seconds:.1f} s", flush=True)

        # 1. everything, every day
        began = time.perf_counter()
        full_ok = materialize(settings)
        full_seconds = time.perf_counter() - began
        full_steps = _step_seconds(settings)
        _print_steps(full_steps)
        ingested = _ingested(settings)
        dagster_1m_full = _dagster_model_seconds(settings, "fct_ohlcv_1m")

        # 2. the last day again: its ingestion and the incremental dbt build
        found = days_with_source_data(settings)
        assert found is not None
        last_day = found.last
        began = time.perf_counter()
        day_ok = materialize(settings, start=last_day, end=last_day)
        day_seconds = time.perf_counter() - began
        day_steps = _step_seconds(settings)
        _print_steps(day_steps)
        day_ingested = _ingested(settings, last_day)
        dagster_1m_day = _dagster_model_seconds(settings, "fct_ohlcv_1m")

        # 3. 1m bars: dbt against DuckDB over the lake
        with tempfile.TemporaryDirectory(prefix="gcx-bench-bars-") as scratch:
            folder = Path(scratch)
            print("dbt run --full-refresh fct_trades fct_ohlcv_1m ...", flush=True)
            dbt_seconds = _dbt_rebuild_bars(settings, folder)
            with closing(duckdb.connect()) as con:
                con.execute("set TimeZone = 'UTC'")
                began = time.perf_counter()
                con.register("quarantined", _quarantined_keys(settings))
                export_seconds = time.perf_counter() - began
                print("DuckDB 1m bars over the lake ...", flush=True)
                began = time.perf_counter()
                con.execute(f"create table lake_bars as {duckdb_bars_sql(settings.lake_dir)}")
                duckdb_seconds = time.perf_counter() - began
                began = time.perf_counter()
                con.execute(f"create table naive_bars as {naive_bars_sql(settings.lake_dir)}")
                naive_seconds = time.perf_counter() - began
                _warehouse_bars(settings, con, folder)
                bars = con.execute("select count(*) from dbt_bars").fetchone()[0]
                lake_bars = con.execute("select count(*) from lake_bars").fetchone()[0]
                mismatching = _mismatches(con, "lake_bars", "dbt_bars")
                naive_mismatching = _mismatches(con, "naive_bars", "dbt_bars")

        figures: dict[str, object] = {
            "trades (source)": ingested["trades"],
            "source rows ingested (exchange rows + drop lines)": ingested["source"],
            "rows quarantined": ingested["quarantined"],
            "simulate s": round(simulate_seconds, 1),
            "materialize succeeded": "yes" if full_ok else "NO",
            "materialize wall s": round(full_seconds, 1),
            "source rows/s end to end": round(ingested["source"] / full_seconds),
            "trades/s end to end": round(ingested["trades"] / full_seconds),
            "materialize dbt step s": round(sum(s for k, s in full_steps.items() if "dbt" in k), 1),
            "dbt fct_ohlcv_1m s (in materialize, first build)": round(dagster_1m_full or float("nan"), 1),
            "one-day materialize succeeded": "yes" if day_ok else "NO",
            "one-day materialize wall s": round(day_seconds, 1),
            "one-day source rows": day_ingested["source"],
            "one-day dbt step s": round(sum(s for k, s in day_steps.items() if "dbt" in k), 1),
            "dbt fct_ohlcv_1m s (in one-day materialize, incremental)": round(
                dagster_1m_day or float("nan"), 1
            ),
            "dbt fct_trades s (full)": round(dbt_seconds["fct_trades"], 1),
            "dbt fct_ohlcv_1m s (full refresh)": round(dbt_seconds["fct_ohlcv_1m"], 1),
            "dbt run wall s (parse + both models)": round(dbt_seconds["wall"], 1),
            "quarantine keys export s": round(export_seconds, 2),
            "duckdb 1m bars s (lake -> bars, quarantine honoured)": round(duckdb_seconds, 2),
            "ratio dbt (fct_trades + fct_ohlcv_1m) / duckdb": round(
                (dbt_seconds["fct_trades"] + dbt_seconds["fct_ohlcv_1m"]) / duckdb_seconds, 1
            ),
            "1m bars (dbt)": bars,
            "1m bars (duckdb)": lake_bars,
            "bars mismatching": mismatching,
            "duckdb naive-filter 1m bars s": round(naive_seconds, 2),
            "bars mismatching (naive filter, quarantine ignored)": naive_mismatching,
        }
        print()
        for key, value in figures.items():
            print(f"  {key:<58} {value:>14,}" if isinstance(value, int) else f"  {key:<58} {value:>14}")
        return figures
    finally:
        database.stop_embedded(settings)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=1_000_000, help="about how many trades to simulate")
    parser.add_argument("--days", type=int, default=DAYS, help="calendar days (fewer for a smoke run)")
    arguments = parser.parse_args()
    main(arguments.trades, arguments.days)
