"""`gcx materialize` and `gcx ui`: run the platform's Dagster jobs and UI against its instance.

Runs started here are recorded in the platform's Dagster instance (dagster.yaml: storage in the
`dagster` database), so they appear in the UI's run history exactly like scheduled runs.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import date

import psycopg

from gcx import database
from gcx.settings import Settings
from gcx_pipelines.instance import PROJECT_ROOT, dagster_environment, platform_instance

EVERYTHING_JOB = "end_of_day_job"
"""Ingestion of every source for the days, then the full warehouse build with all checks."""


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date

    def __str__(self) -> str:
        return f"{self.first} .. {self.last}"


def days_with_source_data(settings: Settings) -> DayRange | None:
    """The first and last day on which any source has data: exchange changes or file drops."""
    from gcx_pipelines.defs.ingestion.datasets import DATASETS
    from gcx_pipelines.defs.ingestion.sensors import find_drop_files

    days = {drop.day for drop in find_drop_files(settings.landing_dir)}
    changed_tables = [d.name for d in DATASETS if d.file_format is None and d.partitioned_by == "updated_at"]
    with psycopg.connect(database.database_url("exchange", settings=settings)) as conn:
        existing = {
            row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public'")
        }
        for table in (name for name in changed_tables if name in existing):
            first, last = conn.execute(
                f"select min(updated_at at time zone 'UTC')::date, max(updated_at at time zone 'UTC')::date from {table}"
            ).fetchone()
            days.update(day for day in (first, last) if day is not None)
    return DayRange(min(days), max(days)) if days else None


def materialize(
    settings: Settings, start: date | None = None, end: date | None = None, job_name: str = EVERYTHING_JOB
) -> bool:
    """Materialize everything for every day in [start, end] that has source data, in one run.

    Ingestion processes the day range in a single run (single-run backfills), then dbt builds the
    warehouse once. `job_name` narrows it to one of the code location's jobs (e.g. ingestion_job).
    Returns whether the run succeeded with every check passing.
    """
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    database.ensure_databases(settings)
    found = days_with_source_data(settings)
    if found is None:
        print("No source data: run `gcx simulate` or `gcx import trades` first.")
        return False
    from gcx_pipelines.partitions import daily_partitions

    first_partition = date.fromisoformat(daily_partitions.get_first_partition_key())
    days = DayRange(
        max(start or found.first, found.first, first_partition), min(end or found.last, found.last)
    )
    if days.first > days.last:
        print(f"No source data between {start} and {end} (sources cover {found}).")
        return False
    print(f"Materializing {days} ({(days.last - days.first).days + 1} daily partitions) ...")
    with platform_instance(settings) as instance:
        from gcx_pipelines.definitions import defs

        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: days.first.isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: days.last.isoformat(),
                "gcx/launched_by": "gcx materialize",
            },
            raise_on_error=False,
        )
    failed_checks = [
        evaluation for evaluation in result.get_asset_check_evaluations() if not evaluation.passed
    ]
    for event in result.get_step_failure_events():
        print(f"FAILED step {event.step_key}: {event.event_specific_data.error.message.strip()}")
    for evaluation in failed_checks:
        print(
            f"FAILED check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({evaluation.severity.value})"
        )
    materialized = len(result.get_asset_materialization_events())
    checks = len(result.get_asset_check_evaluations())
    print(
        f"Run {result.run_id}: {'succeeded' if result.success else 'FAILED'}; {materialized} assets materialized, "
        f"{checks - len(failed_checks)}/{checks} checks passed."
    )
    return result.success and not failed_checks


def dagster_ui_command(settings: Settings, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command (run from the project root) and environment that serve the Dagster UI and daemon."""
    command = ["dagster", "dev", "--workspace", "workspace.yaml", "--host", host, "--port", str(port)]
    return command, dagster_environment(settings)


def serve_ui(settings: Settings, host: str, port: int) -> int:
    """Serve the Dagster UI (and run the daemon for schedules and sensors) until interrupted."""
    database.ensure_databases(settings)
    command, env = dagster_ui_command(settings, host, port)
    print(f"Dagster UI: http://{host}:{port}")
    try:
        return subprocess.run(command, cwd=PROJECT_ROOT, env=env).returncode
    except KeyboardInterrupt:
        return 0
