"""ML assets: features -> model (challenger) -> evaluation -> champion -> daily scores. The
lifecycle itself is plain Python in ml/lifecycle.py; each asset here is a call into it.

Per model (surveillance, member risk), built by one factory so both follow the same path:
- `ml/<model>_features`: the point-in-time feature table (ml.<model>_features), with a blocking
  expectations check;
- `ml/<model>_model`: trains on the days before the held-out split (hyperparameter search within
  a time budget), logs the MLflow run (params, metrics, signature, images) and registers a new
  version with alias `challenger`;
- `ml/<model>_evaluation`: scores challenger and champion on the same held-out days and records
  both figures on the challenger's version (tags) and run (metrics);
- `ml/<model>_champion`: moves `champion` to the challenger only if it beats the champion there;
- the daily scores (`compliance/surveillance_alerts`, `compliance/member_risk_scores`), partitioned by
  day, with a PSI drift check against the champion's training window (severity WARN).
"""

from datetime import date

import dagster as dg
import pandas as pd

from gcx_pipelines.partitions import daily_partitions, run_days
from gcx_pipelines.resources import GcxResource
from ml import lifecycle
from ml.lifecycle import ModelKind
from ml.names import MEMBER_RISK_MODEL, SURVEILLANCE_MODEL

GROUP = "ml"
OWNERS = ["team:data-science"]
MARTS = [
    dg.AssetKey(["marts", "fct_trades"]),
    dg.AssetKey(["marts", "fct_orders"]),
    dg.AssetKey(["marts", "fct_daily_market_summary"]),
    dg.AssetKey(["marts", "fct_settlements"]),
    dg.AssetKey(["marts", "dim_accounts"]),
    dg.AssetKey(["marts", "dim_members"]),
]
SURVEILLANCE_FEATURES_KEY = dg.AssetKey(["ml", "surveillance_features"])
MEMBER_RISK_FEATURES_KEY = dg.AssetKey(["ml", "member_risk_features"])
DRIFT_WINDOW_DAYS = 20
"""The drift check compares at least the last 20 trading days with the training window."""


class TrainingConfig(dg.Config):
    search_budget_s: float = 60.0
    """Wall-clock budget of the hyperparameter search."""
    seed: int = 0


# --- features ----------------------------------------------------------------------------------


@dg.asset(
    key=SURVEILLANCE_FEATURES_KEY,
    deps=MARTS,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"python", "postgres"},
)
def surveillance_features(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
    """Point-in-time surveillance features, one row per member, symbol and day with trades or
    orders (GCX instruments): self-matching, shared beneficial owners, counterparty concentration
    and trade-graph cycles, order-to-trade and cancel ratios, order size against the symbol's usual
    size, closing-minutes activity and price impact, volume and price runs and reversals against
    the symbol's own history. Table ml.surveillance_features; columns in ml/README.md."""
    from ml.features import load_market_data
    from ml.features import surveillance_features as compute
    from ml.tables import write_features

    with gcx.connect("warehouse") as conn:
        frame = compute(load_market_data(conn))
        rows = write_features(conn, "surveillance_features", frame)
    context.log.info(f"{rows} surveillance feature rows over {frame.activity_date.nunique()} days")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "days": int(frame.activity_date.nunique()),
            "dagster/table_name": "warehouse.ml.surveillance_features",
        }
    )


@dg.asset(
    key=MEMBER_RISK_FEATURES_KEY,
    deps=[*MARTS, SURVEILLANCE_FEATURES_KEY],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"python", "postgres"},
)
def member_risk_features(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
    """Point-in-time member-risk features, one row per member and trading day: settlement history
    as known that day (delays, severe delays, overdue obligations), pending exposure, traded value,
    symbol concentration and surveillance rule hits in the last 30 days. Only members active at the
    end of the day (marts.dim_members as of then): a suspended or terminated member is neither
    trained on nor scored. Table ml.member_risk_features."""
    from ml.features import load_market_data
    from ml.features import member_risk_features as compute
    from ml.predict import rule_hits_per_member_day
    from ml.tables import read_features, write_features

    with gcx.connect("warehouse") as conn:
        hits = rule_hits_per_member_day(read_features(conn, "surveillance_features"))
        frame = compute(load_market_data(conn), hits)
        rows = write_features(conn, "member_risk_features", frame)
    context.log.info(f"{rows} member-risk feature rows")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, "dagster/table_name": "warehouse.ml.member_risk_features"}
    )


@dg.asset_check(asset=surveillance_features, blocking=True)
def surveillance_features_expectations(gcx: GcxResource) -> dg.AssetCheckResult:
    """Keys present and unique, counts non-negative, shares within [0, 1], ratios finite."""
    from ml.quality import surveillance_feature_problems
    from ml.tables import read_features

    with gcx.connect("warehouse") as conn:
        problems = surveillance_feature_problems(read_features(conn, "surveillance_features"))
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": "; ".join(problems) or "none"})


