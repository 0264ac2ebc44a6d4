"""Evaluation on held-out days: per-pattern precision, recall and PR-AUC, precision at the top k
rows a compliance officer can review a day, against the rules-only baseline; calibration and
ranking of the member-risk probability; and the images MLflow keeps with every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
)

from ml.labels import NO_PATTERN, PATTERNS
from ml.models import ALERT_THRESHOLD, MemberRiskModel, SurveillanceModel

REVIEWS_PER_DAY = 5
"""k in precision@k: alerts one compliance officer can review in a day."""


def predicted_patterns(scores: pd.DataFrame) -> pd.Series:
    """The highest-scoring pattern of each row, or "none" below the alert threshold."""
    columns = [f"score_{p}" for p in PATTERNS]
    best = scores[columns].idxmax(axis=1).str.removeprefix("score_")
    return best.where(scores[columns].max(axis=1) >= ALERT_THRESHOLD, NO_PATTERN)


def _pattern_metrics(
    scores: pd.DataFrame, labels: pd.Series, days: pd.Series, prefix: str
) -> dict[str, float]:
    out = {}
    predicted = predicted_patterns(scores)
    for p in PATTERNS:
        truth, flagged = labels == p, predicted == p
        out[f"{prefix}{p}_positives"] = float(truth.sum())
        out[f"{prefix}{p}_precision"] = (
            float((truth & flagged).sum() / flagged.sum()) if flagged.any() else float("nan")
        )
        out[f"{prefix}{p}_recall"] = (
            float((truth & flagged).sum() / truth.sum()) if truth.any() else float("nan")
        )
        out[f"{prefix}{p}_pr_auc"] = (
            float(average_precision_score(truth, scores[f"score_{p}"])) if truth.any() else float("nan")
        )
    aucs = [out[f"{prefix}{p}_pr_auc"] for p in PATTERNS if not np.isnan(out[f"{prefix}{p}_pr_auc"])]
    out[f"{prefix}macro_pr_auc"] = float(np.mean(aucs)) if aucs else float("nan")
    any_pattern = labels != NO_PATTERN
    flagged = predicted != NO_PATTERN
    out[f"{prefix}alerts"] = float(flagged.sum())
    out[f"{prefix}precision"] = (
        float((any_pattern & flagged).sum() / flagged.sum()) if flagged.any() else float("nan")
    )
    out[f"{prefix}recall"] = (
        float((any_pattern & flagged).sum() / any_pattern.sum()) if any_pattern.any() else float("nan")
    )
    out[f"{prefix}precision_at_{REVIEWS_PER_DAY}_per_day"] = precision_at_k_per_day(scores, labels, days)
    return out


def precision_at_k_per_day(
    scores: pd.DataFrame, labels: pd.Series, days: pd.Series, k: int = REVIEWS_PER_DAY
) -> float:
    """Mean over days with a labelled episode of: the share of the day's top-k rows (by their best
    pattern score) that are right about the pattern."""
    columns = [f"score_{p}" for p in PATTERNS]
    best_score = scores[columns].max(axis=1)
    best_pattern = scores[columns].idxmax(axis=1).str.removeprefix("score_")
    frame = pd.DataFrame({"day": days, "score": best_score, "hit": best_pattern == labels, "label": labels})
    values = []
    for _, day in frame.groupby("day"):
        if (day.label == NO_PATTERN).all():
            continue
        top = day.nlargest(k, "score")
        values.append(top.hit.sum() / k)
    return float(np.mean(values)) if values else float("nan")


def evaluate_surveillance(
    model: SurveillanceModel, frame: pd.DataFrame, labels: pd.Series
) -> dict[str, float]:
    """Metrics of the combined detector and (prefix rules_) of the rules alone, on the same rows."""
    combined = model.score(frame)
    rules_only = model.score(frame, use_model=False)
    return {
        **_pattern_metrics(combined, labels, frame.activity_date, ""),
        **_pattern_metrics(rules_only, labels, frame.activity_date, "rules_"),
        "rows": float(len(frame)),
        "anomaly_alerts": float((combined.anomaly_score >= 0.995).sum()),
    }


CALIBRATION_BINS = 10
"""Reliability table and expected calibration error: ten equal-width probability bins."""


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Per probability bin [low, high) with rows in it: rows, mean predicted probability, observed rate."""
    which = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    table = (
        pd.DataFrame({"bin": which, "predicted": p, "observed": y})
        .groupby("bin")
        .agg(rows=("observed", "size"), predicted=("predicted", "mean"), observed=("observed", "mean"))
        .reset_index()
    )
    table.insert(0, "low", table.pop("bin") / bins)
    table.insert(1, "high", table.low + 1 / bins)
    return table


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Rows-weighted mean |observed rate - mean predicted probability| over the reliability bins."""
    table = reliability_table(y, p, bins)
    return float((table.rows * (table.observed - table.predicted).abs()).sum() / table.rows.sum())


def evaluate_member_risk(model: MemberRiskModel, frame: pd.DataFrame, labels: pd.Series) -> dict[str, float]:
    """Brier score and log loss against the held-out base rate (a constant forecast of the rate the
    held-out rows actually had: a baseline the model cannot know in advance), Brier skill score,
    expected calibration error, ROC-AUC and PR-AUC."""
    known = labels.notna()
    y, p = labels[known].astype(int), model.probability(frame[known])
    out = {"rows": float(known.sum()), "base_rate": float(y.mean()) if len(y) else float("nan")}
    if len(y) == 0:
        return out
    out["mean_probability"] = float(np.mean(p))
    out["brier"] = float(brier_score_loss(y, p))
    out["brier_of_base_rate"] = float(brier_score_loss(y, np.full(len(y), y.mean())))
    if out["brier_of_base_rate"] > 0:
        out["brier_skill_score"] = 1 - out["brier"] / out["brier_of_base_rate"]
    out["log_loss"] = float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
    out["log_loss_of_base_rate"] = float(
        log_loss(y, np.full(len(y), np.clip(y.mean(), 1e-6, 1 - 1e-6)), labels=[0, 1])
    )
    out["expected_calibration_error"] = expected_calibration_error(y.to_numpy(), p)
    if y.nunique() == 2:
        out["roc_auc"] = float(roc_auc_score(y, p))
        out["pr_auc"] = float(average_precision_score(y, p))
    return out


# --- images --------------------------------------------------------------------------------------


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def surveillance_images(
    model: SurveillanceModel, frame: pd.DataFrame, labels: pd.Series, folder: Path
) -> list[Path]:
    """confusion_matrix.png, pr_curve.png, feature_importance.png for the held-out rows."""
    plt = _figure()
    folder.mkdir(parents=True, exist_ok=True)
    scores = model.score(frame)
    classes = [NO_PATTERN, *PATTERNS]
    matrix = confusion_matrix(labels, predicted_patterns(scores), labels=classes)
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.imshow(np.log1p(matrix), cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xlabel("predicted")
    ax.set_ylabel("labelled")
    ax.set_title("Surveillance, held-out days")
    fig.tight_layout()
    paths = [folder / "confusion_matrix.png"]
    fig.savefig(paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 5))
    for p in PATTERNS:
        if (labels == p).any():
            precision, recall, _ = precision_recall_curve(labels == p, scores[f"score_{p}"])
            ax.plot(recall, precision, label=p)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall per pattern (held out)")
    ax.legend()
    paths.append(folder / "pr_curve.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    paths.append(_importance_image(plt, model.importance, folder))
    return paths


def member_risk_images(
    model: MemberRiskModel, frame: pd.DataFrame, labels: pd.Series, folder: Path
) -> list[Path]:
    """confusion_matrix.png (at 0.5), pr_curve.png with the calibration curve, feature_importance.png."""
    plt = _figure()
    folder.mkdir(parents=True, exist_ok=True)
    known = labels.notna()
    y = labels[known].astype(int).to_numpy()
    # a short history may leave no held-out day whose horizon is over: the images say so, empty
    p = model.probability(frame[known]) if len(y) else np.array([])
    matrix = (
        confusion_matrix(y, (p >= 0.5).astype(int), labels=[0, 1]) if len(y) else np.zeros((2, 2), dtype=int)
    )
    fig, ax = plt.subplots(figsize=(4, 4))
    if not len(y):
        ax.set_title("no labelled held-out rows")
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center")
    ax.set_xticks([0, 1], ["no event", "fail or 2+ late"])
    ax.set_yticks([0, 1], ["no event", "fail or 2+ late"])
    ax.set_xlabel("predicted (p >= 0.5)")
    fig.tight_layout()
    paths = [folder / "confusion_matrix.png"]
    fig.savefig(paths[-1])
    plt.close(fig)

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    if len(np.unique(y)) == 2:
        precision, recall, _ = precision_recall_curve(y, p)
        left.plot(recall, precision)
        table = reliability_table(y, p)
        right.plot(table.predicted, table.observed, marker="o")
    right.plot([0, 1], [0, 1], linestyle="--", color="grey")
    left.set(xlabel="recall", ylabel="precision", title="Precision-recall (held out)")
    right.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration (held out)")
    fig.tight_layout()
    paths.append(folder / "pr_curve.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    paths.append(_importance_image(plt, model.importance, folder))
    return paths


def _importance_image(plt, importance: dict[str, float], folder: Path) -> Path:
    ordered = sorted(importance.items(), key=lambda item: item[1])
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(ordered))))
    ax.barh([name for name, _ in ordered], [value for _, value in ordered])
    ax.set_title("Feature importance")
    fig.tight_layout()
    path = folder / "feature_importance.png"
    fig.savefig(path)
    plt.close(fig)
    return path
