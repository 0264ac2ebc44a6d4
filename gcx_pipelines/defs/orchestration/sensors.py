"""The run-failure sensor: every failed run of this code location is written to the warehouse
(ops.pipeline_failures), where the system-health dashboard and the catalog read it."""

import dagster as dg

from gcx import clock
from gcx_pipelines.resources import GcxResource


@dg.run_failure_sensor(monitor_all_code_locations=False, default_status=dg.DefaultSensorStatus.RUNNING)
def record_run_failure(context: dg.RunFailureSensorContext, gcx: GcxResource) -> None:
    """Write every failed run to ops.pipeline_failures so the health dashboard and catalog can show it."""
    run = context.dagster_run
    failed_steps = sorted({event.step_key for event in context.get_step_failure_events() if event.step_key})
    with gcx.connect("warehouse") as conn:
        conn.execute(
            """
            insert into ops.pipeline_failures (run_id, job_name, failed_at, partition, failed_steps, error)
            values (%s, %s, %s, %s, %s, %s)
            on conflict (run_id) do nothing
            """,
            (
                run.run_id,
                run.job_name,
                clock.now(),
                run.tags.get("dagster/partition"),
                failed_steps,
                context.failure_event.message,
            ),
        )
