"""The run-failure sensor: every failed run of this code location is written to the warehouse
(ops.pipeline_failures), where the system-health dashboard and the catalog read it. Runs that the
daemon does not see (`gcx materialize` runs them in its own process) are written by launch.py with
the same `record_failure`."""

import dagster as dg
import psycopg

from gcx import clock
from gcx_pipelines.resources import GcxResource


def record_failure(
    conn: psycopg.Connection, run: dg.DagsterRun, failed_steps: list[str], error: str | None
) -> None:
    """One row per failed run (a run recorded twice keeps its first row)."""
    conn.execute(
        """
        insert into ops.pipeline_failures (run_id, job_name, failed_at, partition, failed_steps, error)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (run_id) do nothing
        """,
        (run.run_id, run.job_name, clock.now(), run.tags.get("dagster/partition"), failed_steps, error),
    )


@dg.run_failure_sensor(monitor_all_code_locations=False, default_status=dg.DefaultSensorStatus.RUNNING)
def record_run_failure(context: dg.RunFailureSensorContext, gcx: GcxResource) -> None:
    """Write every failed run to ops.pipeline_failures so the health dashboard and catalog can show it."""
    failed_steps = sorted({event.step_key for event in context.get_step_failure_events() if event.step_key})
    with gcx.connect("warehouse") as conn:
        record_failure(conn, context.dagster_run, failed_steps, context.failure_event.message)
