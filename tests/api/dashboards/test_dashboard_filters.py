"""The dashboards' day ranges against the tiers (pure functions, no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from api.dashboards.filters import day_range, visible_days
from api.errors import ApiError
from gcx.access.entitlements import TIERS
from gcx.access.keys import Principal


def caller(tier: str) -> Principal:
    return Principal(key_id="k", name="test", tier=TIERS[tier], role="executive")


@pytest.mark.parametrize(
    ("now", "last_visible_day"),
    [
        (datetime(2026, 11, 21, 0, 10, tzinfo=UTC), date(2026, 11, 19)),  # 20th not yet 15 min old
        (datetime(2026, 11, 21, 0, 15, tzinfo=UTC), date(2026, 11, 20)),
        (datetime(2026, 11, 21, 18, 0, tzinfo=UTC), date(2026, 11, 20)),  # never today
    ],
)
def test_the_free_tier_sees_a_day_once_all_of_it_is_15_minutes_old(now, last_visible_day):
    days = day_range(caller("free"), None, None, now)
    assert days.end - timedelta(days=1) == last_visible_day
    assert days.start == date(2026, 10, 23)  # 30 days back reaches into the 22nd: not a whole day


def test_history_covers_whole_days_only():
    now = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
    # 30 days back is 2026-10-22 09:30: the 22nd is only partly inside, so the first day is the 23rd
    assert visible_days(caller("free"), now).start == date(2026, 10, 23)
    assert visible_days(caller("member"), now).start == date(2025, 11, 22)
    assert visible_days(caller("pro"), now).start == date(1970, 1, 1)
    assert visible_days(caller("member"), now).end == date(2026, 11, 22)  # today, as it happens


@pytest.mark.parametrize(
    ("tier", "start", "end", "status", "reason"),
    [
        ("free", date(2026, 10, 22), None, 403, "outside_tier_window"),
        ("free", None, date(2026, 11, 22), 403, "outside_tier_window"),
        ("member", date(2024, 1, 1), None, 403, "outside_tier_window"),
        ("pro", date(2026, 11, 10), date(2026, 11, 10), 422, "invalid_request"),
        ("pro", None, date(1, 1, 5), 422, "invalid_request"),  # before any data: no default start
    ],
)
def test_a_range_the_tier_may_not_see_is_refused_not_truncated(tier, start, end, status, reason):
    with pytest.raises(ApiError) as refused:
        day_range(caller(tier), start, end, datetime(2026, 11, 21, 9, 30, tzinfo=UTC))
    assert (refused.value.status, refused.value.reason) == (status, reason)


def test_daily_tiles_show_the_latest_trading_day_not_an_empty_weekend():
    from api.dashboards.executive import latest_complete_period

    def day(iso: str, volume: float) -> dict:
        end = (date.fromisoformat(iso) + timedelta(days=1)).isoformat()
        return {"period_start": iso, "period_end": end, "volume_t": volume}

    periods = [
        day("2026-11-12", 40.0),
        day("2026-11-13", 55.0),
        day("2026-11-14", 0.0),
        day("2026-11-15", 0.0),
    ]
    latest, previous = latest_complete_period(periods, trading_days={"2026-11-12", "2026-11-13"})
    assert (latest["period_start"], previous["period_start"]) == ("2026-11-13", "2026-11-12")
    assert (
        latest_complete_period(periods)[0]["period_start"] == "2026-11-15"
    )  # weeks, months: every day counts
