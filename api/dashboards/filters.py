"""The filters every dashboard shares: a range of whole days [start, end), a commodity and symbols,
checked against the caller's tier like every data route of the API.

Dashboards read daily marts, so the tier rules apply to whole days: a delayed tier (free) sees a day
only once all of it is older than its delay (never anything newer than now - 15 min, even inside a
daily total), and a day is shown only when all of it lies inside the tier's history. An explicit
range outside that is refused with `outside_tier_window`; the default range is the last
DEFAULT_DAYS days the tier may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from api.errors import ApiError
from api.params import parse_symbols
from gcx import clock
from gcx.access.keys import Principal

DEFAULT_DAYS = 30
COMMODITIES: dict[str, str] = {
    "WM": "White maize",
    "YM": "Yellow maize",
    "SB": "Soybean",
    "SO": "Sorghum",
    "SS": "Sesame",
    "MR": "Milled rice",
}

START_HELP = "First day shown, inclusive (YYYY-MM-DD, UTC). Default: DEFAULT_DAYS days before `end`."
END_HELP = (
    "Day after the last day shown (exclusive; ranges are [start, end)). Default: tomorrow, or for the "
    "free tier today (it sees a day once all of it is 15 minutes old)."
)
COMMODITY_HELP = "Commodity code: " + ", ".join(f"{code} ({name})" for code, name in COMMODITIES.items())
SYMBOL_HELP = "One or more symbols separated by commas, e.g. `GEJWM1,GKUYM2`. Default: every symbol."


@dataclass(frozen=True)
class DayRange:
    start: date
    end: date
    """Exclusive."""

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(), UTC)


def _first_whole_day_after(instant: datetime) -> date:
    return instant.date() if instant.time() == time() else instant.date() + timedelta(days=1)


def visible_days(principal: Principal, now: datetime | None = None) -> DayRange:
    """The widest range of whole days the caller's tier may see."""
    now = now or clock.now()
    tier = principal.tier
    end = tier.visible_until(now).date() if tier.delay else now.date() + timedelta(days=1)
    oldest = tier.history_starts(now)
    start = _first_whole_day_after(oldest) if oldest is not None else date(1970, 1, 1)
    return DayRange(start, end)


def day_range(
    principal: Principal, start: date | None, end: date | None, now: datetime | None = None
) -> DayRange:
    """[start, end) from the request, defaults filled in, refused when the tier may not see it."""
    visible = visible_days(principal, now)
    tier = principal.tier
    end = end or visible.end
    if (
        start is None
    ):  # the last DEFAULT_DAYS days before end that the tier sees (no date arithmetic below year 1)
        span = timedelta(days=DEFAULT_DAYS)
        start = visible.start if end - visible.start <= span else end - span
    if start >= end:
        raise ApiError(
            422, "invalid_request", f"start ({start}) must be before end ({end}): ranges are [start, end)"
        )
    if end > visible.end:
        raise ApiError(
            403,
            "outside_tier_window",
            f"the {tier.name} tier sees a day once all of it is {int(tier.delay.total_seconds() // 60)} "
            f"minutes old: end must be at or before {visible.end} (or omit it); member and pro keys are real time",
            {"visible_until": visible.end.isoformat()},
        )
    if start < visible.start:
        raise ApiError(
            403,
            "outside_tier_window",
            f"the {tier.name} tier reaches back {tier.history.days} days: start must be at or after "
            f"{visible.start}; longer history needs a higher tier",
            {"history_starts": visible.start.isoformat()},
        )
    return DayRange(start, end)


def commodity_code(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper()
    if code not in COMMODITIES:
        raise ApiError(
            422,
            "invalid_request",
            f"commodity: unknown code {value!r}; expected one of {', '.join(COMMODITIES)}",
            [{"location": "query.commodity", "message": "unknown commodity code"}],
        )
    return code


def symbols(value: str | None, known: set[str]) -> list[str]:
    """The requested symbols (none = all); 422 naming any the platform does not list."""
    if value is None or value.strip() == "":
        return []
    requested = [symbol.upper() for symbol in parse_symbols(value) or []]
    unknown = [symbol for symbol in requested if symbol not in known]
    if unknown:
        raise ApiError(
            422,
            "invalid_request",
            f"symbol: unknown symbol(s) {', '.join(unknown)}",
            [{"location": "query.symbol", "message": f"unknown: {', '.join(unknown)}"}],
        )
    return requested
