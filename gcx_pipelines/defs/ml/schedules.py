"""ML's jobs and schedules: surveillance and member-risk models, trained weekly and scored daily
(ml/README.md).

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
    member_risk_features,
    member_risk_scores,
    surveillance_alerts,
    surveillance_features,
)
from gcx_pipelines.partitions import TIMEZONE, daily_partitions, daily_schedule

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


daily_ml_scoring_schedule = daily_schedule(
    "daily_ml_scoring_schedule",
    ml_scoring_job,
    "0 19 * * *",
    "19:00 Accra, after the 18:00 warehouse build: the day's alerts and risk scores.",
)
