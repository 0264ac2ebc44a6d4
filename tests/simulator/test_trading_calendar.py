"""Ghana's trading calendar: holidays, weekend observance, sessions, T+1."""

from datetime import date

import pytest

from gcx.simulator.trading_calendar import (
    TradingCalendar,
    easter_sunday,
    observed_holidays,
    session_bounds_us,
)


def test_easter_dates():
    assert [easter_sunday(y) for y in (2023, 2024, 2025, 2026)] == [
        date(2023, 4, 9), date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5)
    ]  # fmt: skip


def test_2024_holidays_with_weekend_observance():
    holidays = observed_holidays(date(2024, 1, 1), date(2024, 12, 31))
    assert holidays[date(2024, 1, 8)] == "Constitution Day (observed)"  # Jan 7 was a Sunday
    assert holidays[date(2024, 3, 29)] == "Good Friday"
    assert holidays[date(2024, 4, 1)] == "Easter Monday"
    assert holidays[date(2024, 4, 10)] == "Eid al-Fitr"
    assert holidays[date(2024, 6, 17)] == "Eid al-Adha (observed)"  # June 16 was a Sunday
    assert holidays[date(2024, 12, 6)] == "Farmers' Day"  # first Friday of December
    assert all(day.weekday() < 5 for day in holidays)
    assert len(holidays) == 13


def test_boxing_day_after_a_weekend_christmas_moves_past_the_observed_christmas():
    holidays = observed_holidays(date(2027, 12, 20), date(2027, 12, 31))  # Dec 25 Sat, Dec 26 Sun
    assert holidays == {
        date(2027, 12, 27): "Christmas Day (observed)",
        date(2027, 12, 28): "Boxing Day (observed)",
    }


@pytest.mark.parametrize(
    ("trade_day", "settles_on"),
    [
        (date(2024, 3, 28), date(2024, 4, 2)),  # Thursday -> Good Friday, weekend, Easter Monday
        (date(2024, 3, 5), date(2024, 3, 7)),  # Independence Day
        (date(2024, 1, 5), date(2024, 1, 9)),  # Friday -> observed Constitution Day on Monday
        (date(2024, 2, 13), date(2024, 2, 14)),
    ],
)
def test_settlement_is_the_next_trading_day(trade_day, settles_on):
    calendar = TradingCalendar.covering(date(2024, 1, 1), date(2024, 6, 30))
    assert calendar.next_trading_day(trade_day) == settles_on


def test_session_is_ten_to_two_utc():
    open_us, close_us = session_bounds_us(date(2024, 1, 2))
    assert close_us - open_us == 4 * 3600 * 1_000_000
    assert (open_us // 1_000_000) % 86_400 == 10 * 3600
