"""Training: time splits, hyperparameter search within a time budget, and fitting both models.

Pure functions on frames; MLflow logging and registration happen in the Dagster assets
(gcx_pipelines/defs/ml), which call these.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ml.drift import FeatureReference
from ml.features import MEMBER_RISK_FEATURES, SURVEILLANCE_FEATURES
from ml.labels import FAIL_AFTER_DAYS, NO_PATTERN, PATTERNS, RISK_HORIZON_DAYS
from ml.models import MemberRiskModel, SurveillanceModel

HELD_OUT_FRACTION = 0.3
"""The last 30 % of days are held out: champion and challenger are compared on them."""
VALIDATION_FRACTION = 0.25
"""Within the training days, the last quarter validates the hyperparameter search."""
MIN_POSITIVES = 2
"""A pattern (or risk outcome) with fewer labelled rows in training is not learned."""
MIN_TRAINING_DAYS = 2
"""A new version needs days to train on and later days to be compared with the champion on."""
MIN_KNOWN_OUTCOMES = 20
"""Member risk learns from member-days whose outcome is known (the horizon and the grace days after
it have passed); with fewer, a probability would be a guess."""


@dataclass(frozen=True)
class TimeSplit:
    """Days before `held_out_from` train; days from it on are held out."""

    held_out_from: date

    @classmethod
    def of(cls, days: pd.Series, held_out_fraction: float = HELD_OUT_FRACTION) -> TimeSplit:
        unique = sorted(pd.unique(days))
        if len(unique) < 2:
            raise ValueError(f"a time split needs at least 2 days of data, got {len(unique)}")
        position = min(max(1, round(len(unique) * (1 - held_out_fraction))), len(unique) - 1)
        return cls(unique[position])

    def train(self, days: pd.Series) -> pd.Series:
        return days < self.held_out_from

    def held_out(self, days: pd.Series) -> pd.Series:
        return days >= self.held_out_from


@dataclass(frozen=True)
class Readiness:
    """Whether the data supports training a new version, and why (for the run log and the catalog)."""

    ready: bool
    reason: str


def plan_training(
    days: pd.Series, labels: pd.Series, readiness: Callable[[pd.Series, pd.Series], Readiness]
) -> tuple[TimeSplit | None, Readiness]:
    """The held-out split of `days` and whether its training rows support a new version: the
    model's own `readiness` judges the rows before the split."""
    count = days.nunique()
    if count < MIN_TRAINING_DAYS:
        return None, Readiness(
            False,
            f"{count} day(s) of features < {MIN_TRAINING_DAYS} needed (days to train on and a later one"
            " to compare with the champion on)",
        )
    split = TimeSplit.of(days)
    training = split.train(days)
    return split, readiness(days[training], labels[training])


def surveillance_readiness(days: pd.Series, labels: pd.Series) -> Readiness:
    """Always: the anomaly detector needs no label, the classifier learns each pattern with
    MIN_POSITIVES labelled rows and the rules cover the rest. The reason says which it learns."""
    counts = labels.value_counts()
    learned = [p for p in PATTERNS if counts.get(p, 0) >= MIN_POSITIVES]
    return Readiness(
        True,
        f"{days.nunique()} training days, {int(labels.isin(PATTERNS).sum())} labelled episode rows;"
        f" learns {', '.join(learned) or 'no pattern (the rules score them)'}",
    )


def member_risk_readiness(days: pd.Series, labels: pd.Series) -> Readiness:
    """From MIN_KNOWN_OUTCOMES training member-days whose outcome is known."""
    known = int(labels.notna().sum())
    if known < MIN_KNOWN_OUTCOMES:
        return Readiness(
            False,
            f"{known} member-days with a known outcome < {MIN_KNOWN_OUTCOMES} needed (an outcome is"
            f" known {RISK_HORIZON_DAYS + FAIL_AFTER_DAYS} days after its day)",
        )
    return Readiness(
        True, f"{known} member-days with a known outcome, {int(labels.sum())} of them risk events"
    )


def _random_params(rng: np.random.Generator, grid: dict[str, list]) -> dict:
    return {name: values[int(rng.integers(len(values)))] for name, values in grid.items()}