@dg.asset_check(asset=member_risk_features, blocking=True)
def member_risk_features_expectations(gcx: GcxResource) -> dg.AssetCheckResult:
    """Keys present and unique, counts and amounts non-negative, rates within [0, 1]."""
    from ml.quality import member_risk_feature_problems
    from ml.tables import read_features

    with gcx.connect("warehouse") as conn:
        problems = member_risk_feature_problems(read_features(conn, "member_risk_features"))
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": "; ".join(problems) or "none"})


# --- models --------------------------------------------------------------------------------------


def build_model_assets(kind: ModelKind) -> list[dg.AssetsDefinition]:
    """The model, evaluation and champion assets of one model: each a call into ml/lifecycle.py."""
    model_key = dg.AssetKey(["ml", f"{kind.short}_model"])
    evaluation_key = dg.AssetKey(["ml", f"{kind.short}_evaluation"])
    champion_key = dg.AssetKey(["ml", f"{kind.short}_champion"])

    @dg.asset(
        key=model_key,
        deps=[dg.AssetKey(["ml", kind.features_table])],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"mlflow", "scikitlearn"},
        description=(
            f"Registered MLflow model `{kind.registered_name}`: a new version trained on the days before "
            "the held-out split (the last 30 % of days), hyperparameters searched within the time budget; "
            "the run logs params, metrics, signature and images (confusion matrix, PR curve, feature "
            "importance). The new version gets the alias `challenger`. Features with no value in the "
            "training days are left out. When the days do not support a new version (too few days, or "
            "for member risk too few known outcomes), none is trained: the champion stays, and the run "
            "log, this asset's metadata and the catalog (ml.model_status) say why."
        ),
    )
    def model_asset(
        context: dg.AssetExecutionContext, config: TrainingConfig, gcx: GcxResource
    ) -> dg.MaterializeResult:
        settings = gcx.settings()
        with gcx.connect("warehouse") as conn:
            data = lifecycle.training_data(kind, conn, settings)
            if not data.readiness.ready:
                note = lifecycle.keep_champion(kind, data.readiness.reason, conn, settings)
                context.log.warning(f"{kind.registered_name}: {note}")
                return dg.MaterializeResult(metadata={"trained": False, "reason": note})
        context.log.info(f"{kind.registered_name}: {data.readiness.reason}")
        trained = lifecycle.train_challenger(kind, data, settings, config.search_budget_s, config.seed)
        context.log.info(f"{kind.registered_name}: {trained}")
        return dg.MaterializeResult(metadata=trained)

    @dg.asset(
        key=evaluation_key,
        deps=[model_key],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"mlflow"},
        description=(
            f"`{kind.registered_name}` challenger and champion scored on the same held-out days "
            f"(primary metric: {kind.primary_metric}); both figures are recorded on the challenger's "
            "version (tags) and run (metrics)."
        ),
    )
    def evaluation_asset(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        with gcx.connect("warehouse") as conn:
            evaluated = lifecycle.evaluate_challenger(kind, conn, gcx.settings())
        context.log.info(f"{kind.registered_name}: {evaluated}")
        return dg.MaterializeResult(metadata=evaluated)

    @dg.asset(
        key=champion_key,
        deps=[evaluation_key],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"mlflow"},
        description=(
            f"The `{kind.registered_name}` version with alias `champion`: the challenger is promoted "
            f"only if its held-out {kind.primary_metric} beats the champion's on the same days (or there "
            "is no champion, or the champion can no longer score the features)."
        ),
    )
    def champion_asset(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        with gcx.connect("warehouse") as conn:
            decided = lifecycle.promote_if_better(kind, conn, gcx.settings())
        context.log.info(f"{kind.registered_name}: {decided}")
        return dg.MaterializeResult(metadata=decided)

    return [model_asset, evaluation_asset, champion_asset]


# --- daily scores --------------------------------------------------------------------------------

ALERTS_KEY = dg.AssetKey(["compliance", "surveillance_alerts"])
RISK_SCORES_KEY = dg.AssetKey(["compliance", "member_risk_scores"])


def _scored_days(context: dg.AssetExecutionContext, frame: pd.DataFrame, column: str) -> list[date]:
    """The run's days (its partition or range) that have features; the latest day when unpartitioned."""
    available = set(frame[column])
    days = run_days(context)
    if not days:
        return [max(available)] if available else []
    return sorted(day for day in days if day in available)


@dg.asset(
    key=ALERTS_KEY,
    deps=[SURVEILLANCE_FEATURES_KEY, dg.AssetKey(["ml", "surveillance_champion"])],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"python", "postgres"},
    metadata={"dagster/table_name": "warehouse.compliance.surveillance_alerts"},
)
def surveillance_alerts(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
    """Market-surveillance alerts of the day from the `gcx_surveillance` champion: pattern (wash
    trade, circular trading, spoofing, marking the close, pump and dump, or anomaly), members,
    trades, orders, score, detector (rule, model, anomaly) and the reasons, in one sentence a
    compliance officer can read. Re-scoring a day replaces its alerts."""
    from ml.predict import detect_alerts, load_scorer
    from ml.tables import read_features, replace_alerts

    settings = gcx.settings()
    loaded = load_scorer(SURVEILLANCE_MODEL, settings, refresh=True)
    with gcx.connect("warehouse") as conn:
        features = read_features(conn, "surveillance_features")
        days = _scored_days(context, features, "activity_date")
        alerts = detect_alerts(loaded, features[features.activity_date.isin(days)])
        rows = replace_alerts(conn, days, alerts)
    per_pattern = alerts.pattern.value_counts().to_dict() if rows else {}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "days_scored": len(days),
            "model_version": loaded.version,
            **{f"alerts_{k}": int(v) for k, v in per_pattern.items()},
        }
    )


