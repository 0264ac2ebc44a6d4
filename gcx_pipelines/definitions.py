"""The Dagster code location `gcx_pipelines`: the one place that builds `Definitions`.

Each domain under gcx_pipelines/defs/ exposes its own `defs`; find an asset by its domain:
  ingestion/      sources -> lake (bronze) -> warehouse raw, quarantine, landing-folder sensor
  dbt/            the dbt project's models as assets, its tests as asset checks
  quality/        Great Expectations suites and cross-layer reconciliation as asset checks
  ml/             surveillance and member-risk models: features, MLflow training, promotion, daily scores
  orchestration/  jobs, schedules and the run-failure sensor
  reports/        scheduled compliance reports (daily, weekly, monthly, quarterly): PDF, XLSX, CSV, e-mail
  governance/     retention: partitions past their dataset's retention archived to the lake
"""

import dagster as dg

from gcx_pipelines.defs import dbt, governance, ingestion, ml, orchestration, quality, reports
from gcx_pipelines.resources import GcxResource

defs = dg.Definitions.merge(
    ingestion.defs,
    dbt.defs,
    quality.defs,
    ml.defs,
    orchestration.defs,
    reports.defs,
    governance.defs,
    dg.Definitions(resources={"gcx": GcxResource(home=dg.EnvVar("GCX_HOME"))}),
)
