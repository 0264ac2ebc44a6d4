"""Data quality: Great Expectations suites on the raw and bronze layers, trades reconciled across
layers, and every result kept in the warehouse (quality.check_results, quality.dataset_daily_quality).

  suites.py          one declarative suite per raw dataset (the registry)
  validation.py      the one runner: a suite run by Great Expectations on one partition
  checks.py          the Dagster asset checks (blocking on raw) and how they pick partitions
  reconciliation.py  exchange source trades = marts.fct_trades + quarantined trades, per day
  results.py         quality.check_results, and record_check_result for other domains' checks

No resources are bound here: the checks need the `gcx` resource (GcxResource) from definitions.py.
"""

import dagster as dg

from gcx.quality.results import ensure_quality_schema, record_check_result
from gcx_pipelines.defs.quality.checks import (
    BRONZE_CHECK_NAME,
    FCT_TRADES_ASSET_KEY,
    RAW_CHECK_NAME,
    TRADES_RECONCILIATION_CHECK_NAME,
    build_quality_checks,
)


def build_defs(partitions_def: dg.PartitionsDefinition | None = None) -> dg.Definitions:
    """The quality checks; pass the ingestion's `daily_partitions` for partitioned checks (see checks.py)."""
    return dg.Definitions(asset_checks=build_quality_checks(partitions_def))


defs = build_defs()

__all__ = [
    "BRONZE_CHECK_NAME",
    "FCT_TRADES_ASSET_KEY",
    "RAW_CHECK_NAME",
    "TRADES_RECONCILIATION_CHECK_NAME",
    "build_defs",
    "defs",
    "ensure_quality_schema",
    "record_check_result",
]
