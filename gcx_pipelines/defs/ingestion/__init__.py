"""Ingestion: GCX's sources -> the lake (bronze Parquet) -> the warehouse's raw schema and quarantine.

Per source dataset (datasets.py) a daily-partitioned bronze asset, a raw asset and a reconciliation
check; the landing-folder sensor ingests file drops as they arrive. Resources are bound in
gcx_pipelines/definitions.py (`gcx`: GcxResource).
"""

import dagster as dg

from gcx_pipelines.defs.ingestion.assets import bronze_assets, raw_assets, reconciliation_checks
from gcx_pipelines.defs.ingestion.sensors import landing_drops_job, landing_folder_sensor
from gcx_pipelines.partitions import daily_partitions

__all__ = ["daily_partitions", "defs", "landing_drops_job", "landing_folder_sensor"]

defs = dg.Definitions(
    assets=[*bronze_assets, *raw_assets],
    asset_checks=reconciliation_checks,
    sensors=[landing_folder_sensor],
    jobs=[landing_drops_job],
)