@dg.asset(
    key=RISK_SCORES_KEY,
    deps=[MEMBER_RISK_FEATURES_KEY, dg.AssetKey(["ml", "member_risk_champion"])],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"python", "postgres"},
    metadata={"dagster/table_name": "warehouse.compliance.member_risk_scores"},
)
def member_risk_scores(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
    """Each active member's probability that, of its obligations due in the 7 days after the day, one
    fails (unpaid 5 days after its deadline) or at least two are paid late, from the `gcx_member_risk`
    champion, with its band (low < 10 % <= medium < 30 % <= high) and the factors that raise it.
    Re-scoring a day replaces its rows."""
    from ml.predict import load_scorer, score_members
    from ml.tables import read_features, replace_member_scores

    settings = gcx.settings()
    loaded = load_scorer(MEMBER_RISK_MODEL, settings, refresh=True)
    with gcx.connect("warehouse") as conn:
        features = read_features(conn, "member_risk_features")
        days = _scored_days(context, features, "as_of_date")
        scores = score_members(loaded, features[features.as_of_date.isin(days)])
        rows = replace_member_scores(conn, days, scores)
    bands = scores.risk_band.value_counts().to_dict() if rows else {}
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "days_scored": len(days),
            "model_version": loaded.version,
            **{f"members_{k}": int(v) for k, v in bands.items()},
        }
    )


def _drift(
    context: dg.AssetCheckExecutionContext, gcx: GcxResource, registered_name: str, table: str, column: str
) -> dg.AssetCheckResult:
    from ml.drift import PSI_WARN
    from ml.predict import load_scorer
    from ml.tables import read_features

    loaded = load_scorer(registered_name, gcx.settings())
    with gcx.connect("warehouse") as conn:
        features = read_features(conn, table)
    days = sorted(set(features[column]))
    scored = run_days(context) or days[-1:]
    last = max((d for d in days if d <= max(scored)), default=None)
    window_days = [d for d in days if d <= last][-max(DRIFT_WINDOW_DAYS, len(scored)) :] if last else []
    recent = features[features[column].isin(window_days)]
    psi = loaded.model.reference.psi(recent) if len(recent) else {}
    drifted = {name: round(value, 3) for name, value in psi.items() if value > PSI_WARN}
    return dg.AssetCheckResult(
        passed=not drifted,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "model_version": loaded.version,
            "window": f"{window_days[0]} .. {window_days[-1]}" if window_days else "none",
            "rows": len(recent),
            "max_psi": round(max(psi.values()), 4) if psi else 0.0,
            "drifted_features": ", ".join(f"{k} ({v})" for k, v in drifted.items()) or "none",
            "psi": dg.MetadataValue.json({k: round(v, 4) for k, v in psi.items()}),
        },
    )


@dg.asset_check(asset=surveillance_alerts, blocking=False)
def surveillance_feature_drift(
    context: dg.AssetCheckExecutionContext, gcx: GcxResource
) -> dg.AssetCheckResult:
    """PSI of every surveillance feature over the scored days (at least the last 20) against the
    champion's training window; warns above 0.25."""
    return _drift(context, gcx, SURVEILLANCE_MODEL, "surveillance_features", "activity_date")


@dg.asset_check(asset=member_risk_scores, blocking=False)
def member_risk_feature_drift(
    context: dg.AssetCheckExecutionContext, gcx: GcxResource
) -> dg.AssetCheckResult:
    """PSI of every member-risk feature over the scored days (at least the last 20) against the
    champion's training window; warns above 0.25."""
    return _drift(context, gcx, MEMBER_RISK_MODEL, "member_risk_features", "as_of_date")


MODEL_ASSETS = [asset for kind in lifecycle.KINDS for asset in build_model_assets(kind)]
