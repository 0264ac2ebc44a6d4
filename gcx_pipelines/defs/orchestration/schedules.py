"""The platform-wide jobs and schedules: when ingestion and the warehouse build run.

All times are Africa/Accra (= UTC, no daylight saving), GCX's own clock.

- `hourly_ingestion_schedule`: ingests the current day's partition every hour, so today's data
  reaches the warehouse's raw layer during the session.
- `end_of_day_schedule` (18:00): the day's final ingestion plus a full warehouse build (dbt).
- weekly / monthly / quarterly schedules: rebuild the executive aggregations at period end.

The landing-folder sensor is ingestion's (defs/ingestion/sensors.py); the run-failure sensor is in
sensors.py here; the ML, report and retention jobs and schedules are their domains' own.
"""

import dagster as dg

from gcx_pipelines.partitions import TIMEZONE, daily_partitions, daily_schedule

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


hourly_ingestion_schedule = daily_schedule(
    "hourly_ingestion_schedule",
    ingestion_job,
    "15 * * * *",
    "Every hour at :15, the current day's partition (re-running it replaces it, never duplicates).",
)
end_of_day_schedule = daily_schedule(
    "end_of_day_schedule",
    end_of_day_job,
    "0 18 * * *",
    "18:00 Accra, after the session closes: the day's final ingestion and the warehouse build.",
)


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
