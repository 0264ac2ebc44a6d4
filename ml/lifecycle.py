"""A model's way from its feature table to champion, as plain functions (MLflow's recipe steps):
`train_challenger` (or `keep_champion` when the data supports no new version), then
`evaluate_challenger`, then `promote_if_better`. Dagster's ML assets are one call each
(gcx_pipelines/defs/ml/assets.py); each returns what the asset shows as its metadata.

Both models follow the same path; `ModelKind` holds what differs. Importing this module is cheap:
scikit-learn, MLflow and matplotlib are imported by the functions that use them.
"""

from __future__ import annotations

import importlib
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from gcx import clock
from gcx.settings import Settings
from ml.names import MEMBER_RISK_MODEL, SURVEILLANCE_MODEL


def _lazy(module: str, name: str) -> Callable:
    """A function imported when first called, so that loading the code location stays fast."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


def _surveillance_labels(features: pd.DataFrame, settings: Settings, conn: psycopg.Connection) -> pd.Series:
    from ml.labels import read_episodes, surveillance_labels

    return surveillance_labels(features, read_episodes(settings.truth_dir))


def _member_risk_labels(features: pd.DataFrame, settings: Settings, conn: psycopg.Connection) -> pd.Series:
    from ml.features import load_market_data
    from ml.labels import member_risk_labels

    return member_risk_labels(features, load_market_data(conn).settlements)


@dataclass(frozen=True)
class ModelKind:
    """What differs between the two models; everything else is the same path."""

    short: str
    """surveillance | member_risk: names the feature table ml.<short>_features and the assets."""
    registered_name: str
    date_column: str
    primary_metric: str
    higher_is_better: bool
    without_champion: str
    """What scores while no version has been promoted (ml.predict.untrained)."""
    labels: Callable  # (features, settings, conn) -> labels
    readiness: Callable  # (training days, their labels) -> Readiness
    train: Callable  # (frame, labels, budget_s, seed) -> (model, trials)
    evaluate: Callable  # (model, frame, labels) -> metrics
    images: Callable  # (model, frame, labels, folder) -> paths

    @property
    def features_table(self) -> str:
        return f"{self.short}_features"


SURVEILLANCE = ModelKind(
    short="surveillance",
    registered_name=SURVEILLANCE_MODEL,
    date_column="activity_date",
    primary_metric="macro_pr_auc",
    higher_is_better=True,
    without_champion="alerts come from the rules alone",
    labels=_surveillance_labels,
    readiness=_lazy("ml.train", "surveillance_readiness"),
    train=_lazy("ml.train", "train_surveillance"),
    evaluate=_lazy("ml.evaluate", "evaluate_surveillance"),
    images=_lazy("ml.evaluate", "surveillance_images"),
)
MEMBER_RISK = ModelKind(
    short="member_risk",
    registered_name=MEMBER_RISK_MODEL,
    date_column="as_of_date",
    primary_metric="brier",
    higher_is_better=False,
    without_champion="every member scores 'insufficient history'",
    labels=_member_risk_labels,
    readiness=_lazy("ml.train", "member_risk_readiness"),
    train=_lazy("ml.train", "train_member_risk"),
    evaluate=_lazy("ml.evaluate", "evaluate_member_risk"),
    images=_lazy("ml.evaluate", "member_risk_images"),
)
KINDS = (SURVEILLANCE, MEMBER_RISK)


@dataclass(frozen=True)
class TrainingData:
    frame: pd.DataFrame
    labels: pd.Series
    split: Any
    """ml.train.TimeSplit (the same for every version), or None with too few days."""
    readiness: Any
    """ml.train.Readiness: whether the training rows support a new version, and why."""

    def rows(self, kind: ModelKind, part: str) -> tuple[pd.DataFrame, pd.Series]:
        """The frame and labels of the split's `train` or `held_out` part."""
        mask = getattr(self.split, part)(self.frame[kind.date_column])
        return self.frame[mask], self.labels[mask]


def training_data(kind: ModelKind, conn: psycopg.Connection, settings: Settings) -> TrainingData:
    from ml.tables import read_features
    from ml.train import plan_training

    frame = read_features(conn, kind.features_table)
    labels = kind.labels(frame, settings, conn)
    split, readiness = plan_training(frame[kind.date_column], labels, kind.readiness)
    return TrainingData(frame, labels, split, readiness)


def keep_champion(kind: ModelKind, why: str, conn: psycopg.Connection, settings: Settings) -> str:
    """No new version this run: nothing is left for evaluation to compare (the challenger alias
    goes), the champion stays, and ml.model_status (the catalog) says why. The note."""
    from ml import registry
    from ml.tables import record_model_status

    registry.remove_alias(kind.registered_name, registry.CHALLENGER, settings)
    champion = registry.version_by_alias(kind.registered_name, registry.CHAMPION, settings)
    kept = f"kept champion v{champion.version}" if champion else f"no champion yet: {kind.without_champion}"
    note = f"{why}: {kept}"
    record_model_status(conn, kind.registered_name, champion.version if champion else None, note, clock.now())
    return note


