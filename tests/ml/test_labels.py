"""The member-risk label: a failed obligation, or repeated lateness, due within the horizon."""

from datetime import timedelta

from ml.features import member_risk_features
from ml.labels import FAIL_AFTER_DAYS, RISK_HORIZON_DAYS, member_risk_labels
from tests.ml.conftest import FIRST_DAY, MarketBuilder, at, ordinary_flow

DAYS = 30
EVENT_DAY = FIRST_DAY + timedelta(days=10)
"""Obligations of trades on this day are due the next day."""


def test_a_fail_or_two_late_obligations_is_an_event_and_one_late_one_is_not(builder: MarketBuilder):
    ordinary_flow(builder, DAYS, seed=3, per_day=4)
    when = at(EVENT_DAY, 11)
    builder.trade(EVENT_DAY, when, "GEJWM1", "M1", "M5", unpaid=("M1",))  # M1 fails once
    builder.trade(EVENT_DAY, when, "GEJWM1", "M2", "M5", paid_late_hours={"M2": 5})  # M2: one late
    for minute in (1, 2):  # M3: late twice
        builder.trade(EVENT_DAY, at(EVENT_DAY, 11, minute), "GTASB2", "M3", "M5", paid_late_hours={"M3": 30})
    builder.trade(  # M4: paid 6 days late, after the fail threshold: a fail, not a late payment
        EVENT_DAY, when, "GTASB2", "M4", "M5", paid_late_hours={"M4": 24 * (FAIL_AFTER_DAYS + 1)}
    )
    data = builder.build()
    features = member_risk_features(data)
    labels = member_risk_labels(features, data.settlements)
    by_row = labels.set_axis(features.set_index(["member_id", "as_of_date"]).index)

    before = EVENT_DAY  # the obligations fall due the next day: inside (before, before + horizon]
    assert by_row[("M1", before)] == 1, "a failed obligation"
    assert by_row[("M2", before)] == 0, "a single late payment is not a risk event"
    assert by_row[("M3", before)] == 1, "two late payments are"
    assert by_row[("M4", before)] == 1, "paid after the fail threshold: a fail"
    assert by_row[("M5", before)] == 0, "the counterparty paid on time"
    after = EVENT_DAY + timedelta(days=1)  # due on this day: no longer in the horizon
    assert by_row[("M1", after)] == 0 and by_row[("M3", after)] == 0

    last_day = features.as_of_date.max()
    unknown = features.as_of_date > last_day - timedelta(days=RISK_HORIZON_DAYS + FAIL_AFTER_DAYS)
    assert labels[unknown].isna().all(), "outcome not known until the horizon and the fail threshold passed"
    assert labels[~unknown].notna().all()
