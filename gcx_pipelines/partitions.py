"""The platform's one daily partitioning and clock for schedules: a partition is a UTC day, and
schedules run in Africa/Accra time, which is UTC all year (Ghana keeps no daylight saving).

`end_offset=1` makes today's partition available while the day is still running, so the hourly
ingestion can fill it as the session goes on; re-running a partition replaces it.
Every domain (ingestion, dbt, quality, ml, reports) imports `daily_partitions` from here so that
every daily asset lines up with the ingestion partitions, and `daily_schedule` for a schedule that
runs a job for the day it fires on.
"""

from datetime import date, timedelta

import dagster as dg

TIMEZONE = "Africa/Accra"
"""GCX's own time zone: every schedule's execution_timezone."""

daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)


def daily_schedule(name: str, job, cron_schedule: str, description: str) -> dg.ScheduleDefinition:
    """A schedule that runs `job` for the day it fires on (Accra time): that day's partition, once
    per tick (the run key is the tick's minute), re-running it replaces it."""

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron_schedule,
        execution_timezone=TIMEZONE,
        description=description,
    )
    def todays_partition(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        fired_at = context.scheduled_execution_time
        return dg.RunRequest(
            run_key=f"{name}-{fired_at:%Y-%m-%dT%H:%M}", partition_key=fired_at.date().isoformat()
        )

    return todays_partition


def run_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The days a run covers: its one partition, or each day of its partition range.

    Daily assets process a range in a single run (BackfillPolicy.single_run), so a 90-day backfill
    is one run with one step per asset rather than 90 runs; `gcx materialize` relies on that.
    Empty when the run has no partition (a check launched on its own).
    """
    if context.has_partition_key:
        return [date.fromisoformat(context.partition_key)]
    if context.has_partition_key_range:
        key_range = context.partition_key_range
        first, last = date.fromisoformat(key_range.start), date.fromisoformat(key_range.end)
        return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    return []