def search(
    fit_and_score, grid: dict[str, list], default: dict, budget_s: float, seed: int, max_trials: int = 30
) -> tuple[dict, list[dict]]:
    """Random search: try `default` first, then random picks from `grid`, until the time budget
    (or max_trials) is spent. `fit_and_score(params) -> float` (higher is better).
    Returns the best params and every trial (params, score, seconds)."""
    rng = np.random.default_rng(seed)
    default_in_grid = default.keys() == grid.keys() and all(default[k] in grid[k] for k in grid)
    distinct = math.prod(len(values) for values in grid.values()) + (0 if default_in_grid else 1)
    max_trials = min(max_trials, distinct)  # else a small grid spins on repeats until the budget ends
    trials, began = [], time.perf_counter()
    candidates = [default]
    while len(trials) < max_trials and time.perf_counter() - began < budget_s:
        params = candidates.pop() if candidates else _random_params(rng, grid)
        if any(t["params"] == params for t in trials):
            continue
        started = time.perf_counter()
        score = fit_and_score(params)
        trials.append({"params": params, "score": score, "seconds": time.perf_counter() - started})
    best = max(trials, key=lambda t: np.nan_to_num(t["score"], nan=-1.0))
    return best["params"], trials


# --- surveillance ------------------------------------------------------------------------------

SURVEILLANCE_GRID = {
    "learning_rate": [0.03, 0.05, 0.1, 0.2],
    "max_leaf_nodes": [7, 15, 31],
    "min_samples_leaf": [5, 10, 20],
    "l2_regularization": [0.0, 0.1, 1.0],
    "max_iter": [100, 200],
}
SURVEILLANCE_DEFAULT = {
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 10,
    "l2_regularization": 0.1,
    "max_iter": 100,
}


def fit_surveillance(
    frame: pd.DataFrame, labels: pd.Series, params: dict, seed: int = 0, complete: bool = True
) -> SurveillanceModel:
    """Gradient boosting on the patterns with at least MIN_POSITIVES labelled rows (others stay
    with their rules), an isolation forest on every row, and the training window's reference.
    `complete=False` (the search's trials) skips feature importance and the anomaly detector.

    Only features with a value in some training row are used: one missing everywhere (no ring
    of three members traded in the window, say) tells the model nothing, and the estimators
    cannot bin or fill it."""
    features = observed_features(frame, SURVEILLANCE_FEATURES)
    x = frame[features].to_numpy(dtype=float)
    counts = labels.value_counts()
    learnable = [p for p in PATTERNS if counts.get(p, 0) >= MIN_POSITIVES]
    classifier, importance = None, {name: 0.0 for name in features}
    if learnable:
        y = labels.where(labels.isin(learnable), NO_PATTERN).to_numpy()
        classifier = HistGradientBoostingClassifier(
            **params, class_weight="balanced", random_state=seed, early_stopping=False
        ).fit(x, y)
        if complete:
            importance = _importance(classifier, x, y, features, seed)
    reference = FeatureReference.of(frame, features)
    if not complete:
        return SurveillanceModel(features, classifier, None, np.array([]), reference, importance, params)
    filled = frame[features].fillna(pd.Series(reference.medians)).to_numpy(dtype=float)
    anomaly = IsolationForest(n_estimators=100, random_state=seed).fit(filled)
    training_scores = np.sort(-anomaly.score_samples(filled))
    return SurveillanceModel(features, classifier, anomaly, training_scores, reference, importance, params)


def observed_features(frame: pd.DataFrame, features: tuple[str, ...] | list[str]) -> list[str]:
    """The features with at least one value in `frame`, in their order."""
    return [name for name in features if frame[name].notna().any()]


def _importance(estimator, x: np.ndarray, y: np.ndarray, features: list[str], seed: int) -> dict[str, float]:
    """Permutation importance (drop in balanced accuracy when a feature is shuffled), on up to
    3,000 rows: positives first, since they are what the model is for."""
    positive = np.flatnonzero(y != NO_PATTERN) if y.dtype == object else np.flatnonzero(y == 1)
    rest = np.setdiff1d(np.arange(len(y)), positive)
    rng = np.random.default_rng(seed)
    take = np.concatenate(
        [positive, rng.choice(rest, size=min(len(rest), 3000 - len(positive)), replace=False)]
    )
    result = permutation_importance(
        estimator, x[take], y[take], n_repeats=3, random_state=seed, scoring="balanced_accuracy"
    )
    return {
        name: float(max(value, 0.0)) for name, value in zip(features, result.importances_mean, strict=True)
    }


def surveillance_validation_score(model: SurveillanceModel, frame: pd.DataFrame, labels: pd.Series) -> float:
    """Mean average precision over the patterns labelled in `frame` (the search's objective)."""
    scores = model.score(frame)
    values = [
        average_precision_score(labels == p, scores[f"score_{p}"]) for p in PATTERNS if (labels == p).any()
    ]
    return float(np.mean(values)) if values else float("nan")


