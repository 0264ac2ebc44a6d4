"""Compliance report generation at stress scale (about ``trades`` trades over 20 trading days).

A simulated world (seed 1, bad rate 1 % as in ``make demo``) is materialized once with
``gcx materialize`` and kept in ``<tmp>/gcx-bench-reports-<trades>-<days>/`` (delete the folder to
rebuild it; building 1M trades takes about 15 minutes, the report timing a minute). Then each
report kind is generated for its busiest period in the world (the daily report for the day with
the most large trades, the weekly one for the first full week, the monthly and quarterly ones for
the period holding the start), timed per stage: mart queries, charts, PDF, XLSX + CSV, and the
atomic write into the archive. Rows and PDF pages are reported next to the times. For worlds of
up to 120 days, also `gcx materialize --job compliance_reports_job`: every day's report in one run.

    python -m bench reports --trades 1000000      # stress scale
    python -m bench reports --trades 720 --days 90    # `make demo` scale (1.0) over 90 days
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.simulator_throughput import DAYS, START, TRADES_PER_TRADING_DAY_PER_SCALE
from gcx import database
from gcx.reports import archive
from gcx.settings import Settings

BAD_RATE = 0.01
BUILT_MARKER = "bench-world-built"


def build_world(trades: int, days: int) -> Settings:
    """The simulated world, materialized; reused when a previous run finished building it."""
    from gcx.simulator import simulate
    from gcx_pipelines.launch import materialize

    home = Path(tempfile.gettempdir()) / f"gcx-bench-reports-{trades}-{days}"
    settings = Settings(home=home, database_url=None)
    if (home / BUILT_MARKER).exists():
        print(f"reusing the world in {home}", flush=True)
        database.ensure_databases(settings)
        return settings
    home.mkdir(parents=True, exist_ok=True)
    database.ensure_databases(settings)
    scale = trades / (TRADES_PER_TRADING_DAY_PER_SCALE * 20)
    print(f"simulating {days} days at scale {scale:,.1f} (about {trades:,} trades) in {home} ...", flush=True)
    simulate(START, days, seed=1, scale=scale, bad_rate=BAD_RATE, settings=settings)
    began = time.perf_counter()
    if not materialize(settings):
        raise RuntimeError("gcx materialize failed: the world is not built")
    print(f"materialized in {time.perf_counter() - began:.0f} s", flush=True)
    (home / BUILT_MARKER).write_text("ok\n")
    return settings


def _busiest_day(settings: Settings, first: date, last: date) -> date:
    with database.connect("warehouse", settings=settings) as conn:
        row = conn.execute(
            """
            select compliance_date from compliance.fct_compliance_daily
            where compliance_date between %s and %s
            order by large_trade_count desc, compliance_date limit 1
            """,
            (first, last),
        ).fetchone()
    return row[0] if row else last


def main(trades: int = 1_000_000, days: int = DAYS) -> dict[str, object]:
    """Build (or reuse) the world, then time one report of each kind and return the figures."""
    from gcx.reports.build import generate_report

    settings = build_world(trades, days)
    try:
        last = START + timedelta(days=days - 1)
        first_monday = START + timedelta(days=(7 - START.weekday()) % 7)
        periods = {
            "daily": archive.period_of("daily", _busiest_day(settings, START, last)),
            "weekly": archive.period_of("weekly", first_monday),
            "monthly": archive.period_of("monthly", START),
            "quarterly": archive.period_of("quarterly", START),
        }
        figures: dict[str, object] = {"trades (scale)": trades, "simulated days": days}
        for kind, period in periods.items():
            print(f"{kind} report {period.name} ...", flush=True)
            began = time.perf_counter()
            generated = generate_report(settings, period)
            wall = time.perf_counter() - began
            figures[f"{kind} {period.name}: total s"] = round(wall, 2)
            for stage, seconds in generated.timings.items():
                figures[f"{kind}: {stage} s"] = round(seconds, 2)
            figures[f"{kind}: rows (all sections)"] = sum(s.count or 0 for s in generated.report.sections)
            figures[f"{kind}: PDF pages"] = generated.pdf_pages
            figures[f"{kind}: PDF KiB"] = round(generated.files["pdf"].stat().st_size / 1024)
            figures[f"{kind}: XLSX KiB"] = round(generated.files["xlsx"].stat().st_size / 1024)
            print(f"  {wall:.1f} s {generated.timings}", flush=True)
        if days <= 120:  # what `make demo` adds: every day's report in one run, as the Dagster job makes them
            from gcx_pipelines.defs.reports.schedules import REPORTS_JOB
            from gcx_pipelines.launch import materialize

            print(f"gcx materialize --job {REPORTS_JOB} over all {days} days ...", flush=True)
            began = time.perf_counter()
            succeeded = materialize(settings, job_name=REPORTS_JOB)
            figures[f"gcx materialize --job {REPORTS_JOB} (every day) succeeded"] = (
                "yes" if succeeded else "NO"
            )
            figures[f"gcx materialize --job {REPORTS_JOB} (every day) s"] = round(
                time.perf_counter() - began, 1
            )
        return figures
    finally:
        database.stop_embedded(settings)
