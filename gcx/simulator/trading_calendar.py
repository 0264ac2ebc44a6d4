"""GCX's trading calendar: Ghana business days, public holidays and the 10:00-14:00 UTC session.

Ghana keeps UTC all year (no daylight saving), so session times are the same instant every day.
The two Eid holidays follow the moon and are announced by the government each year; they come from
a fixed table (``EID_DATES``), which is why simulated periods must lie within its years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

import numpy as np
import pyarrow as pa

from gcx.simulator import columns

SESSION_OPEN = time(10, 0)
SESSION_CLOSE = time(14, 0)
SESSION_SECONDS = 4 * 3600

EID_DATES: dict[int, tuple[date, date]] = {
    # year: (Eid al-Fitr, Eid al-Adha), as declared (past) or expected (future) in Ghana
    2023: (date(2023, 4, 21), date(2023, 6, 28)),
    2024: (date(2024, 4, 10), date(2024, 6, 16)),
    2025: (date(2025, 3, 31), date(2025, 6, 6)),
    2026: (date(2026, 3, 20), date(2026, 5, 27)),
    2027: (date(2027, 3, 10), date(2027, 5, 17)),
    2028: (date(2028, 2, 27), date(2028, 5, 5)),
}
SUPPORTED_YEARS = (min(EID_DATES), max(EID_DATES))

US_PER_DAY = 86_400_000_000
EPOCH = date(1970, 1, 1)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm, a.k.a. Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _first_friday_of_december(year: int) -> date:
    first = date(year, 12, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7)


def public_holidays(year: int) -> list[tuple[date, str]]:
    """Ghana's statutory holidays of one year as (date, name), before weekend observance.

    Eid is included only for the years of ``EID_DATES``; other years simply lack it.
    """
    easter = easter_sunday(year)
    holidays = [
        (date(year, 1, 1), "New Year's Day"),
        (date(year, 1, 7), "Constitution Day"),
        (date(year, 3, 6), "Independence Day"),
        (easter - timedelta(days=2), "Good Friday"),
        (easter + timedelta(days=1), "Easter Monday"),
        (date(year, 5, 1), "May Day"),
        (date(year, 8, 4), "Founders' Day"),
        (date(year, 9, 21), "Kwame Nkrumah Memorial Day"),
        (_first_friday_of_december(year), "Farmers' Day"),
        (date(year, 12, 25), "Christmas Day"),
        (date(year, 12, 26), "Boxing Day"),
    ]
    if year in EID_DATES:
        fitr, adha = EID_DATES[year]
        holidays += [(fitr, "Eid al-Fitr"), (adha, "Eid al-Adha")]
    return sorted(holidays)


def observed_holidays(first: date, last: date) -> dict[date, str]:
    """Holidays as the exchange closes for them in [first, last]: a holiday falling on a weekend
    (or on another holiday) is observed on the next free weekday, e.g. Boxing Day on a Sunday
    after Christmas observed on Monday moves to Tuesday."""
    observed: dict[date, str] = {}
    for year in range(first.year - 1, last.year + 1):
        for day, name in public_holidays(year):
            target = day
            while target.weekday() >= 5 or target in observed:
                target += timedelta(days=1)
            label = name if target == day else f"{name} (observed)"
            observed[target] = label
    return {day: name for day, name in sorted(observed.items()) if first <= day <= last}


def day_number(day: date) -> int:
    """Days since 1970-01-01, the integer form dates take inside the vectorised generators."""
    return (day - EPOCH).days


def from_day_number(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


def micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime."""
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def iso_utc(us: int, precision: str = "us") -> str:
    """ISO-8601 UTC with a Z, to the second ("s"), millisecond ("ms") or microsecond ("us")."""
    seconds, micro = divmod(int(us), 1_000_000)
    text = np.datetime64(seconds, "s").astype(str)
    if precision == "ms":
        return f"{text}.{micro // 1000:03d}Z"
    if precision == "us":
        return f"{text}.{micro:06d}Z"
    return text + "Z"


def iso_day(day: int) -> str:
    """A day number as YYYY-MM-DD."""
    return from_day_number(day).isoformat()


