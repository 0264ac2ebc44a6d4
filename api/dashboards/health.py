"""System health: pipeline runs, data freshness, check results, API latency and errors.

Pipeline runs are read from Dagster's run storage with SQL: the `runs` table of the platform's
`dagster` database (dagster.yaml puts the instance's storage there), through the function
`api_read.pipeline_runs`, which the API's least-privilege role may run
(gcx/governance/api_role_dagster.sql). Not through a DagsterInstance: opening one needs
DAGSTER_HOME and the storage URL in os.environ (gcx_pipelines.instance sets them process-wide,
which a threaded web server must not do) and importing dagster costs seconds and hundreds of MB
in the API process. The columns read (run_id, pipeline_name, status, start_time, end_time,
create_timestamp) are the stable core of that table; tests/api/dashboards read it on a real
instance, so a Dagster upgrade that changes it fails there, not in production.

The rest comes from the warehouse: quality.check_results and quality.dataset_daily_quality,
ops.pipeline_failures, api.request_log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from api.dashboards import figures
from api.dashboards.figures import bars, column, layout, rows
from api.dashboards.filters import DayRange
from api.dashboards.models import AppliedFilters, Dashboard, Table, Tile
from gcx import clock
from gcx.governance import roles
from gcx.settings import Settings

HOURLY_UP_TO_DAYS = 7
"""API latency and errors per hour for ranges up to a week, per day beyond."""
RECENT_RUNS = 20
NO_RUNS = "No pipeline run recorded yet: Dagster has not run on this platform (`gcx materialize`)."


def pipeline_runs(settings: Settings, days: DayRange) -> list[dict] | None:
    """Dagster runs created in the range, oldest first; None when Dagster's storage has no runs table.
    Read as the API's role, through the one function it may run there (gcx/governance/roles.py)."""
    with psycopg.connect(roles.api_database_url(settings, database_name="dagster"), autocommit=True) as conn:
        if conn.execute("select to_regclass('public.runs')").fetchone()[0] is None:
            return None
        return rows(
            conn,
            "select run_id, job_name, status, started_at, ended_at, duration_min"
            " from api_read.pipeline_runs(%(start)s, %(end)s)",
            {"start": days.start_at().replace(tzinfo=None), "end": days.end_at().replace(tzinfo=None)},
        )


