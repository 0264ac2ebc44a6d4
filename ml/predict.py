"""Scoring with the champion: surveillance alerts and member-risk scores, as frames shaped like
their warehouse tables (compliance.surveillance_alerts, compliance.member_risk_scores; see ml/tables.py).

For online use (the API): `load_champion(name, settings)` loads the champion once and keeps it
(per platform and model name) until `refresh=True` or `load_champion.cache_clear()`;
`score_members(loaded, features)` and `detect_alerts(loaded, features)` are pure.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import numpy as np
import pandas as pd

from gcx import clock
from gcx.settings import Settings
from ml.evaluate import predicted_patterns
from ml.features import MEMBER_RISK_FEATURES, SURVEILLANCE_FEATURES
from ml.labels import NO_PATTERN, RISK_HORIZON_DAYS
from ml.models import (
    ALERT_THRESHOLD,
    ANOMALY_QUANTILE,
    UNTRAINED_VERSION,
    LoadedModel,
    MemberRiskModel,
    SurveillanceModel,
    risk_band,
)
from ml.names import CHAMPION, SURVEILLANCE_MODEL

_champions: dict[tuple[str, str], LoadedModel] = {}

PATTERN_PHRASES = {
    "wash_trade": "traded with itself (same beneficial owner on both sides)",
    "circular_trading": "passed the same lot around a ring of members",
    "spoofing": "placed large orders and cancelled them while trading the other side",
    "marking_the_close": "pushed the closing price with aggressive trades in the last minutes",
    "pump_and_dump": "traded one way for days while the price ran, then turned",
    "anomaly": "traded unlike anything in the training window",
}


def load_champion(name: str, settings: Settings, refresh: bool = False) -> LoadedModel:
    """The champion version of registered model `name`, loaded once per platform and kept.

    Raises LookupError when the model has no champion yet (train it: `gcx materialize --job ml_job`).
    """
    from ml.registry import load_by_alias, tracking_uri

    key = (tracking_uri(settings), name)
    if refresh or key not in _champions:
        loaded = load_by_alias(name, CHAMPION, settings)
        if loaded is None:
            raise LookupError(f"registered model {name!r} has no {CHAMPION!r} version yet")
        _champions[key] = loaded
    return _champions[key]


load_champion.cache_clear = _champions.clear  # type: ignore[attr-defined]


def load_scorer(name: str, settings: Settings, refresh: bool = False) -> LoadedModel:
    """The champion of `name`, or, while no version has been promoted, what scores without one:
    surveillance by its rules alone, member risk as "insufficient history" (version "none")."""
    try:
        return load_champion(name, settings, refresh=refresh)
    except LookupError:
        return untrained(name)


def untrained(name: str) -> LoadedModel:
    if name == SURVEILLANCE_MODEL:
        return LoadedModel(name, UNTRAINED_VERSION, SurveillanceModel.rules_only(list(SURVEILLANCE_FEATURES)))
    return LoadedModel(
        name, UNTRAINED_VERSION, MemberRiskModel.insufficient_history(list(MEMBER_RISK_FEATURES))
    )


def score_members(
    loaded: LoadedModel, features: pd.DataFrame, scored_at: datetime | None = None
) -> pd.DataFrame:
    """Member-risk rows for a frame of member-risk features (ml.features.member_risk_features):
    member_id, score_date, horizon_days, probability_settlement_fail, risk_band, model_name,
    model_version, top_factors (list of {feature, value, why}), scored_at."""
    model: MemberRiskModel = loaded.model
    probability = model.probability(features)
    return pd.DataFrame(
        {
            "member_id": features.member_id.to_numpy(),
            "score_date": features.as_of_date.to_numpy(),
            "horizon_days": RISK_HORIZON_DAYS,
            "probability_settlement_fail": probability.astype(float),
            "risk_band": [risk_band(p) for p in probability],
            "model_name": loaded.name,
            "model_version": loaded.version,
            "top_factors": model.top_factors(features),
            "scored_at": scored_at or clock.now(),
        }
    )


ALERT_COLUMNS = [
    "alert_id",
    "alert_date",
    "pattern",
    "symbol",
    "member_ids",
    "trade_ids",
    "order_ids",
    "score",
    "detector",
    "model_name",
    "model_version",
    "reasons",
    "explanation",
    "scored_at",
]


def alert_id(day: object, symbol: str | None, pattern: str, member_ids: list[str]) -> str:
    """Stable for the same detection: the same day, symbol, pattern and members give the same id."""
    digest = hashlib.sha1(f"{day}|{symbol}|{pattern}|{','.join(sorted(member_ids))}".encode()).hexdigest()
    return f"SA{digest[:16]}"


def detect_alerts(
    loaded: LoadedModel, features: pd.DataFrame, scored_at: datetime | None = None
) -> pd.DataFrame:
    """Alerts for a frame of surveillance features (ml.features.surveillance_features).

    A row is flagged with its best pattern when that pattern's combined score reaches the alert
    threshold, or as an anomaly when no pattern fits and it is rarer than ANOMALY_QUANTILE of the
    training rows. Flagged rows of one day, symbol and pattern whose members traded with each
    other (a wash trade's two members, a ring) make one alert, with the trades between them.
    """
    model: SurveillanceModel = loaded.model
    scored_at = scored_at or clock.now()
    if features.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    scores = model.score(features)
    rows = pd.concat([features.reset_index(drop=True), scores.reset_index(drop=True)], axis=1)
    rows["pattern"] = predicted_patterns(scores).to_numpy()
    anomalous = (rows.pattern == NO_PATTERN) & (rows.anomaly_score >= ANOMALY_QUANTILE)
    rows.loc[anomalous, "pattern"] = "anomaly"
    rows = rows[rows.pattern != NO_PATTERN]
    alerts = []
    for (day, symbol, pattern), group in rows.groupby(["activity_date", "symbol", "pattern"], sort=True):
        for members in _trading_groups(group):
            alerts.append(
                _alert(model, loaded, group[group.member_id.isin(members)], day, symbol, pattern, scored_at)
            )
    return pd.DataFrame(alerts, columns=ALERT_COLUMNS)


def _trading_groups(group: pd.DataFrame) -> list[set[str]]:
    """Members of flagged rows joined when one traded with another (connected components)."""
    parent = {m: m for m in group.member_id}

    def root(m: str) -> str:
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for member, counterparties in zip(group.member_id, group.counterparty_ids, strict=True):
        for other in counterparties:
            if other in parent:
                parent[root(member)] = root(other)
    out: dict[str, set[str]] = {}
    for m in parent:
        out.setdefault(root(m), set()).add(m)
    return list(out.values())


def _alert(model, loaded, rows: pd.DataFrame, day, symbol, pattern, scored_at) -> dict:
    members = sorted(rows.member_id)
    if len(rows) > 1:  # the trades between the members, not each member's whole day
        counts = pd.Series([t for ids in rows.trade_ids for t in ids]).value_counts()
        trade_ids = sorted(counts[counts >= 2].index) or sorted(counts.index)
    else:
        trade_ids = list(rows.trade_ids.iloc[0])
    order_ids = sorted({o for ids in rows.order_ids for o in ids}, key=lambda o: (len(o), o))
    if pattern == "anomaly":
        top = rows.loc[rows.anomaly_score.idxmax()]
        score, detector = float(top.anomaly_score), "anomaly"
    else:
        top = rows.loc[rows[f"score_{pattern}"].idxmax()]
        score = float(top[f"score_{pattern}"])
        by_rule = top[f"rule_{pattern}"] >= ALERT_THRESHOLD
        by_model = top[f"model_{pattern}"] >= ALERT_THRESHOLD
        detector = "rule+model" if by_rule and by_model else ("rule" if by_rule else "model")
    reasons = model.reasons(top, pattern)
    why = "; ".join(f"{r['feature']} = {r['value']:g}" for r in reasons if r["value"] is not None)
    explanation = (
        f"{' and '.join(members)} {PATTERN_PHRASES[pattern]} in {symbol} on {day}"
        f" (score {score:.2f}, {detector}{': ' + why if why else ''})."
    )
    return {
        "alert_id": alert_id(day, symbol, pattern, members),
        "alert_date": day,
        "pattern": pattern,
        "symbol": symbol,
        "member_ids": members,
        "trade_ids": trade_ids,
        "order_ids": order_ids,
        "score": float(np.clip(score, 0.0, 1.0)),
        "detector": detector,
        "model_name": loaded.name,
        "model_version": loaded.version,
        "reasons": reasons,
        "explanation": explanation,
        "scored_at": scored_at,
    }


def rule_hits_per_member_day(features: pd.DataFrame) -> pd.DataFrame:
    """member_id, activity_date, alerts: rows where a rule fires (the member-risk alert counts).
    Rules, not the model, so member risk does not depend on which surveillance version is champion."""
    from ml.rules import rule_scores

    if features.empty:
        return pd.DataFrame(columns=["member_id", "activity_date", "alerts"])
    hits = (rule_scores(features) >= ALERT_THRESHOLD).any(axis=1)
    flagged = features.loc[hits, ["member_id", "activity_date"]]
    return flagged.groupby(["member_id", "activity_date"]).size().rename("alerts").reset_index()