def train_surveillance(
    frame: pd.DataFrame, labels: pd.Series, budget_s: float = 60.0, seed: int = 0
) -> tuple[SurveillanceModel, list[dict]]:
    """Search hyperparameters on a time split of `frame` (the training days), then refit on all of it.
    The defaults stand when there is nothing to search on: one training day, or no labelled
    episode on both sides of the split."""
    if frame.activity_date.nunique() < MIN_TRAINING_DAYS:
        return fit_surveillance(frame, labels, dict(SURVEILLANCE_DEFAULT), seed), []
    split = TimeSplit.of(frame.activity_date, VALIDATION_FRACTION)
    fit_part, check_part = split.train(frame.activity_date), split.held_out(frame.activity_date)

    def fit_and_score(params: dict) -> float:
        model = fit_surveillance(frame[fit_part], labels[fit_part], params, seed, complete=False)
        return surveillance_validation_score(model, frame[check_part], labels[check_part])

    if labels[fit_part].isin(PATTERNS).sum() >= MIN_POSITIVES and labels[check_part].isin(PATTERNS).any():
        params, trials = search(fit_and_score, SURVEILLANCE_GRID, SURVEILLANCE_DEFAULT, budget_s, seed)
    else:
        params, trials = dict(SURVEILLANCE_DEFAULT), []
    return fit_surveillance(frame, labels, params, seed), trials


# --- member risk -------------------------------------------------------------------------------

MEMBER_RISK_GRID = {"C": [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]}
MEMBER_RISK_DEFAULT = {"C": 0.1}


def fit_member_risk(frame: pd.DataFrame, labels: pd.Series, params: dict, seed: int = 0) -> MemberRiskModel:
    """Logistic regression on standardised features, fitted on every labelled training day.

    Rows with an unknown outcome are dropped. No class weighting and no separate calibration step:
    a logistic regression fitted by log loss gives probabilities calibrated on its training data,
    which held-out expected calibration error and a reliability table check (ml/evaluate.py). An
    earlier version fitted on three quarters of the days and calibrated a sigmoid on the last
    quarter: that quarter held one member's default, and the calibrated probabilities were no
    better than the base rate on later days.
    """
    known = labels.notna()
    if not known.any():
        return MemberRiskModel.insufficient_history(list(MEMBER_RISK_FEATURES))
    frame, labels = frame[known], labels[known].astype(int)
    features = observed_features(frame, MEMBER_RISK_FEATURES)
    reference = FeatureReference.of(frame, features)
    prior = float((labels.sum() + 1) / (len(labels) + 2))  # Laplace: never exactly 0 or 1
    direction = {name: 0.0 for name in features}
    importance = {name: 0.0 for name in features}
    if (
        labels.sum() < MIN_POSITIVES
        or labels.sum() > len(labels) - MIN_POSITIVES
        or frame.as_of_date.nunique() < 2
    ):
        return MemberRiskModel(features, None, prior, reference, direction, importance, params)
    classifier = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(C=params["C"], max_iter=1000),
    )
    classifier.fit(frame[features].to_numpy(dtype=float), labels.to_numpy())
    coefficients = classifier[-1].coef_[0]
    direction = {name: float(np.sign(c)) for name, c in zip(features, coefficients, strict=True)}
    importance = {name: float(abs(c)) for name, c in zip(features, coefficients, strict=True)}
    return MemberRiskModel(features, classifier, prior, reference, direction, importance, params)


def train_member_risk(
    frame: pd.DataFrame, labels: pd.Series, budget_s: float = 30.0, seed: int = 0
) -> tuple[MemberRiskModel, list[dict]]:
    """Search C by Brier score on the last quarter of the training days, then refit on all of them."""
    known = labels.notna()
    frame, labels = frame[known], labels[known]
    if labels.sum() < MIN_POSITIVES or frame.as_of_date.nunique() < 3:
        return fit_member_risk(frame, labels, MEMBER_RISK_DEFAULT, seed), []
    split = TimeSplit.of(frame.as_of_date, VALIDATION_FRACTION)
    fit_part, check_part = split.train(frame.as_of_date), split.held_out(frame.as_of_date)

    def fit_and_score(params: dict) -> float:
        model = fit_member_risk(frame[fit_part], labels[fit_part], params, seed)
        return -brier_score_loss(labels[check_part], model.probability(frame[check_part]))

    params, trials = search(fit_and_score, MEMBER_RISK_GRID, MEMBER_RISK_DEFAULT, budget_s, seed)
    return fit_member_risk(frame, labels, params, seed), trials
