"""Request parameters every data route shares: timestamps (ISO-8601 or integer nanoseconds, UTC),
half-open time windows checked against the caller's tier, opaque cursors and output formats."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query

from api.errors import ApiError
from gcx import clock
from gcx.access.keys import Principal

INTEGER = re.compile(r"-?\d+")
MAX_SYMBOLS = 500
"""Symbols one request (or WebSocket subscribe) may name: more than the exchange lists."""
NS_PER_US = 1_000


class OutputFormat(StrEnum):
    json = "json"
    csv = "csv"
    parquet = "parquet"


TIMESTAMP_HELP = (
    "UTC instant: ISO-8601 (`2026-11-20T10:00:00Z`, a date alone means its 00:00 UTC; an offset is "
    "converted to UTC; no offset means UTC) or integer nanoseconds since the epoch."
)


def parse_timestamp(value: str, name: str) -> datetime:
    """A UTC datetime from ISO-8601 or integer nanoseconds; 422 naming the parameter otherwise.
    Nanoseconds are floored to the microsecond, the warehouse's precision."""
    text = value.strip()
    try:
        if INTEGER.fullmatch(text):
            ns = int(text)
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // NS_PER_US)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError) as error:
        raise ApiError(
            422,
            "invalid_request",
            f"{name}: not an ISO-8601 timestamp or integer nanoseconds: {value!r}",
            [{"location": f"query.{name}", "message": str(error)}],
        ) from error
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class TimeWindow:
    """A half-open window [start, end) in UTC that the caller's tier allows."""

    start: datetime
    end: datetime


def tier_window(principal: Principal, start: str, end: str | None, now: datetime | None = None) -> TimeWindow:
    """Parse [start, end) and check it against the tier: refused with the reason, never truncated.

    Without `end`, the window ends at what the tier may see: now, or 15 minutes ago on the free tier.
    """
    now = now or clock.now()
    tier = principal.tier
    visible_until = tier.visible_until(now)
    start_at = parse_timestamp(start, "start")
    end_at = parse_timestamp(end, "end") if end is not None else visible_until
    if start_at >= end_at:
        raise ApiError(
            422,
            "invalid_request",
            f"start ({start_at.isoformat()}) must be before end ({end_at.isoformat()}): ranges are [start, end)",
        )
    if tier.delay and end_at > visible_until:
        raise ApiError(
            403,
            "outside_tier_window",
            f"the {tier.name} tier sees data {int(tier.delay.total_seconds() // 60)} minutes late: "
            f"end must be at or before {visible_until.isoformat()} (or omit it); member and pro keys are real time",
            {"visible_until": visible_until.isoformat()},
        )
    oldest = tier.history_starts(now)
    if oldest is not None and start_at < oldest:
        raise ApiError(
            403,
            "outside_tier_window",
            f"the {tier.name} tier reaches back {tier.history.days} days: start must be at or after "
            f"{oldest.isoformat()}; longer history needs a higher tier",
            {"history_starts": oldest.isoformat()},
        )
    return TimeWindow(start_at, end_at)


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque cursor for a position in a stable order."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, expected_keys: set[str], name: str = "cursor") -> dict[str, Any]:
    """The position a cursor stands for; 422 when it was not made by this API for this route."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ApiError(422, "invalid_request", f"{name}: not a cursor returned by this API") from error
    if not isinstance(position, dict) or set(position) != expected_keys:
        raise ApiError(422, "invalid_request", f"{name}: not a cursor returned by this route")
    return position


NAME_LIST_PATTERN = r"^\s*[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}(,\s*[A-Za-z0-9][A-Za-z0-9 ._-]{0,63})*$"
"""One or more names (symbols, commodities) separated by commas: what `parse_symbols` accepts."""

SymbolsQuery = Annotated[
    str | None,
    Query(
        alias="symbol",
        pattern=NAME_LIST_PATTERN,
        description="One or more symbols separated by commas (`GEJWM1,GKUYM2`); omit for every symbol."
        " An unknown symbol is 404.",
        examples=["GEJWM1", "GEJWM1,GTASB2"],
    ),
]


def parse_symbols(symbols: str | None) -> list[str] | None:
    """`symbol=GEJWM1,GKUYM2` (or repeated) as a list; None means every symbol."""
    if symbols is None:
        return None
    parsed = [s.strip() for s in symbols.split(",") if s.strip()]
    if not parsed:
        raise ApiError(422, "invalid_request", "symbol: give one or more symbols separated by commas")
    if len(parsed) > MAX_SYMBOLS:
        raise ApiError(
            422,
            "too_many_symbols",
            f"symbol: at most {MAX_SYMBOLS} symbols in one request (got {len(parsed):,}); omit it for every symbol",
            {"max_symbols": MAX_SYMBOLS, "got": len(parsed)},
        )
    return parsed


def allowed_page_size(principal: Principal, limit: int | None, default: int) -> int:
    """The page size asked for (`default` when none), refused (not lowered) when the tier does not allow it."""
    if limit is None:
        return min(default, principal.tier.max_page_size)
    if limit > principal.tier.max_page_size:
        raise ApiError(
            422,
            "limit_too_large",
            f"limit: the {principal.tier.name} tier's largest page is {principal.tier.max_page_size:,} rows "
            f"(asked for {limit:,}); page with the cursor, or use a higher tier",
            {"limit": limit, "max_page_size": principal.tier.max_page_size, "tier": principal.tier.name},
        )
    return limit


def split_page(rows: list[tuple], page_size: int, position_of) -> tuple[list[tuple], str | None]:
    """The page and the cursor of what follows it (None when nothing does): one row more than the
    page was fetched to know."""
    if len(rows) <= page_size:
        return rows, None
    page = rows[:page_size]
    return page, encode_cursor(position_of(page[-1]))
