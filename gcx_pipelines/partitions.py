"""The platform's one daily partitioning: a partition is a UTC day (Ghana keeps UTC, no DST).

`end_offset=1` makes today's partition available while the day is still running, so the hourly
ingestion can fill it as the session goes on; re-running a partition replaces it.
Every domain (ingestion, dbt, quality, reports) imports `daily_partitions` from here so that every daily asset
lines up with the ingestion partitions.
"""

from datetime import date, timedelta

import dagster as dg

daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)


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
