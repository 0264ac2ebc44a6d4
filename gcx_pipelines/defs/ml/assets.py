"""ML assets: features -> model (challenger) -> evaluation -> champion -> daily scores.

Per model (surveillance, member risk), built by one factory so both follow the same path:
- `ml/<model>_features`: the point-in-time feature table (ml.<model>_features), with a blocking
  expectations check;
- `ml/<model>_model`: trains on the days before the held-out split (hyperparameter search within
  a time budget), logs the MLflow run (params, metrics, signature, images) and registers a new
  version with alias `challenger`;
- `ml/<model>_evaluation`: scores challenger and champion on the same held-out days and records
  both figures on the challenger's version (tags) and run (metrics);
- `ml/<model>_champion`: moves `champion` to the challenger only if it beats the champion there;
- the daily scores (`compliance/surveillance_alerts`, `marts/member_risk_scores`), partitioned by
  day, with a PSI drift check against the champion's training window (severity WARN).
"""

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

from gcx import clock
from gcx_pipelines.partitions import daily_partitions, run_days
from gcx_pipelines.resources import GcxResource
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


@dataclass(frozen=True)
class ModelSpec:
    """What differs between the two models; everything else is the same path."""

    short: str  # surveillance | member_risk
    registered_name: str
    features_key: dg.AssetKey
    date_column: str
    primary_metric: str
    higher_is_better: bool
    labels: Callable  # (features, settings, conn) -> labels
    readiness: Callable  # (training days, their labels) -> Readiness
    without_champion: str  # what scores while no version has been promoted
    train: Callable  # (frame, labels, budget_s, seed) -> (model, trials)
    evaluate: Callable  # (model, frame, labels) -> metrics
    images: Callable  # (model, frame, labels, folder) -> paths


def _surveillance_labels(features, settings, conn):
    from ml.labels import read_episodes, surveillance_labels

    return surveillance_labels(features, read_episodes(settings.truth_dir))


def _member_risk_labels(features, settings, conn):
    from ml.features import load_market_data
    from ml.labels import member_risk_labels

    return member_risk_labels(features, load_market_data(conn).settlements)


def _lazy(module: str, name: str) -> Callable:
    """A function of ml/ imported when first called: loading the code location stays fast
    (scikit-learn, MLflow and matplotlib are imported by the runs that use them)."""

    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


SPECS = [
    ModelSpec(
        short="surveillance",
        registered_name=SURVEILLANCE_MODEL,
        features_key=SURVEILLANCE_FEATURES_KEY,
        date_column="activity_date",
        primary_metric="macro_pr_auc",
        higher_is_better=True,
        labels=_surveillance_labels,
        readiness=_lazy("ml.train", "surveillance_readiness"),
        without_champion="alerts come from the rules alone",
        train=_lazy("ml.train", "train_surveillance"),
        evaluate=_lazy("ml.evaluate", "evaluate_surveillance"),
        images=_lazy("ml.evaluate", "surveillance_images"),
    ),
    ModelSpec(
        short="member_risk",
        registered_name=MEMBER_RISK_MODEL,
        features_key=MEMBER_RISK_FEATURES_KEY,
        date_column="as_of_date",
        primary_metric="brier",
        higher_is_better=False,
        labels=_member_risk_labels,
        readiness=_lazy("ml.train", "member_risk_readiness"),
        without_champion="every member scores 'insufficient history'",
        train=_lazy("ml.train", "train_member_risk"),
        evaluate=_lazy("ml.evaluate", "evaluate_member_risk"),
        images=_lazy("ml.evaluate", "member_risk_images"),
    ),
]


def _training_data(spec: ModelSpec, gcx: GcxResource):
    """The feature table, its labels, the held-out time split (the same for every version; None
    with too few days) and whether the training rows support a new version."""
    from ml.tables import read_features
    from ml.train import plan_training

    settings = gcx.settings()
    with gcx.connect("warehouse") as conn:
        frame = read_features(conn, spec.features_key.path[-1])
        labels = spec.labels(frame, settings, conn)
    split, readiness = plan_training(frame[spec.date_column], labels, spec.readiness)
    return frame, labels, split, readiness


def _keep_champion(context: dg.AssetExecutionContext, spec: ModelSpec, gcx: GcxResource, why: str) -> str:
    """No new version this run: nothing is left for evaluation to compare (the challenger alias
    goes), the champion stays, and the catalog and the run log say why."""
    from ml import registry
    from ml.tables import record_model_status

    settings = gcx.settings()
    registry.remove_alias(spec.registered_name, registry.CHALLENGER, settings)
    champion = registry.version_by_alias(spec.registered_name, registry.CHAMPION, settings)
    kept = f"kept champion v{champion.version}" if champion else f"no champion yet: {spec.without_champion}"
    note = f"{why}: {kept}"
    with gcx.connect("warehouse") as conn:
        record_model_status(
            conn, spec.registered_name, champion.version if champion else None, note, clock.now()
        )
    context.log.warning(f"{spec.registered_name}: {note}")
    return note