def train_challenger(
    kind: ModelKind, data: TrainingData, settings: Settings, budget_s: float, seed: int
) -> dict[str, Any]:
    """Train on the days before the held-out split, log the MLflow run (params, held-out metrics,
    search trials, signature, images) and register the version with alias `challenger`."""
    import mlflow

    from ml import registry

    train, train_labels = data.rows(kind, "train")
    held_out, held_out_labels = data.rows(kind, "held_out")
    model, trials = kind.train(train, train_labels, budget_s, seed)
    metrics = finite(kind.evaluate(model, held_out, held_out_labels))
    features = feature_columns(data.frame)
    registry.use_platform_tracking(settings)
    with mlflow.start_run(experiment_id=registry.experiment(kind.registered_name, settings)) as run:
        mlflow.log_params(
            {
                **{f"model_{k}": v for k, v in model.params.items()},
                "held_out_from": data.split.held_out_from.isoformat(),
                "train_rows": len(train),
                "held_out_rows": len(held_out),
                "search_budget_s": budget_s,
                "search_trials": len(trials),
                "seed": seed,
                "features_unused": ", ".join(f for f in features if f not in model.features) or "none",
            }
        )
        mlflow.log_metrics({f"held_out_{k}": v for k, v in metrics.items()})
        for number, trial in enumerate(trials):
            if not math.isnan(trial["score"]):
                mlflow.log_metric("search_validation_score", trial["score"], step=number)
        mlflow.log_dict({"trials": trials}, "search_trials.json")
        with tempfile.TemporaryDirectory() as folder:
            for path in kind.images(model, held_out, held_out_labels, Path(folder)):
                mlflow.log_artifact(str(path), artifact_path="evaluation")
        version = registry.log_model(model, kind.registered_name, data.frame[features].head(50))
    registry.set_alias(kind.registered_name, registry.CHALLENGER, str(version.version), settings)
    return {
        "trained": True,
        "reason": data.readiness.reason,
        "version": str(version.version),
        "run_id": run.info.run_id,
        "held_out_from": data.split.held_out_from.isoformat(),
        "search_trials": len(trials),
        **{f"held_out_{k}": v for k, v in metrics.items() if not k.startswith("rules_")},
    }


def evaluate_challenger(kind: ModelKind, conn: psycopg.Connection, settings: Settings) -> dict[str, Any]:
    """Score challenger and champion on the same held-out days; both figures go on the
    challenger's version (tags `evaluation.*`) and run (metrics `compare_*`)."""
    import mlflow

    from ml import registry

    challenger = registry.load_by_alias(kind.registered_name, registry.CHALLENGER, settings)
    if challenger is None:
        return {"evaluated": False, "reason": f"no challenger: ml/{kind.short}_model trained no new version"}
    champion = registry.load_by_alias(kind.registered_name, registry.CHAMPION, settings)
    data = training_data(kind, conn, settings)
    held_out, held_out_labels = data.rows(kind, "held_out")
    results = {"challenger": kind.evaluate(challenger.model, held_out, held_out_labels)}
    champion_error = None
    if champion is not None:
        try:
            results["champion"] = kind.evaluate(champion.model, held_out, held_out_labels)
        except (KeyError, ValueError) as error:  # e.g. trained on a feature set that no longer exists
            champion_error = f"champion v{champion.version} cannot score today's features: {error}"
    tags = {
        "held_out_from": data.split.held_out_from.isoformat(),
        "challenger_metric": str(results["challenger"].get(kind.primary_metric, float("nan"))),
        "champion_version": champion.version if champion else "",
        "champion_metric": str(results.get("champion", {}).get(kind.primary_metric, float("nan"))),
        "champion_error": champion_error or "",
    }
    client = registry.use_platform_tracking(settings)
    for key, value in tags.items():
        client.set_model_version_tag(kind.registered_name, challenger.version, f"evaluation.{key}", value)
    version = client.get_model_version(kind.registered_name, challenger.version)
    with mlflow.start_run(run_id=version.run_id):
        for who, metrics in results.items():
            mlflow.log_metrics({f"compare_{who}_{k}": v for k, v in finite(metrics).items()})
    return {"evaluated": True, "challenger_version": challenger.version, **tags}


def promote_if_better(kind: ModelKind, conn: psycopg.Connection, settings: Settings) -> dict[str, Any]:
    """Move `champion` to the challenger only if it beat the champion on the same held-out days
    (or there is none, or the champion can no longer score); ml.model_status records the decision."""
    from ml import registry
    from ml.tables import record_model_status

    challenger = registry.version_by_alias(kind.registered_name, registry.CHALLENGER, settings)
    champion = registry.version_by_alias(kind.registered_name, registry.CHAMPION, settings)
    if challenger is None:  # keep_champion recorded why
        return {
            "champion_version": champion.version if champion else "none",
            "promoted": False,
            "reason": "no challenger",
        }
    tags = challenger.tags
    decision = promotion_decision(
        challenger_metric=float(tags.get("evaluation.challenger_metric", "nan")),
        champion_metric=float(tags.get("evaluation.champion_metric", "nan")),
        has_champion=champion is not None and str(champion.version) != str(challenger.version),
        champion_error=tags.get("evaluation.champion_error", ""),
        higher_is_better=kind.higher_is_better,
        evaluated_against=tags.get("evaluation.champion_version", ""),
        champion_version=str(champion.version) if champion else "",
    )
    if decision.promote:
        registry.set_alias(kind.registered_name, registry.CHAMPION, str(challenger.version), settings)
    now = str(challenger.version if decision.promote else champion.version)
    note = f"challenger v{challenger.version}: {decision.reason}; champion v{now}"
    record_model_status(conn, kind.registered_name, now, note, clock.now())
    return {"champion_version": now, "promoted": decision.promote, "reason": decision.reason, "note": note}


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


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """A feature table's features: its numeric columns (keys, dates and evidence ids are not)."""
    return [c for c in frame.columns if frame[c].dtype.kind == "f"]


def finite(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None and not math.isnan(float(v))}
