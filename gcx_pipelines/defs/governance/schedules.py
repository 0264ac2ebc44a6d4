"""Retention runs every night at 02:30 Accra, when nothing else runs."""

import dagster as dg

from gcx_pipelines.defs.governance.assets import archived_partitions
from gcx_pipelines.partitions import TIMEZONE

retention_job = dg.define_asset_job(
    "retention_job",
    selection=dg.AssetSelection.assets(archived_partitions),
    description="Apply the retention policy: archive partitions past their retention to the lake.",
)


@dg.schedule(job=retention_job, cron_schedule="30 2 * * *", execution_timezone=TIMEZONE)
def retention_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """02:30 Accra, when nothing else runs: the day's retention, once (run_key per day)."""
    return dg.RunRequest(run_key=f"retention-{context.scheduled_execution_time:%Y-%m-%d}")