def _feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature table's features: its numeric columns (keys, dates and evidence ids are not)."""
    return [c for c in frame.columns if frame[c].dtype.kind == "f"]


def _unused_features(frame: pd.DataFrame, used: list[str]) -> list[str]:
    """The features a model left out: no value in its training rows."""
    return [c for c in _feature_columns(frame) if c not in used]


def _finite(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None and not math.isnan(float(v))}


def build_model_assets(spec: ModelSpec) -> list:
    model_key = dg.AssetKey(["ml", f"{spec.short}_model"])
    evaluation_key = dg.AssetKey(["ml", f"{spec.short}_evaluation"])
    champion_key = dg.AssetKey(["ml", f"{spec.short}_champion"])

    @dg.asset(
        key=model_key,
        deps=[spec.features_key],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"mlflow", "scikitlearn"},
        description=(
            f"Registered MLflow model `{spec.registered_name}`: a new version trained on the days before "
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
        import mlflow

        from ml import registry

        settings = gcx.settings()
        frame, labels, split, readiness = _training_data(spec, gcx)
        if not readiness.ready:
            note = _keep_champion(context, spec, gcx, readiness.reason)
            return dg.MaterializeResult(metadata={"trained": False, "reason": note})
        context.log.info(f"{spec.registered_name}: {readiness.reason}")
        train_rows = split.train(frame[spec.date_column])
        model, trials = spec.train(frame[train_rows], labels[train_rows], config.search_budget_s, config.seed)
        held_out = split.held_out(frame[spec.date_column])
        metrics = spec.evaluate(model, frame[held_out], labels[held_out])
        registry.use_platform_tracking(settings)
        with mlflow.start_run(experiment_id=registry.experiment(spec.registered_name, settings)) as run:
            mlflow.log_params(
                {
                    **{f"model_{k}": v for k, v in model.params.items()},
                    "held_out_from": split.held_out_from.isoformat(),
                    "train_rows": int(train_rows.sum()),
                    "held_out_rows": int(held_out.sum()),
                    "search_budget_s": config.search_budget_s,
                    "search_trials": len(trials),
                    "seed": config.seed,
                    "features_unused": ", ".join(_unused_features(frame, model.features)) or "none",
                }
            )
            mlflow.log_metrics({f"held_out_{k}": v for k, v in _finite(metrics).items()})
            for number, trial in enumerate(trials):
                if not math.isnan(trial["score"]):
                    mlflow.log_metric("search_validation_score", trial["score"], step=number)
            mlflow.log_dict({"trials": trials}, "search_trials.json")
            with tempfile.TemporaryDirectory() as folder:
                for path in spec.images(model, frame[held_out], labels[held_out], Path(folder)):
                    mlflow.log_artifact(str(path), artifact_path="evaluation")
            version = registry.log_model(model, spec.registered_name, frame[_feature_columns(frame)].head(50))
        registry.set_alias(spec.registered_name, registry.CHALLENGER, str(version.version), settings)
        context.log.info(
            f"{spec.registered_name} v{version.version} (run {run.info.run_id}): {_finite(metrics)}"
        )
        return dg.MaterializeResult(
            metadata={
                "trained": True,
                "reason": readiness.reason,
                "version": str(version.version),
                "run_id": run.info.run_id,
                "held_out_from": split.held_out_from.isoformat(),
                "search_trials": len(trials),
                **{f"held_out_{k}": v for k, v in _finite(metrics).items() if not k.startswith("rules_")},
            }
        )

    @dg.asset(
        key=evaluation_key,
        deps=[model_key],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"mlflow"},
        description=(
            f"`{spec.registered_name}` challenger and champion scored on the same held-out days "
            f"(primary metric: {spec.primary_metric}); both figures are recorded on the challenger's "
            "version (tags) and run (metrics)."
        ),
    )
    def evaluation_asset(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        import mlflow

        from ml import registry

        settings = gcx.settings()
        challenger = registry.load_by_alias(spec.registered_name, registry.CHALLENGER, settings)
        if challenger is None:
            reason = (
                f"no challenger: {model_key.to_user_string()} trained no new version (its run log says why)"
            )
            context.log.info(f"{spec.registered_name}: {reason}")
            return dg.MaterializeResult(metadata={"evaluated": False, "reason": reason})
        champion = registry.load_by_alias(spec.registered_name, registry.CHAMPION, settings)
        frame, labels, split, _ = _training_data(spec, gcx)
        held_out = split.held_out(frame[spec.date_column])
        results = {"challenger": spec.evaluate(challenger.model, frame[held_out], labels[held_out])}
        champion_error = None
        if champion is not None:
            try:
                results["champion"] = spec.evaluate(champion.model, frame[held_out], labels[held_out])
            except (KeyError, ValueError) as error:  # e.g. trained on a feature set that no longer exists
                champion_error = f"champion v{champion.version} cannot score today's features: {error}"
        client = registry.use_platform_tracking(settings)
        version = client.get_model_version(spec.registered_name, challenger.version)
        tags = {
            "held_out_from": split.held_out_from.isoformat(),
            "challenger_metric": str(results["challenger"].get(spec.primary_metric, float("nan"))),
            "champion_version": champion.version if champion else "",
            "champion_metric": str(results.get("champion", {}).get(spec.primary_metric, float("nan"))),
            "champion_error": champion_error or "",
        }
        for key, value in tags.items():
            client.set_model_version_tag(spec.registered_name, challenger.version, f"evaluation.{key}", value)
        with mlflow.start_run(run_id=version.run_id):
            for who, metrics in results.items():
                mlflow.log_metrics({f"compare_{who}_{k}": v for k, v in _finite(metrics).items()})
        context.log.info(f"{spec.registered_name}: {tags}")
        return dg.MaterializeResult(metadata={"challenger_version": challenger.version, **tags})

    @dg.asset(
        key=champion_key,
        deps=[evaluation_key],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"mlflow"},
        description=(
            f"The `{spec.registered_name}` version with alias `champion`: the challenger is promoted "
            f"only if its held-out {spec.primary_metric} beats the champion's on the same days (or there "
            "is no champion, or the champion can no longer score the features)."
        ),
    )
    def champion_asset(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        from ml import registry
        from ml.tables import record_model_status

        settings = gcx.settings()
        challenger = registry.version_by_alias(spec.registered_name, registry.CHALLENGER, settings)
        champion = registry.version_by_alias(spec.registered_name, registry.CHAMPION, settings)
        if challenger is None:  # the model asset kept the champion and recorded why
            kept = str(champion.version) if champion else None
            return dg.MaterializeResult(
                metadata={"champion_version": kept or "none", "promoted": False, "reason": "no challenger"}
            )
        tags = challenger.tags
        decision = promotion_decision(
            challenger_metric=float(tags.get("evaluation.challenger_metric", "nan")),
            champion_metric=float(tags.get("evaluation.champion_metric", "nan")),
            has_champion=champion is not None and str(champion.version) != str(challenger.version),
            champion_error=tags.get("evaluation.champion_error", ""),
            higher_is_better=spec.higher_is_better,
            evaluated_against=tags.get("evaluation.champion_version", ""),
            champion_version=str(champion.version) if champion else "",
        )
        if decision.promote:
            registry.set_alias(spec.registered_name, registry.CHAMPION, str(challenger.version), settings)
        now = str(challenger.version if decision.promote else champion.version)
        note = f"challenger v{challenger.version}: {decision.reason}; champion v{now}"
        with gcx.connect("warehouse") as conn:
            record_model_status(conn, spec.registered_name, now, note, clock.now())
        context.log.info(f"{spec.registered_name}: {note}")
        return dg.MaterializeResult(
            metadata={"champion_version": now, "promoted": decision.promote, "reason": decision.reason}
        )

    return [model_asset, evaluation_asset, champion_asset]


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def promotion_decision(
    *,
    challenger_metric: float,
    champion_metric: float,
    has_champion: bool,
    champion_error: str,
    higher_is_better: bool,
    evaluated_against: str,
    champion_version: str,
) -> Decision:
    """Promote only when the challenger beats the champion on the same held-out days."""
    if not has_champion:
        return Decision(True, "no champion yet")
    if champion_error:
        return Decision(True, champion_error)
    if evaluated_against != champion_version:
        return Decision(
            False,
            f"evaluated against v{evaluated_against or '-'}, champion is v{champion_version}: re-evaluate",
        )
    if math.isnan(challenger_metric):
        return Decision(False, "challenger has no held-out figure (no labelled outcome in the held-out days)")
    if math.isnan(champion_metric):
        return Decision(True, "champion has no held-out figure, challenger has")
    better = challenger_metric > champion_metric if higher_is_better else challenger_metric < champion_metric
    comparison = f"challenger {challenger_metric:.4f} vs champion {champion_metric:.4f}"
    return Decision(better, f"{comparison}: {'better' if better else 'not better, champion kept'}")


# --- daily scores --------------------------------------------------------------------------------

ALERTS_KEY = dg.AssetKey(["compliance", "surveillance_alerts"])
RISK_SCORES_KEY = dg.AssetKey(["marts", "member_risk_scores"])


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
    metadata={"dagster/table_name": "warehouse.marts.member_risk_scores"},
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


MODEL_ASSETS = [asset for spec in SPECS for asset in build_model_assets(spec)]
