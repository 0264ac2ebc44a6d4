"""The platform's one daily partitioning: a partition is a UTC day (Ghana keeps UTC, no DST).

`end_offset=1` makes today's partition available while the day is still running, so the hourly
ingestion can fill it as the session goes on; re-running a partition replaces it.
Other domains (dbt, quality, reports) import `daily_partitions` from here so that every daily asset
lines up with the ingestion partitions.
"""

import dagster as dg

daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
