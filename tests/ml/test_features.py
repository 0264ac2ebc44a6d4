"""Code tests: the features on tiny hand-made markets, including point-in-time correctness."""

from dataclasses import replace
from datetime import timedelta

import pandas as pd

from ml.features import (
    MEMBER_RISK_FEATURES,
    SURVEILLANCE_FEATURES,
    MarketData,
    member_risk_features,
    surveillance_features,
)
from ml.quality import member_risk_feature_problems, surveillance_feature_problems
from tests.ml.conftest import FIRST_DAY, MarketBuilder, at, ordinary_flow


def row(frame: pd.DataFrame, day, symbol: str, member: str) -> pd.Series:
    found = frame[(frame.activity_date == day) & (frame.symbol == symbol) & (frame.member_id == member)]
    assert len(found) == 1, f"no single row for {member} {symbol} {day}"
    return found.iloc[0]


def test_same_owner_trades_and_shared_owner(builder: MarketBuilder):
    day = FIRST_DAY
    wash = builder.trade(day, at(day, 11), "GEJWM1", "M1", "M2", buyer_owner="X", seller_owner="X")
    builder.trade(day, at(day, 11, 5), "GEJWM1", "M3", "M4")
    data = builder.build()
    data.accounts.loc[len(data.accounts)] = {"account_id": "AX", "member_id": "M2", "owner_id": "OM1"}
    frame = surveillance_features(data)
    m1 = row(frame, day, "GEJWM1", "M1")
    assert m1.same_owner_trade_count == 1 and wash in m1.trade_ids
    assert row(frame, day, "GEJWM1", "M3").same_owner_trade_count == 0
    assert m1.has_shared_owner == 1 and row(frame, day, "GEJWM1", "M3").has_shared_owner == 0


def test_a_ring_of_three_is_a_cycle_and_a_back_and_forth_is_not(builder: MarketBuilder):
    day = FIRST_DAY
    builder.trade(day, at(day, 10), "GEJWM1", "M2", "M1")  # M1 -> M2
    builder.trade(day, at(day, 10, 5), "GEJWM1", "M3", "M2")  # M2 -> M3
    builder.trade(day, at(day, 10, 10), "GEJWM1", "M1", "M3", price=3010)  # M3 -> M1
    builder.trade(day, at(day, 11), "GTASB2", "M4", "M5")
    builder.trade(day, at(day, 11, 5), "GTASB2", "M5", "M4")
    builder.trade(day, at(day, 11, 10), "GTASB2", "M4", "M5")
    frame = surveillance_features(builder.build())
    ring = row(frame, day, "GEJWM1", "M1")
    assert ring.cycle_size == 3 and ring.cycle_trade_share == 1
    assert abs(ring.cycle_price_range - 10 / 3000) < 1e-9
    assert row(frame, day, "GTASB2", "M4").cycle_size == 0


def test_large_quick_cancels_with_trades_on_the_other_side(builder: MarketBuilder):
    day = FIRST_DAY
    ordinary_flow(builder, 3, per_day=6)
    day = FIRST_DAY + timedelta(days=3)
    for n in range(3):
        builder.cancelled_order(
            day, at(day, 12, n), "GEJWM1", "M1", "buy", 200.0, after=pd.Timedelta(minutes=2)
        )
    builder.trade(day, at(day, 12, 1), "GEJWM1", "M2", "M1", quantity=5.0, aggressor="sell")
    builder.trade(day, at(day, 12, 30), "GEJWM1", "M3", "M4", quantity=5.0)
    frame = surveillance_features(builder.build())
    spoofer = row(frame, day, "GEJWM1", "M1")
    assert spoofer.large_quick_cancel_count == 3
    assert spoofer.opposite_trades_during_cancels == 1
    assert spoofer.max_order_size_ratio >= 5
    assert spoofer.cancel_ratio == 0.75 and spoofer.order_to_trade_ratio == 4
    assert row(frame, day, "GEJWM1", "M3").large_quick_cancel_count == 0


def test_closing_minutes_push_is_signed_by_the_members_direction(builder: MarketBuilder):
    day = FIRST_DAY
    builder.trade(day, at(day, 13, 0), "GEJWM1", "M3", "M4", price=3000)
    builder.trade(day, at(day, 13, 57), "GEJWM1", "M1", "M2", price=3030, aggressor="buy")
    builder.trade(day, at(day, 13, 59), "GEJWM1", "M1", "M5", price=3060, aggressor="buy")
    frame = surveillance_features(builder.build())
    marker = row(frame, day, "GEJWM1", "M1")
    assert marker.close_window_trade_share == 1 and marker.close_window_aggressor_count == 2
    assert abs(marker.close_push - 0.02) < 1e-9
    assert row(frame, day, "GEJWM1", "M2").close_push == 0  # the passive seller pushed nothing
    assert row(frame, day, "GEJWM1", "M3").close_window_trade_share == 0


