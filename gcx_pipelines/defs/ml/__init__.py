"""ML: surveillance and member-risk models, trained weekly and scored daily (ml/README.md).

- `ml_job`: everything, features -> train -> evaluate -> promote -> score; `gcx materialize
  --job ml_job` runs it after the warehouse build and scores every day of its range.
- `ml_training_job` + `weekly_ml_training_schedule` (Sunday 20:00 Africa/Accra): features and
  a new challenger for both models, evaluated and promoted only if it beats the champion.
- `ml_scoring_job` + `daily_ml_scoring_schedule` (19:00, after the 18:00 warehouse build): the
  day's alerts and member-risk scores with the current champion, and the drift checks.
"""

import dagster as dg

from gcx_pipelines.defs.ml.assets import (
    MODEL_ASSETS,
    member_risk_feature_drift,
    member_risk_features,
    member_risk_features_expectations,
    member_risk_scores,
    surveillance_alerts,
    surveillance_feature_drift,
    surveillance_features,
    surveillance_features_expectations,
)
from gcx_pipelines.partitions import daily_partitions

TIMEZONE = "Africa/Accra"
FEATURES = dg.AssetSelection.assets(surveillance_features, member_risk_features)
SCORES = dg.AssetSelection.assets(surveillance_alerts, member_risk_scores)
MODELS = dg.AssetSelection.assets(*MODEL_ASSETS)

ml_job = dg.define_asset_job(
    "ml_job",
    selection=FEATURES | MODELS | SCORES,
    partitions_def=daily_partitions,
    description="Features, training, evaluation, promotion and scoring of both models for a day or a range.",
)
ml_training_job = dg.define_asset_job(
    "ml_training_job",
    selection=FEATURES | MODELS,
    description="Features and a new challenger of both models, promoted only if it beats the champion.",
)
ml_scoring_job = dg.define_asset_job(
    "ml_scoring_job",
    selection=FEATURES | SCORES,
    partitions_def=daily_partitions,
    description="The day's surveillance alerts and member-risk scores with the champions.",
)

weekly_ml_training_schedule = dg.ScheduleDefinition(
    name="weekly_ml_training_schedule",
    job=ml_training_job,
    cron_schedule="0 20 * * 0",
    execution_timezone=TIMEZONE,
)


@dg.schedule(job=ml_scoring_job, cron_schedule="0 19 * * *", execution_timezone=TIMEZONE)
def daily_ml_scoring_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """19:00 Accra, after the 18:00 warehouse build: the day's alerts and risk scores."""
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"ml-scoring-{day}", partition_key=day)


defs = dg.Definitions(
    assets=[
        surveillance_features,
        member_risk_features,
        *MODEL_ASSETS,
        surveillance_alerts,
        member_risk_scores,
    ],
    asset_checks=[
        surveillance_features_expectations,
        member_risk_features_expectations,
        surveillance_feature_drift,
        member_risk_feature_drift,
    ],
    jobs=[ml_job, ml_training_job, ml_scoring_job],
    schedules=[weekly_ml_training_schedule, daily_ml_scoring_schedule],
)
