"""Simulator write throughput against a raw COPY of the same rows (a benchmark, not a test).

1. ``simulate`` at stress scale, timed end to end (generation, formatting, COPY into PostgreSQL,
   file drops): trades per second and exchange rows per second.
2. The same rows, dumped from the exchange tables as CSV beforehand (untimed), COPY'd straight
   into an identical empty schema (same tables, keys, foreign keys and indexes): the floor set by
   PostgreSQL alone. Also the trades table on its own.
3. The ratio simulator / raw COPY: how close generation comes to costing nothing (target >= 0.7).

It runs on a throwaway embedded PostgreSQL in a temporary GCX_HOME, so it never touches your world.

    python -m bench.simulator_throughput --trades 1000000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from gcx import database
from gcx.exchange_source import ensure_schema
from gcx.settings import Settings
from gcx.simulator import simulate
from gcx.simulator.writer import EXCHANGE_TABLES, copy_csv

START = date(2024, 1, 8)
DAYS = 28  # 20 trading days
TRADES_PER_TRADING_DAY_PER_SCALE = 36.0
"""Measured: ordinary flow (30 x listed activity share) plus episodes, per unit of scale."""
RAW_SCHEMA = "bench_raw_copy"


def _dump_tables(settings: Settings, folder: Path) -> dict[str, tuple[list[str], Path]]:
    """Each exchange table as CSV (with its column names), as PostgreSQL itself formats it."""
    dumps = {}
    with database.connect("exchange", settings=settings) as conn:
        for table in EXCHANGE_TABLES:
            names = [
                r[0]
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema = 'public' "
                    "and table_name = %s and is_generated = 'NEVER' and identity_generation is null "
                    "order by ordinal_position",
                    (table,),
                )
            ]
            path = folder / f"{table}.csv"
            with (
                path.open("wb") as out,
                conn.cursor().copy(
                    f"copy (select {', '.join(names)} from {table}) to stdout (format csv)"
                ) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
            dumps[table] = (names, path)
    return dumps


def _raw_copy(settings: Settings, dumps: dict[str, tuple[list[str], Path]]) -> tuple[float, float]:
    """COPY the dumps into an identical empty schema; returns (all tables seconds, trades seconds)."""
    with database.connect("exchange", settings=settings) as conn:
        conn.execute(f"drop schema if exists {RAW_SCHEMA} cascade")
        conn.execute(f"create schema {RAW_SCHEMA}")
        conn.execute(f"set search_path to {RAW_SCHEMA}")
        ensure_schema(conn)
        conn.commit()
        conn.execute("set synchronous_commit = off")  # as the simulator's writer does
        trades_seconds = 0.0
        began = time.perf_counter()
        for table in EXCHANGE_TABLES:
            names, path = dumps[table]
            table_began = time.perf_counter()
            copy_csv(conn, table, names, path.read_bytes())
            conn.commit()
            if table == "trades":
                trades_seconds = time.perf_counter() - table_began
        total = time.perf_counter() - began
        conn.execute(f"drop schema {RAW_SCHEMA} cascade")
        conn.commit()
    return total, trades_seconds


def main(trades: int = 1_000_000) -> dict[str, object]:
    """Run the benchmark for about ``trades`` trades and return its figures."""
    scale = trades / (TRADES_PER_TRADING_DAY_PER_SCALE * 20)
    home = Path(tempfile.mkdtemp(prefix="gcx-bench-"))
    settings = Settings(home=home, database_url=None)
    try:
        database.ensure_databases(settings)
        print(f"simulating {DAYS} days at scale {scale:,.0f} (about {trades:,} trades) ...", flush=True)
        began = time.perf_counter()
        summary = simulate(START, DAYS, seed=1, scale=scale, settings=settings)
        simulate_seconds = time.perf_counter() - began
        rows = sum(summary.tables.values())
        n_trades = summary.tables["trades"]
        print(f"  {n_trades:,} trades, {rows:,} exchange rows in {simulate_seconds:.1f} s", flush=True)

        with tempfile.TemporaryDirectory(prefix="gcx-bench-dump-") as folder:
            dumps = _dump_tables(settings, Path(folder))
            print("raw COPY of the same rows into an identical empty schema ...", flush=True)
            raw_seconds, raw_trades_seconds = _raw_copy(settings, dumps)
        figures: dict[str, object] = {
            "trades": n_trades,
            "exchange rows (all tables)": rows,
            "simulate seconds (end to end)": round(simulate_seconds, 1),
            "simulate trades/s": round(n_trades / simulate_seconds),
            "simulate exchange rows/s": round(rows / simulate_seconds),
            "raw COPY seconds (same rows, all tables)": round(raw_seconds, 1),
            "raw COPY trades/s (all tables)": round(n_trades / raw_seconds),
            "raw COPY rows/s": round(rows / raw_seconds),
            "ratio simulate / raw COPY": round(raw_seconds / simulate_seconds, 3),
            "raw COPY trades/s (trades table alone)": round(n_trades / raw_trades_seconds),
        }
        for key, value in figures.items():
            print(f"  {key:<42} {value:>14,}" if isinstance(value, int) else f"  {key:<42} {value:>14}")
        return figures
    finally:
        database.stop_embedded(settings)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=1_000_000, help="about how many trades to simulate")
    main(parser.parse_args().trades)
