"""What the training window looked like, per feature: for drift (PSI) and for explanations.

A model keeps a `FeatureReference` of its training data. The population stability index of a
feature compares the share of rows in each training decile bin now and then:
PSI = sum((now - then) * ln(now / then)); below 0.1 is stable, above 0.25 has shifted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PSI_WARN = 0.25
BINS = 10
_FLOOR = 1e-4  # an empty bin would make the logarithm infinite


@dataclass
class FeatureReference:
    edges: dict[str, np.ndarray]
    """Inner bin edges per feature (training quantiles); missing values get a bin of their own."""
    shares: dict[str, np.ndarray]
    medians: dict[str, float]
    scales: dict[str, float]
    """Interquartile range (or standard deviation, or 1) per feature: how far is unusual."""

    @classmethod
    def of(cls, frame: pd.DataFrame, features: list[str]) -> FeatureReference:
        edges, shares, medians, scales = {}, {}, {}, {}
        for name in features:
            values = frame[name].to_numpy(dtype=float)
            present = values[~np.isnan(values)]
            inner = (
                np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1]))
                if len(present)
                else np.array([])
            )
            edges[name] = inner
            shares[name] = _shares(values, inner)
            medians[name] = float(np.median(present)) if len(present) else 0.0
            q1, q3 = np.quantile(present, [0.25, 0.75]) if len(present) else (0.0, 0.0)
            scale = q3 - q1 or (float(np.std(present)) if len(present) else 0.0) or 1.0
            scales[name] = float(scale)
        return cls(edges, shares, medians, scales)

    @classmethod
    def empty(cls, features: list[str]) -> FeatureReference:
        """The reference of no training window (a model not trained yet): typical values unknown."""
        return cls({}, {}, dict.fromkeys(features, 0.0), dict.fromkeys(features, 1.0))

    @property
    def is_empty(self) -> bool:
        return not self.edges

    def psi(self, frame: pd.DataFrame) -> dict[str, float]:
        """PSI per feature of `frame` against the training window."""
        out = {}
        for name, inner in self.edges.items():
            now = np.maximum(_shares(frame[name].to_numpy(dtype=float), inner), _FLOOR)
            then = np.maximum(self.shares[name], _FLOOR)
            out[name] = float(np.sum((now - then) * np.log(now / then)))
        return out

    def deviation(self, frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
        """Robust z-score of each value against the training median (NaN counts as typical)."""
        medians = pd.Series({n: self.medians[n] for n in features})
        scales = pd.Series({n: self.scales[n] for n in features})
        return ((frame[features] - medians) / scales).fillna(0.0)


def _shares(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Share of values in each bin, the last bin holding missing values."""
    if len(values) == 0:
        return np.zeros(len(inner) + 2)
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(inner, values[~missing], side="right"), minlength=len(inner) + 1)
    return np.append(counts, missing.sum()) / len(values)
