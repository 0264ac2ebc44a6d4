"""The raw Great Expectations checks of a backfill: one run per window of days against one per day.

Every raw dataset's loaded days in a materialized world are validated three ways, side by side:
reading the rows into pandas alone (the floor: what any validation must read), the suite day by day
(`validate_raw_partition`, how checks ran before windows), and by window (`validate_raw_days`,
how the raw checks run now). Both validations must agree on every day's outcome.

    python -m bench quality_checks --home /path/to/materialized/gcx-home
    python -m bench quality_checks --trades 20000 --days 10     # builds (or reuses) a world
"""

from __future__ import annotations

import time
from pathlib import Path

from gcx import database
from gcx.quality.suites import SUITES
from gcx.quality.validation import load_raw_partitions, validate_raw_days, validate_raw_partition
from gcx.settings import Settings


def main(home: str | None = None, trades: int = 20_000, days: int = 10) -> dict[str, object]:
    if home is None:
        from bench.reports import build_world

        settings = build_world(trades, days)
    else:
        settings = Settings(home=Path(home), database_url=None)
        database.ensure_databases(settings)
    import great_expectations  # noqa: F401 - its one-off import (seconds) stays out of the timings

    read = per_day = window = 0.0
    rows = partitions = 0
    with database.connect("warehouse", settings=settings) as conn:
        for suite in SUITES:
            loaded = [
                row[0]
                for row in conn.execute(
                    f"select distinct _partition_date from {suite.table} order by 1"
                ).fetchall()
            ]
            first = loaded[0] if loaded else None
            began = time.perf_counter()
            rows += len(load_raw_partitions(conn, suite, loaded))
            read += time.perf_counter() - began

            began = time.perf_counter()
            daily = [validate_raw_partition(conn, suite, day, day == first) for day in loaded]
            per_day += time.perf_counter() - began

            began = time.perf_counter()
            windowed = list(validate_raw_days(conn, suite, loaded, first))
            window += time.perf_counter() - began

            partitions += len(loaded)
            same = [(r.partition_date, r.rows, r.success) for r in daily] == [
                (r.partition_date, r.rows, r.success) for r in windowed
            ]
            if not same:
                raise AssertionError(f"{suite.name}: window and day-by-day results differ")
            print(
                f"{suite.name}: {len(loaded)} days, per day {per_day:.1f} s, window {window:.1f} s",
                flush=True,
            )
    return {
        "datasets": len(SUITES),
        "partitions validated": partitions,
        "rows": rows,
        "read rows into pandas s (floor)": round(read, 2),
        "suite day by day s": round(per_day, 2),
        "suite by window s": round(window, 2),
        "ratio day by day / window": round(per_day / window, 2),
        "ratio window / read floor": round(window / read, 2),
    }
