"""Behaviour tests: what the trained models must do, whatever their exact numbers."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from ml.features import member_risk_features, surveillance_features
from ml.labels import member_risk_labels, surveillance_labels
from ml.models import LoadedModel
from ml.predict import detect_alerts, score_members, untrained
from ml.train import (
    SURVEILLANCE_DEFAULT,
    fit_surveillance,
    member_risk_readiness,
    plan_training,
    surveillance_readiness,
    train_member_risk,
    train_surveillance,
)
from tests.ml.conftest import FIRST_DAY, MarketBuilder, at, ordinary_flow

DAYS = 12


@pytest.fixture(scope="module")
def wash_market():
    """Ordinary flow for 12 days with a labelled wash trade every other day (owner X at M1 and M2),
    and on the last day the same trade once between M1 and M2 for owner X and once between two
    unrelated members (M3, M4)."""
    builder = MarketBuilder()
    ordinary_flow(builder, DAYS, seed=11)
    episodes = []
    for offset in range(0, DAYS - 1, 2):
        day = FIRST_DAY + timedelta(days=offset)
        trade_id = builder.trade(
            day, at(day, 12, 30), "GTASB2", "M1", "M2", buyer_owner="X", seller_owner="X"
        )
        episodes.append(
            {
                "type": "wash_trade",
                "symbol": "GTASB2",
                "member_ids": ["M1", "M2"],
                "trade_ids": [trade_id],
                "order_ids": [],
            }
        )
    last = FIRST_DAY + timedelta(days=DAYS)
    wash = builder.trade(last, at(last, 12, 30), "GEJWM1", "M1", "M2", buyer_owner="X", seller_owner="X")
    clean = builder.trade(last, at(last, 12, 30), "GEJWM1", "M3", "M4")
    features = surveillance_features(builder.build())
    return features, surveillance_labels(features, episodes), last, wash, clean


def test_an_injected_wash_trade_scores_above_the_same_trade_between_unrelated_members(wash_market):
    features, labels, last, wash, clean = wash_market
    assert (labels == "wash_trade").sum() >= 10
    training = features.activity_date < last
    model = fit_surveillance(features[training], labels[training], SURVEILLANCE_DEFAULT)
    assert "wash_trade" in model.learned_patterns
    today = features[features.activity_date == last]
    scores = model.score(today)
    by_member = dict(zip(today.member_id, scores.score_wash_trade, strict=True))
    learned = dict(zip(today.member_id, scores.model_wash_trade, strict=True))
    assert by_member["M1"] > by_member["M3"] and by_member["M2"] > by_member["M4"]
    assert learned["M1"] > learned["M3"], "the learned model alone ranks the wash trade higher too"

    alerts = detect_alerts(LoadedModel("gcx_surveillance", "1", model), today)
    washes = alerts[alerts.pattern == "wash_trade"]
    assert len(washes) == 1, "both sides of one wash trade make one alert"
    alert = washes.iloc[0]
    assert alert.member_ids == ["M1", "M2"] and alert.trade_ids == [wash] and clean not in alert.trade_ids
    assert alert.reasons[0]["feature"] == "same_owner_trade_count"
    assert "M1 and M2" in alert.explanation and "GEJWM1" in alert.explanation
    assert 0 <= alert.score <= 1 and alert.detector in {"rule", "rule+model"}


def test_a_member_with_repeated_fails_scores_riskier():
    builder = MarketBuilder()
    ordinary_flow(builder, 30, seed=13, per_day=8)
    rng = np.random.default_rng(2)
    for offset in range(30):  # M1 fails or pays late on most days; everyone else pays on time
        day = FIRST_DAY + timedelta(days=offset)
        if rng.random() < 0.7:
            fails = rng.random() < 0.5
            builder.trade(
                day, at(day, 11, 30), "GEJWM1", "M1", "M3",
                paid_late_hours=None if fails else {"M1": 30}, unpaid=("M1",) if fails else (),
            )  # fmt: skip
        builder.trade(day, at(day, 11, 40), "GTASB2", "M2", "M3")
    data = builder.build()
    features = member_risk_features(data)
    labels = member_risk_labels(features, data.settlements)
    assert labels.notna().sum() > 50 and 0 < labels.mean() < 1
    labelled = labels.groupby(features.member_id).mean()
    assert labelled["M1"] > 0.5 and labelled.drop("M1").max() == 0, "M1's fails are the only risk events"
    model, _ = train_member_risk(features, labels, budget_s=5)
    assert model.classifier is not None
    last = features[features.as_of_date == features.as_of_date.max()]
    scored = score_members(LoadedModel("gcx_member_risk", "1", model), last).set_index("member_id")
    assert scored.loc["M1", "probability_settlement_fail"] > scored.loc["M2", "probability_settlement_fail"]
    assert scored.loc["M1", "risk_band"] in {"medium", "high"}
    assert {f["feature"] for f in scored.loc["M1", "top_factors"]} & {
        "delayed_30d", "delayed_rate_30d", "overdue_now", "severe_delays_90d", "days_since_last_delay",
        "overdue_amount_share",
    }  # fmt: skip
    assert ((scored.probability_settlement_fail >= 0) & (scored.probability_settlement_fail <= 1)).all()


def test_a_feature_missing_in_every_training_row_is_left_out(wash_market):
    """No ring of three traded in the window: the cycle features are missing everywhere, which the
    gradient boosting cannot bin. The model trains without them and still scores every row."""
    features, labels, last, _, _ = wash_market
    training = features[features.activity_date < last].assign(cycle_size=np.nan, cycle_price_range=np.nan)
    model, _ = train_surveillance(training, labels[training.index], budget_s=1)
    assert {"cycle_size", "cycle_price_range"}.isdisjoint(
        model.features
    ) and "wash_trade" in model.learned_patterns
    scores = model.score(features[features.activity_date == last])
    assert scores.notna().all().all()


def test_readiness_says_what_a_short_history_lacks():
    days = pd.Series([FIRST_DAY] * 3)
    split, readiness = plan_training(days, pd.Series(["none"] * 3), surveillance_readiness)
    assert split is None and not readiness.ready and readiness.reason.startswith("1 day(s) of features < 2")
    days = pd.Series([FIRST_DAY + timedelta(days=n // 10) for n in range(40)])
    unknown = pd.Series([np.nan] * 30 + [0.0] * 10)  # outcomes known only for the last days' rows
    _, readiness = plan_training(days, unknown, member_risk_readiness)
    assert not readiness.ready and readiness.reason.startswith("0 member-days with a known outcome < 20")
    _, readiness = plan_training(days, pd.Series([0.0] * 38 + [1.0] * 2), member_risk_readiness)
    assert readiness.ready, readiness.reason


def test_untrained_models_score_by_rules_and_say_insufficient_history(wash_market):
    features, _, last, wash, _ = wash_market
    today = features[features.activity_date == last]
    alerts = detect_alerts(untrained("gcx_surveillance"), today)
    washes = alerts[alerts.pattern == "wash_trade"]
    assert list(washes.trade_ids) == [[wash]] and set(washes.detector) == {"rule"}
    assert set(alerts.model_version) == {"none"} and all(len(r) == 1 for r in washes.reasons)

    builder = MarketBuilder()
    ordinary_flow(builder, 3, seed=4)
    risk = member_risk_features(builder.build())
    scored = score_members(untrained("gcx_member_risk"), risk)
    assert scored.probability_settlement_fail.isna().all() and set(scored.risk_band) == {
        "insufficient_history"
    }
    assert all(factors == [] for factors in scored.top_factors)