def _truncate(data: MarketData, last_day) -> MarketData:
    """What the warehouse held at the end of `last_day`: later rows absent, later payments unknown."""
    end = at(last_day + timedelta(days=1), 0)
    settlements = data.settlements[data.settlements.trade_date <= last_day].copy()
    settlements.loc[settlements.settled_at > end, "settled_at"] = pd.NaT
    return MarketData(
        data.trades[data.trades.trade_date <= last_day],
        data.orders[data.orders.created_date <= last_day],
        data.sessions[data.sessions.trade_date <= last_day],
        settlements,
        data.accounts,
        data.member_versions[data.member_versions.valid_from < end],
    )


def member_versions(*changes: tuple[str, str, pd.Timestamp]) -> pd.DataFrame:
    """marts.dim_members-like versions: (member_id, member_status, valid_from)."""
    return pd.DataFrame(changes, columns=["member_id", "member_status", "valid_from"])


def test_features_are_point_in_time(builder: MarketBuilder):
    """A day's features are the same whether or not later days (and later payments) exist."""
    ordinary_flow(builder, 8, seed=3)
    late_day = FIRST_DAY + timedelta(days=3)
    builder.trade(late_day, at(late_day, 11), "GEJWM1", "M1", "M2", paid_late_hours={"M1": 100})
    cut = FIRST_DAY + timedelta(days=4)
    # M5 is suspended two days after the cut: the days up to the cut must not know it
    full = replace(
        builder.build(), member_versions=member_versions(("M5", "suspended", at(cut + timedelta(days=2), 17)))
    )
    surveillance_full = surveillance_features(full)
    surveillance_cut = surveillance_features(_truncate(full, cut))
    up_to_cut = surveillance_full[surveillance_full.activity_date <= cut].reset_index(drop=True)
    pd.testing.assert_frame_equal(up_to_cut, surveillance_cut.reset_index(drop=True))

    risk_full = member_risk_features(full)
    risk_cut = member_risk_features(_truncate(full, cut))
    pd.testing.assert_frame_equal(risk_full[risk_full.as_of_date <= cut].reset_index(drop=True), risk_cut)
    m1 = risk_full[(risk_full.member_id == "M1") & (risk_full.as_of_date == cut)].iloc[0]
    assert m1.overdue_now >= 1, "paid 100 h after its deadline: still overdue on the next day"


def test_a_member_is_scored_only_while_active_as_of_the_day(builder: MarketBuilder):
    """Suspended before (or during) day D: no row for D. Suspended after D: scored for D."""
    ordinary_flow(builder, 8, seed=11)
    day = FIRST_DAY + timedelta(days=4)
    versions = member_versions(
        ("M1", "active", at(FIRST_DAY - timedelta(days=1), 6)),
        ("M1", "suspended", at(day - timedelta(days=1), 17)),
        ("M2", "active", at(FIRST_DAY - timedelta(days=1), 6)),
        ("M2", "suspended", at(day + timedelta(days=1), 17)),
        ("M3", "terminated", at(day, 17)),  # after the session, before the day's scoring
    )
    frame = member_risk_features(replace(builder.build(), member_versions=versions))
    members_on = frame.groupby("as_of_date").member_id.agg(set)
    assert members_on[day] == {"M2", "M4", "M5"}
    assert members_on[day - timedelta(days=2)] == {"M1", "M2", "M3", "M4", "M5"}, "all active then"
    assert members_on[day + timedelta(days=2)] == {"M4", "M5"}
    everyone = member_risk_features(builder.build())
    assert set(everyone[everyone.as_of_date == day].member_id) == {"M1", "M2", "M3", "M4", "M5"}


def test_member_risk_counts_delays_as_known_at_the_time(builder: MarketBuilder):
    ordinary_flow(builder, 2, seed=5, per_day=4)
    day = FIRST_DAY + timedelta(days=2)
    for n in range(3):
        builder.trade(day, at(day, 11, n), "GTASB2", "M1", "M2", paid_late_hours={"M1": 3})
    builder.trade(day + timedelta(days=3), at(day + timedelta(days=3), 11), "GTASB2", "M3", "M4")
    frame = member_risk_features(builder.build()).set_index(["member_id", "as_of_date"])
    assert frame.loc[("M1", day), "delayed_30d"] == 0, "not yet due on the trade day"
    later = frame.loc[("M1", day + timedelta(days=3))]
    assert later.delayed_30d >= 3 and later.delayed_rate_30d > 0
    assert frame.loc[("M2", day + timedelta(days=3)), "delayed_30d"] == 0


def test_feature_tables_meet_their_expectations(builder: MarketBuilder):
    ordinary_flow(builder, 6, seed=7)
    data = builder.build()
    surveillance = surveillance_features(data)
    risk = member_risk_features(data)
    assert set(SURVEILLANCE_FEATURES) <= set(surveillance.columns)
    assert set(MEMBER_RISK_FEATURES) <= set(risk.columns)
    assert surveillance_feature_problems(surveillance) == []
    assert member_risk_feature_problems(risk) == []
    broken = surveillance.copy()
    broken.loc[0, "cancel_ratio"] = 1.5
    broken = pd.concat([broken, broken.head(1)])
    problems = surveillance_feature_problems(broken)
    assert any("cancel_ratio" in p for p in problems) and any("duplicate" in p for p in problems)
