"""Governance: the warehouse's retention policy applied every night.

  assets.py   `archived_partitions`: partitions past their dataset's retention moved to the lake's
              archive (gcx/governance/retention.py says which, and how); its job and schedule

Erasure of a platform user's personal data is a command, not a schedule: `gcx privacy erase`.
"""

import dagster as dg

from gcx_pipelines.defs.governance.assets import archived_partitions, retention_job, retention_schedule

defs = dg.Definitions(assets=[archived_partitions], jobs=[retention_job], schedules=[retention_schedule])

__all__ = ["defs", "retention_job", "retention_schedule"]
