"""Jobs, schedules and the run-failure sensor: when the platform's assets are materialized.

All times are Africa/Accra (= UTC, no daylight saving), GCX's own clock.

- `hourly_ingestion_schedule`: ingests the current day's partition every hour, so today's data
  reaches the warehouse's raw layer during the session.
- `end_of_day_schedule` (18:00): the day's final ingestion plus a full warehouse build (dbt).
- weekly / monthly / quarterly schedules: rebuild the executive aggregations at period end.
- `landing_folder_sensor` (in ingestion): file drops as they arrive.
- `record_run_failure`: every failed run is written to the warehouse (ops.pipeline_failures),
  where the system-health views read it.
"""

import dagster as dg

from gcx import clock
from gcx_pipelines.partitions import daily_partitions
from gcx_pipelines.resources import GcxResource

TIMEZONE = "Africa/Accra"

INGESTION = dg.AssetSelection.groups("ingestion")
WAREHOUSE = dg.AssetSelection.tag("dagster/kind/dbt", "")
EXECUTIVE = dg.AssetSelection.groups("executive")

ingestion_job = dg.define_asset_job(
    "ingestion_job",
    selection=INGESTION,
    partitions_def=daily_partitions,
    description="Extract every source for a day (or a range of days) into the lake and raw.",
)
warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=WAREHOUSE,
    description="dbt build: staging, intermediate and marts, with every dbt test.",
)
end_of_day_job = dg.define_asset_job(
    "end_of_day_job",
    selection=INGESTION | WAREHOUSE,
    partitions_def=daily_partitions,
    description="A day's final ingestion followed by a full warehouse build.",
)
executive_kpis_job = dg.define_asset_job(
    "executive_kpis_job",
    selection=EXECUTIVE.upstream(depth=1) & WAREHOUSE,
    description="Executive KPI marts (day, week, month, quarter) and the models they read.",
)


@dg.schedule(job=ingestion_job, cron_schedule="15 * * * *", execution_timezone=TIMEZONE)
def hourly_ingestion_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every hour at :15, the current day's partition (re-running it replaces it, never duplicates)."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"hourly-{context.scheduled_execution_time:%Y-%m-%dT%H}", partition_key=day)


@dg.schedule(job=end_of_day_job, cron_schedule="0 18 * * *", execution_timezone=TIMEZONE)
def end_of_day_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """18:00 Accra, after the session closes: the day's final ingestion and the warehouse build."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"eod-{day}", partition_key=day)


weekly_kpis_schedule = dg.ScheduleDefinition(
    name="weekly_kpis_schedule",
    job=executive_kpis_job,
    cron_schedule="0 6 * * 1",
    execution_timezone=TIMEZONE,
)
monthly_kpis_schedule = dg.ScheduleDefinition(
    name="monthly_kpis_schedule",
    job=executive_kpis_job,
    cron_schedule="0 6 1 * *",
    execution_timezone=TIMEZONE,
)
quarterly_kpis_schedule = dg.ScheduleDefinition(
    name="quarterly_kpis_schedule",
    job=executive_kpis_job,
    cron_schedule="0 6 1 1,4,7,10 *",
    execution_timezone=TIMEZONE,
)

PIPELINE_FAILURES_DDL = """
create schema if not exists ops;
create table if not exists ops.pipeline_failures (
    run_id      text primary key,
    job_name    text not null,
    failed_at   timestamptz not null,
    partition   text,
    failed_steps text[] not null,
    error       text
)
"""


@dg.run_failure_sensor(monitor_all_code_locations=False, default_status=dg.DefaultSensorStatus.RUNNING)
def record_run_failure(context: dg.RunFailureSensorContext, gcx: GcxResource) -> None:
    """Write every failed run to ops.pipeline_failures so the health dashboard and catalog can show it."""
    run = context.dagster_run
    failed_steps = sorted({event.step_key for event in context.get_step_failure_events() if event.step_key})
    with gcx.connect("warehouse") as conn:
        conn.execute(PIPELINE_FAILURES_DDL)
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


defs = dg.Definitions(
    jobs=[ingestion_job, warehouse_job, end_of_day_job, executive_kpis_job],
    schedules=[
        hourly_ingestion_schedule,
        end_of_day_schedule,
        weekly_kpis_schedule,
        monthly_kpis_schedule,
        quarterly_kpis_schedule,
    ],
    sensors=[record_run_failure],
)
