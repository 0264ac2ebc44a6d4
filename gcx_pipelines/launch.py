"""`gcx materialize` and `gcx ui`: run the platform's Dagster jobs and UI against its instance.

Runs started here are recorded in the platform's Dagster instance (dagster.yaml: storage in the
`dagster` database), so they appear in the UI's run history exactly like scheduled runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import dagster as dg
import psycopg

from gcx import database
from gcx.settings import Settings
from gcx.warehouse.dbt import prepare_manifest
from gcx_pipelines.instance import PROJECT_ROOT, dagster_environment, platform_instance

EVERYTHING_JOB = "end_of_day_job"
"""Ingestion of every source for the days, then the full warehouse build with all checks."""
LAUNCHED_BY_TAG = "gcx/launched_by"
LIVENESS_LOCK_TAG = "gcx/liveness_lock"
"""Tag of a `gcx materialize` run: the PostgreSQL advisory lock its process holds while it runs."""
UNFINISHED = ("NOT_STARTED", "STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class DayRange:
    first: date
    last: date

    def __str__(self) -> str:
        return f"{self.first} .. {self.last}"


def days_with_source_data(settings: Settings) -> DayRange | None:
    """The first and last day on which any source has data: exchange changes or file drops."""
    from gcx.ingestion.datasets import DATASETS
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
    settings: Settings,
    start: date | None = None,
    end: date | None = None,
    job_name: str = EVERYTHING_JOB,
    verbose: bool = False,
    full_refresh: bool = False,
) -> bool:
    """Materialize everything for every day in [start, end] that has source data, in one run.

    Ingestion processes the day range in a single run (single-run backfills), then dbt builds the
    warehouse once, replacing the days the range touched in the daily marts (`full_refresh`:
    rebuilding every mart whole). `job_name` narrows it to one of the code location's jobs (e.g.
    ingestion_job). Returns whether the run succeeded with every check passing.
    """
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
    from gcx_pipelines.defs.reports.schedules import REPORTS_JOB, report_runs

    # Reports of different period kinds cannot share a job (one partitioning per job): one run per kind.
    runs = (
        report_runs(days.first, days.last)
        if job_name == REPORTS_JOB
        else [(job_name, days.first.isoformat(), days.last.isoformat())]
    )
    outcomes = [
        run_job(settings, name, first_key, last_key, verbose, full_refresh)
        for name, first_key, last_key in runs
    ]
    return all(outcomes)


SCHEMA_CHANGED = "schemas on this incremental model are out of sync"
"""What dbt says when an incremental model's columns changed (on_schema_change='fail')."""