def session_bounds_us(day: date) -> tuple[int, int]:
    """Session open and close of ``day`` as microseconds since the epoch."""
    base = day_number(day) * US_PER_DAY
    return (
        base + (SESSION_OPEN.hour * 3600 + SESSION_OPEN.minute * 60) * 1_000_000,
        base + (SESSION_CLOSE.hour * 3600 + SESSION_CLOSE.minute * 60) * 1_000_000,
    )


@dataclass(frozen=True)
class TradingCalendar:
    """Calendar days from ``first`` to ``last`` inclusive, with their trading status."""

    first: date
    last: date
    holidays: dict[date, str]

    @classmethod
    def covering(cls, first: date, last: date) -> TradingCalendar:
        return cls(first, last, observed_holidays(first, last))

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def trading_days(self, start: date, end_exclusive: date) -> list[date]:
        return [d for d in self.days() if start <= d < end_exclusive and self.is_trading_day(d)]

    def next_trading_day(self, day: date) -> date:
        """The first trading day after ``day`` (settlement T+1); beyond the calendar, weekdays only."""
        candidate = day + timedelta(days=1)
        while not self.is_trading_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def add_trading_days(self, day: date, count: int) -> date:
        for _ in range(count):
            day = self.next_trading_day(day)
        return day

    @cached_property
    def _next_trading_table(self) -> np.ndarray:
        return np.array([day_number(self.next_trading_day(d)) for d in self.days()], dtype=np.int64)

    def next_trading_day_numbers(self, day_numbers: np.ndarray) -> np.ndarray:
        """Vectorised ``next_trading_day`` over day numbers inside the calendar."""
        return self._next_trading_table[np.asarray(day_numbers, dtype=np.int64) - day_number(self.first)]

    def rows(self) -> list[tuple[date, bool, str | None, int | None, int | None]]:
        """(calendar_date, is_trading_day, holiday_name, session_open_us, session_close_us) per day."""
        out = []
        for day in self.days():
            trading = self.is_trading_day(day)
            bounds = session_bounds_us(day) if trading else (None, None)
            out.append((day, trading, self.holidays.get(day), *bounds))
        return out


def sessions_from(start: date, count: int) -> tuple[date, date]:
    """The shortest window of calendar days [start, last] that holds `count` trading days."""
    return _sessions(start, count, step=1)


def sessions_before(end_exclusive: date, count: int) -> tuple[date, date]:
    """The window [first, end_exclusive - 1 day] whose first day is the `count`-th trading day
    before `end_exclusive`: "the last `count` sessions", with the days after the last session
    (a weekend, a holiday) kept so that the window runs up to `end_exclusive`."""
    first, _ = _sessions(end_exclusive - timedelta(days=1), count, step=-1)
    return first, end_exclusive - timedelta(days=1)


def _sessions(origin: date, count: int, step: int) -> tuple[date, date]:
    """From `origin`, walking `step` days at a time: the `count`-th trading day met, as the far end
    of the window, and `origin` (ordered as (first, last))."""
    if count < 1:
        raise ValueError("a window needs at least 1 trading day")
    reach = timedelta(days=2 * count + 30)  # weekends and a year's holidays, with room to spare
    low, high = (origin, origin + reach) if step > 0 else (origin - reach, origin)
    calendar = TradingCalendar.covering(low, high)
    day, found = origin, 0
    while True:
        found += calendar.is_trading_day(day)
        if found == count:
            return (origin, day) if step > 0 else (day, origin)
        day += timedelta(days=step)


def calendar_table(calendar: TradingCalendar) -> pa.Table:
    """The ``trading_calendar`` rows."""
    rows = calendar.rows()
    opens = np.array([r[3] if r[3] is not None else 0 for r in rows], dtype=np.int64)
    closes = np.array([r[4] if r[4] is not None else 0 for r in rows], dtype=np.int64)
    trading = np.array([r[1] for r in rows])
    return pa.table(
        {
            "calendar_date": columns.dates(np.array([day_number(r[0]) for r in rows])),
            "is_trading_day": columns.booleans(trading),
            "holiday_name": pa.array([r[2] for r in rows], pa.string()),
            "session_open_at": columns.timestamps(opens, null=~trading),
            "session_close_at": columns.timestamps(closes, null=~trading),
        }
    )
