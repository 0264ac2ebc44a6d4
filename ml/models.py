"""The two models as the registry stores them: what they compute from a feature frame and why.

- `SurveillanceModel`: per feature row and pattern, the rule score, the learned model's
  probability (gradient boosting on the labelled episodes) and their combination, plus an
  unsupervised anomaly score (isolation forest) for what no pattern describes.
- `MemberRiskModel`: the probability that, of a member's obligations due in the next days, one
  fails or at least two are paid late (ml/labels.py), with the factors that raise it; fitted by
  log loss, its calibration checked on held-out days (ml/evaluate.py), not re-calibrated.

Both keep a `FeatureReference` of their training window (drift checks, explanations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.drift import FeatureReference
from ml.labels import PATTERNS
from ml.rules import rule_scores

ALERT_THRESHOLD = 0.5
"""A row is an alert for a pattern when its combined score reaches this."""
ANOMALY_QUANTILE = 0.995
"""A row no pattern explains is an anomaly alert when it is more unusual than this share of training rows."""
RISK_BANDS = ((0.10, "low"), (0.30, "medium"), (1.01, "high"))
"""Probability below 0.10 is low, below 0.30 medium, else high."""
INSUFFICIENT_HISTORY = "insufficient_history"
"""The band of a member-risk score without a probability: no model has learned from known outcomes."""
UNTRAINED_VERSION = "none"
"""The version a score or alert names when no version of its model was ever promoted."""


@dataclass
class SurveillanceModel:
    features: list[str]
    classifier: object | None
    """A fitted multiclass classifier (classes: "none" and the patterns it saw), or None when the
    training data had no labelled episode: the rules then score alone."""
    anomaly: object | None
    """An isolation forest on the training rows (None only in the search's trial models)."""
    anomaly_training_scores: np.ndarray
    reference: FeatureReference
    importance: dict[str, float]
    params: dict = field(default_factory=dict)

    @classmethod
    def rules_only(cls, features: list[str]) -> SurveillanceModel:
        """What scores before any version is trained: the rules alone, no learned or anomaly score."""
        return cls(features, None, None, np.array([]), FeatureReference.empty(features), {}, {})

    @property
    def learned_patterns(self) -> list[str]:
        if self.classifier is None:
            return []
        return [c for c in self.classifier.classes_ if c in PATTERNS]

    def model_probabilities(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(0.0, index=frame.index, columns=list(PATTERNS))
        if self.classifier is not None and len(frame):
            probabilities = self.classifier.predict_proba(frame[self.features].to_numpy(dtype=float))
            for position, name in enumerate(self.classifier.classes_):
                if name in PATTERNS:
                    out[name] = probabilities[:, position]
        return out

    def anomaly_scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Share of training rows less unusual than each row (0..1; 0.99 = rarer than 99 %)."""
        if len(frame) == 0 or self.anomaly is None:
            return np.zeros(len(frame))
        filled = frame[self.features].fillna(pd.Series(self.reference.medians)).to_numpy(dtype=float)
        unusual = -self.anomaly.score_samples(filled)
        return np.searchsorted(self.anomaly_training_scores, unusual, side="right") / len(
            self.anomaly_training_scores
        )

    def score(self, frame: pd.DataFrame, use_model: bool = True) -> pd.DataFrame:
        """rule_<pattern>, model_<pattern>, score_<pattern> (the combination), anomaly_score.

        Combined = max(rule, model) for the patterns the model learned, else the rule: a rule hit
        is never lost, and the model adds what the rules miss. `use_model=False` is the
        rules-only baseline.
        """
        rules = rule_scores(frame)
        model = (
            self.model_probabilities(frame)
            if use_model
            else pd.DataFrame(0.0, index=frame.index, columns=list(PATTERNS))
        )
        out = pd.DataFrame(index=frame.index)
        for pattern in PATTERNS:
            out[f"rule_{pattern}"] = rules[pattern]
            out[f"model_{pattern}"] = model[pattern]
            out[f"score_{pattern}"] = np.maximum(rules[pattern], model[pattern])
        out["anomaly_score"] = self.anomaly_scores(frame)
        return out

    def reasons(self, row: pd.Series, pattern: str, top: int = 3) -> list[dict]:
        """The features that drove a row's score: the pattern's rule evidence first, then the
        most important features where the row is furthest from typical."""
        from ml.rules import REASONS

        out = []
        feature, why = REASONS.get(pattern, (None, None))
        if feature is not None and row.get(f"rule_{pattern}", 0) > 0:
            out.append({"feature": feature, "value": _plain(row[feature]), "why": f"rule: {why}"})
        if self.reference.is_empty:  # no training window to call a value unusual against
            return out
        deviation = self.reference.deviation(row.to_frame().T, self.features).iloc[0].abs()
        weight = deviation * pd.Series(self.importance).reindex(self.features).fillna(0).clip(lower=1e-3)
        for name in weight.sort_values(ascending=False).index:
            if len(out) >= top or weight[name] <= 0:
                break
            if any(r["feature"] == name for r in out):
                continue
            typical = self.reference.medians[name]
            out.append(
                {
                    "feature": name,
                    "value": _plain(row[name]),
                    "why": f"unusual: {row[name]:.3g} vs typical {typical:.3g}",
                }
            )
        return out


@dataclass
class MemberRiskModel:
    features: list[str]
    classifier: object | None
    """A fitted, calibrated binary classifier; None when training had no labelled outcome, and
    then every member gets `prior`."""
    prior: float | None
    """None when training had no known outcome: every member then scores "insufficient history"."""
    reference: FeatureReference
    direction: dict[str, float]
    """+1 when a higher value of the feature means more risk in training, -1 when less."""
    importance: dict[str, float]
    params: dict = field(default_factory=dict)

    @classmethod
    def insufficient_history(cls, features: list[str]) -> MemberRiskModel:
        """What scores before any version is trained: no probability, no factors."""
        return cls(features, None, None, FeatureReference.empty(features), {}, {}, {})

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row; NaN for every row when the model has no known outcome to go by."""
        if len(frame) == 0:
            return np.array([])
        if self.prior is None:
            return np.full(len(frame), np.nan)
        if self.classifier is None:
            return np.full(len(frame), self.prior)
        return self.classifier.predict_proba(frame[self.features].to_numpy(dtype=float))[:, 1]

    def top_factors(self, frame: pd.DataFrame, top: int = 3) -> list[list[dict]]:
        """Per row, the features that raise the member's risk most: importance times how far the
        value is from the training median in the risky direction."""
        if self.reference.is_empty:
            return [[] for _ in range(len(frame))]
        deviation = self.reference.deviation(frame, self.features)
        signed = deviation * pd.Series(self.direction).reindex(self.features).fillna(0)
        weight = signed.clip(lower=0) * pd.Series(self.importance).reindex(self.features).fillna(0).clip(
            lower=1e-3
        )
        out = []
        for position in range(len(frame)):
            row = weight.iloc[position]
            chosen = row[row > 0].sort_values(ascending=False).index[:top]
            out.append(
                [
                    {
                        "feature": name,
                        "value": _plain(frame[name].iloc[position]),
                        "why": f"{frame[name].iloc[position]:.3g} vs typical {self.reference.medians[name]:.3g}",
                    }
                    for name in chosen
                ]
            )
        return out


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version as the scoring code uses it."""

    name: str
    version: str
    model: SurveillanceModel | MemberRiskModel


def risk_band(probability: float) -> str:
    if np.isnan(probability):
        return INSUFFICIENT_HISTORY
    for upper, band in RISK_BANDS:
        if probability < upper:
            return band
    return RISK_BANDS[-1][1]


def _plain(value: object) -> float | None:
    """A JSON-ready number."""
    number = float(value)
    return None if np.isnan(number) else round(number, 6)