def run_job(
    settings: Settings,
    job_name: str,
    first_key: str,
    last_key: str,
    verbose: bool = False,
    full_refresh: bool = False,
) -> bool:
    """One in-process run of a job over the partition range [first_key, last_key]; True when it
    succeeded and no check failed with severity ERROR (warnings are printed, not failures).

    The terminal shows the run's progress (gcx_pipelines/progress.py) and its summary; Dagster's
    event log goes to <GCX_HOME>/logs/ (`verbose` prints it as it happens). A failed run is recorded
    in ops.pipeline_failures, as the run-failure sensor records the daemon's runs."""
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
    from dagster._core.utils import make_new_run_id

    from gcx_pipelines.defs.dbt.assets import FULL_REFRESH_TAG
    from gcx_pipelines.defs.orchestration.sensors import record_failure
    from gcx_pipelines.progress import ProgressWatcher, write_event_log

    run_id = make_new_run_id()
    prepare_manifest()  # dbt models edited since the last parse are built as they are now
    run_config = {"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "ERROR"}}}}
    with platform_instance(settings) as instance, _liveness_lock(settings, run_id) as lock:
        from gcx_pipelines.definitions import defs

        fail_abandoned_runs(instance, settings)
        job = defs.resolve_job_def(job_name)
        tags = {ASSET_PARTITION_RANGE_START_TAG: first_key, ASSET_PARTITION_RANGE_END_TAG: last_key}
        if full_refresh:
            tags[FULL_REFRESH_TAG] = "true"
        steps = len(create_execution_plan(job, run_config=run_config, tags=tags).step_keys_to_execute)
        with ProgressWatcher(instance, run_id, steps):
            result = job.execute_in_process(
                instance=instance,
                run_id=run_id,
                run_config=run_config,
                tags={**tags, LAUNCHED_BY_TAG: "gcx materialize", LIVENESS_LOCK_TAG: str(lock)},
                raise_on_error=False,
            )
        log = write_event_log(instance, run_id, settings.home.resolve() / "logs" / f"{job_name}-{run_id}.log")
        if not result.success:
            failures = result.get_step_failure_events()
            with psycopg.connect(
                database.database_url("warehouse", settings=settings), autocommit=True
            ) as conn:
                record_failure(
                    conn,
                    result.dagster_run,
                    sorted({event.step_key for event in failures if event.step_key}),
                    failures[0].event_specific_data.error.message if failures else "the run failed",
                )
    # A check that fails with severity WARN (e.g. feature drift) is reported but does not fail the run.
    not_passed = [evaluation for evaluation in result.get_asset_check_evaluations() if not evaluation.passed]
    failed_checks = [e for e in not_passed if e.severity == dg.AssetCheckSeverity.ERROR]
    for event in result.get_step_failure_events():
        message = event.event_specific_data.error.message.strip()
        print(f"FAILED step {event.step_key}: {message}")
        if SCHEMA_CHANGED in message:
            print(
                "A daily mart's columns changed since it was built: rebuild it with `gcx materialize --full-refresh`."
            )
    for evaluation in not_passed:
        label = "FAILED" if evaluation in failed_checks else "WARNING"
        print(f"{label} check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    materialized = len(result.get_asset_materialization_events())
    checks = len(result.get_asset_check_evaluations())
    print(
        f"Run {result.run_id} ({job_name} {first_key}..{last_key}): {'succeeded' if result.success else 'FAILED'};"
        f" {materialized} assets materialized, "
        f"{checks - len(not_passed)}/{checks} checks passed, {len(not_passed) - len(failed_checks)} warned."
        f" Event log: {log}"
    )
    return result.success and not failed_checks


def _lock_id(run_id: str) -> int:
    return int(run_id.replace("-", "")[:15], 16)  # fits a bigint


@contextmanager
def _liveness_lock(settings: Settings, run_id: str) -> Iterator[int]:
    """Hold an advisory lock named after the run for as long as this process runs it: PostgreSQL
    releases it when the process ends, however it ends (even SIGKILL), so a later `gcx materialize`
    can tell a run still going from one whose process is gone (see `fail_abandoned_runs`)."""
    lock = _lock_id(run_id)
    with psycopg.connect(database.database_url("dagster", settings=settings), autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (lock,))
        yield lock


def fail_abandoned_runs(instance, settings: Settings) -> list[str]:
    """Mark FAILED the `gcx materialize` runs that are still unfinished in the run history although the
    process running them is gone (killed, crashed, machine restarted): an in-process run has no
    daemon watching it, so Dagster would show it STARTED forever. Returns their run ids."""
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

    runs = instance.get_runs(
        RunsFilter(
            statuses=[DagsterRunStatus(status) for status in UNFINISHED],
            tags={LAUNCHED_BY_TAG: "gcx materialize"},
        )
    )
    abandoned = []
    with psycopg.connect(database.database_url("dagster", settings=settings), autocommit=True) as conn:
        for run in runs:
            lock = run.tags.get(LIVENESS_LOCK_TAG)
            if (
                lock is None
                or not conn.execute("select pg_try_advisory_lock(%s)", (int(lock),)).fetchone()[0]
            ):
                continue  # a run from before the lock existed, or its process is still running it
            conn.execute("select pg_advisory_unlock(%s)", (int(lock),))
            instance.report_run_failed(
                run, "the process running it ended before the run finished (killed or crashed)"
            )
            print(f"Run {run.run_id} had been abandoned unfinished by its process: marked FAILED.")
            abandoned.append(run.run_id)
    return abandoned


def dagster_ui_command(settings: Settings, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command (run from the project root) and environment that serve the Dagster UI and daemon."""
    command = ["dagster", "dev", "--workspace", "workspace.yaml", "--host", host, "--port", str(port)]
    return command, dagster_environment(settings)


UI_STOP_GRACE_S = 30
"""How long `gcx ui` waits for dagster dev to stop after SIGINT/SIGTERM before it kills it."""


def serve_ui(settings: Settings, host: str, port: int) -> int:
    """Serve the Dagster UI (and run the daemon for schedules and sensors) until interrupted.

    `dagster dev` in a group of its own, told to stop with SIGINT (which it handles; SIGTERM it
    ignores without job control) when this process gets SIGINT or SIGTERM, from a terminal or from
    whatever started it in the background. A group still running `UI_STOP_GRACE_S` later is killed."""
    database.ensure_databases(settings)
    prepare_manifest()
    command, env = dagster_ui_command(settings, host, port)
    print(f"Dagster UI: http://{host}:{port}")
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)
    asked_to_stop: list[float] = []

    def stop(signum: int, frame: object) -> None:
        asked_to_stop.append(time.monotonic())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)

    for stopping in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stopping, stop)
    while True:
        try:
            code = process.wait(timeout=1)
            break
        except subprocess.TimeoutExpired:
            if asked_to_stop and time.monotonic() - asked_to_stop[0] > UI_STOP_GRACE_S:
                print(f"dagster dev had not stopped {UI_STOP_GRACE_S} s after the signal: killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return 0
    return 0 if code in (0, -signal.SIGINT) else code