def build(conn: psycopg.Connection, settings: Settings, days: DayRange) -> Dashboard:
    scope = {"start": days.start, "end": days.end, "start_at": days.start_at(), "end_at": days.end_at()}
    runs = pipeline_runs(settings, days)
    checks = rows(
        conn,
        """
        select partition_date, count(*) filter (where passed) as passed, count(*) filter (where not passed) as failed
        from quality.check_results
        where partition_date >= %(start)s and partition_date < %(end)s
        group by partition_date
        order by partition_date
        """,
        scope,
    )
    failed_checks = rows(
        conn,
        """
        select checked_at, check_name, asset_key, partition_date, expectations_passed, expectations_total
        from quality.check_results
        where not passed and checked_at >= %(start_at)s and checked_at < %(end_at)s
        order by checked_at desc, id desc
        limit 20
        """,
        scope,
    )
    freshness = rows(
        conn,
        """
        select dataset, max(partition_date) filter (where condition <> 'missing') as newest_day,
               (array_agg(condition order by partition_date desc))[1] as newest_condition,
               count(*) filter (where condition = 'degraded') as degraded_days,
               count(*) filter (where condition = 'missing') as missing_days
        from quality.dataset_daily_quality
        group by dataset
        order by newest_day, dataset
        """,
    )
    hourly = days.days <= HOURLY_UP_TO_DAYS
    api = rows(
        conn,
        f"""
        select date_trunc('{"hour" if hourly else "day"}', requested_at) as bucket,
               count(*) as requests,
               count(*) filter (where status >= 400 and status < 500) as client_errors,
               count(*) filter (where status >= 500) as server_errors,
               percentile_cont(0.5) within group (order by latency_ms) as p50_ms,
               percentile_cont(0.95) within group (order by latency_ms) as p95_ms
        from api.request_log
        where requested_at >= %(start_at)s and requested_at < %(end_at)s
        group by bucket
        order by bucket
        """,
        scope,
    )
    api_totals = rows(
        conn,
        """
        select count(*) as requests, count(*) filter (where status >= 500) as server_errors,
               percentile_cont(0.95) within group (order by latency_ms) as p95_ms
        from api.request_log
        where requested_at >= %(start_at)s and requested_at < %(end_at)s
        """,
        scope,
    )[0]
    failures = []
    if conn.execute("select to_regclass('ops.pipeline_failures')").fetchone()[0] is not None:
        failures = rows(
            conn,
            """
            select failed_at, job_name, partition, array_to_string(failed_steps, ', ') as failed_steps,
                   left(error, 200) as error
            from ops.pipeline_failures
            where failed_at >= %(start_at)s and failed_at < %(end_at)s
            order by failed_at desc
            limit 20
            """,
            scope,
        )
    runs_in_range = runs or []
    finished = [run for run in runs_in_range if run["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
    succeeded = [run for run in finished if run["status"] == "SUCCESS"]
    last_success = max(column(succeeded, "ended_at"), default=None)
    today = clock.today()
    stale = [d for d in freshness if d["newest_day"] is None or (today - _day(d["newest_day"])).days > 1]
    tiles = [
        Tile(id="runs", label="Pipeline runs", value=len(runs_in_range)),
        Tile(
            id="failed_runs",
            label="Failed runs",
            value=sum(1 for run in finished if run["status"] == "FAILURE"),
        ),
        Tile(
            id="run_success_rate",
            label="Run success rate",
            value=round(len(succeeded) / len(finished) * 100, 1) if finished else None,
            unit="%",
            decimals=1,
        ),
        Tile(
            id="hours_since_success",
            label="Hours since the last successful run",
            value=round((clock.now() - datetime.fromisoformat(last_success)).total_seconds() / 3600, 1)
            if last_success
            else None,
            unit="h",
            decimals=1,
            note=f"ended {last_success[:16].replace('T', ' ')} UTC" if last_success else "none in this range",
        ),
        Tile(id="failed_checks", label="Failed check results", value=sum(column(checks, "failed"))),
        Tile(
            id="stale_datasets",
            label="Datasets more than a day behind",
            value=len(stale),
            note=f"of {len(freshness)} checked datasets, as of {today}",
        ),
        Tile(id="api_requests", label="API requests", value=api_totals["requests"]),
        Tile(id="api_server_errors", label="API server errors (5xx)", value=api_totals["server_errors"]),
        Tile(id="api_p95_ms", label="API latency p95", value=api_totals["p95_ms"], unit="ms", decimals=1),
    ]
    run_days: dict[tuple[str, str], int] = {}
    for run in runs_in_range:
        key = (run["status"], run["started_at"][:10])
        run_days[key] = run_days.get(key, 0) + 1
    timed = [run for run in runs_in_range if run["duration_min"] is not None]
    bucket = "hour" if hourly else "day"
    charts = [
        figures.chart(
            "runs_per_day",
            "Pipeline runs per day and status",
            bars(
                figures.series_by(
                    [{"status": s, "day": d, "runs": n} for (s, d), n in sorted(run_days.items())],
                    "status",
                    "day",
                    "runs",
                )
            ),
            layout("day", "runs", barmode="stack", days=days),
            empty=NO_RUNS if runs is None else "No pipeline run in this range.",
        ),
        figures.chart(
            "run_durations",
            "Pipeline run durations",
            [
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": job,
                    "x": [run["started_at"] for run in timed if run["job_name"] == job],
                    "y": [round(run["duration_min"], 2) for run in timed if run["job_name"] == job],
                }
                for job in sorted({run["job_name"] for run in timed})
            ],
            layout("run start (UTC)", "minutes", days=days),
            empty=NO_RUNS if runs is None else "No finished pipeline run in this range.",
        ),
        figures.chart(
            "checks_per_day",
            "Check results per data day",
            bars(
                {
                    "Passed": (column(checks, "partition_date"), column(checks, "passed")),
                    "Failed": (column(checks, "partition_date"), column(checks, "failed")),
                },
            ),
            layout("data day", "check results", barmode="stack", days=days),
        ),
        figures.chart(
            "freshness",
            f"Freshness: each dataset's newest checked day (today is {today})",
            [
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": name,
                    "x": [d["newest_day"] for d in group],
                    "y": [d["dataset"] for d in group],
                    "marker": {"size": 11, "color": colour},
                }
                for name, colour, group in (
                    (
                        "up to date (a day behind at most)",
                        "#0b6e4f",
                        [d for d in freshness if d not in stale],
                    ),
                    ("behind", "#b3261e", [d for d in stale if d["newest_day"] is not None]),
                )
                if group
            ],
            layout(
                "newest checked day",
                "",
                height=max(320, 22 * len(freshness)),
                margin={"l": 240, "r": 20, "t": 30, "b": 50},
                xaxis={
                    "title": {"text": "newest checked day"},
                    "type": "date",
                    "range": [
                        min(
                            [
                                today - timedelta(days=7),
                                *(_day(d["newest_day"]) for d in freshness if d["newest_day"]),
                            ]
                        ).isoformat(),
                        (today + timedelta(days=1)).isoformat(),
                    ],
                },
                yaxis={"automargin": True},
            ),
        ),
        figures.chart(
            "api_latency",
            f"API latency per {bucket} (ms)",
            figures.lines(
                {
                    "p50": (column(api, "bucket"), [round(v, 2) for v in column(api, "p50_ms")]),
                    "p95": (column(api, "bucket"), [round(v, 2) for v in column(api, "p95_ms")]),
                }
            ),
            layout(f"{bucket} (UTC)", "ms", days=days),
            empty="No API request in this range.",
        ),
        figures.chart(
            "api_errors",
            f"API requests and errors per {bucket}",
            bars(
                {
                    "OK": (
                        column(api, "bucket"),
                        [r["requests"] - r["client_errors"] - r["server_errors"] for r in api],
                    ),
                    "4xx": (column(api, "bucket"), column(api, "client_errors")),
                    "5xx": (column(api, "bucket"), column(api, "server_errors")),
                }
            ),
            layout(f"{bucket} (UTC)", "requests", barmode="stack", days=days),
            empty="No API request in this range.",
        ),
    ]
    tables = [
        Table(
            id="recent_runs",
            title="Latest pipeline runs",
            columns=["Run", "Job", "Status", "Started (UTC)", "Minutes"],
            rows=[
                [
                    run["run_id"][:8],
                    run["job_name"],
                    run["status"],
                    run["started_at"],
                    None if run["duration_min"] is None else round(run["duration_min"], 2),
                ]
                for run in reversed(runs_in_range[-RECENT_RUNS:])
            ],
            empty_message=NO_RUNS if runs is None else "No pipeline run in this range.",
        ),
        Table(
            id="freshness",
            title="Datasets: newest checked day and quality",
            columns=["Dataset", "Newest day", "Condition of newest day", "Degraded days", "Missing days"],
            rows=[list(record.values()) for record in freshness],
        ),
        Table(
            id="failed_checks",
            title="Latest failed check results",
            columns=["Checked at", "Check", "Asset", "Data day", "Expectations passed", "Expectations"],
            rows=[list(record.values()) for record in failed_checks],
            empty_message="No check failed in this range.",
        ),
        Table(
            id="pipeline_failures",
            title="Failed runs (ops.pipeline_failures)",
            columns=["Failed at", "Job", "Partition", "Failed steps", "Error"],
            rows=[list(record.values()) for record in failures],
            empty_message="No run failed in this range.",
        ),
    ]
    return Dashboard(
        name="health",
        title="System health",
        filters=AppliedFilters(start=days.start, end=days.end),
        tiles=tiles,
        charts=charts,
        tables=tables,
        notices=[NO_RUNS] if runs is None else [],
        rows_read=len(runs_in_range)
        + len(checks)
        + len(failed_checks)
        + len(freshness)
        + len(api)
        + len(failures),
    )


def _day(iso: str):
    return datetime.fromisoformat(iso).date()
