"""The Dagster code location `gcx_pipelines`: the one place that builds `Definitions`.

Every asset, check, job, schedule and sensor defined at module level under gcx_pipelines/defs/ is
loaded; find one by its domain folder, each holding assets.py, checks.py, sensors.py, schedules.py
as it needs them:
  ingestion/      sources -> lake (bronze) -> warehouse raw, quarantine, landing-folder sensor
  dbt/            the dbt project's models as assets, its tests as asset checks
  quality/        Great Expectations suites and cross-layer reconciliation as asset checks
  ml/             surveillance and member-risk models: features, MLflow training, promotion, daily scores
  orchestration/  the platform-wide jobs and schedules, and the run-failure sensor
  reports/        scheduled compliance reports (daily, weekly, monthly, quarterly): PDF, XLSX, CSV, e-mail
  governance/     retention: partitions past their dataset's retention archived to the lake
The rules they run live below Dagster, in gcx/ (ingestion, quality, reports, governance) and ml/.
"""

import warnings

import dagster as dg

from gcx_pipelines import defs as domains
from gcx_pipelines.defs.dbt.assets import dbt_resource
from gcx_pipelines.resources import GcxResource

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)  # the package loader is "preview" in Dagster 1.13
    defs = dg.load_definitions_from_package_module(
        domains,
        resources={
            "gcx": GcxResource(),  # GCX_HOME, read when a run starts
            "dbt": dbt_resource(),  # names the dbt project, nothing secret
        },
    )
