"""Reference data: instruments (as of a date) and the trading calendar.

Small, slowly changing tables: answered in one JSON response (no paging), validated by their models.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Query, Request
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from api.deps import ConnDep, PrincipalDep
from api.errors import AUTHENTICATED_RESPONSES, NOT_FOUND_RESPONSE, ApiError
from api.metering import note_access
from api.params import NAME_LIST_PATTERN, parse_symbols
from gcx import clock

router = APIRouter(prefix="/v1", tags=["reference"])

CALENDAR_DEFAULT_DAYS = 31
CALENDAR_MAX_DAYS = 3_660
"""The longest calendar range one request may ask for (about ten years)."""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")


class Instrument(BaseModel):
    symbol: str = Field(
        description="GCX grammar: G + warehouse + colour (maize) + commodity + grade, e.g. GEJWM1."
    )
    venue: str = Field(description="GCX, or the venue of imported trades (e.g. CME).")
    commodity_code: str | None = Field(description="WM YM SB SO SS MR on GCX; null on other venues.")
    commodity_name: str | None
    colour: Literal["white", "yellow"] | None = Field(description="Maize only.")
    grade: int | None = Field(description="Quality grade, 1 (best) to 4.")
    warehouse_code: str | None
    warehouse_name: str | None
    warehouse_region: str | None
    tick_size_ghs: float | None = Field(description="Smallest price step (GHS per tonne).")
    lot_size_t: float | None = Field(description="Tonnes per lot.")
    listed_on: date | None = Field(description="First day the instrument could trade (null: not recorded).")
    delisted_on: date | None = Field(description="First day it could no longer trade (null: still listed).")


class InstrumentList(BaseModel):
    as_of: date = Field(description="The date the list is for.")
    count: int
    data: list[Instrument]


class CalendarDay(BaseModel):
    date: date
    is_trading_day: bool
    session_open_at: datetime | None = Field(
        description="Session open (UTC) on trading days; null otherwise."
    )
    session_close_at: datetime | None = Field(
        description="Session close (UTC) on trading days; null otherwise."
    )
    holiday_name: str | None = Field(
        description="The public holiday's name; null on trading days and weekends."
    )


class Calendar(BaseModel):
    start: date = Field(description="First day asked for (inclusive).")
    end: date = Field(description="Last day asked for (exclusive).")
    published_from: date | None = Field(
        description="First day the exchange's calendar covers: days outside the published calendar are not listed."
    )
    published_to: date | None = Field(description="Last day the exchange's calendar covers (inclusive).")
    count: int
    data: list[CalendarDay] = Field(description="Every published day in [start, end), in date order.")


INSTRUMENTS_SQL = """
    select symbol, venue, commodity_code, commodity_name, colour, grade, warehouse_code, warehouse_name,
           warehouse_region, tick_size_ghs::float8, lot_size_t::float8, listed_on, delisted_on
    from marts.dim_instruments
    where (listed_on is null or listed_on <= %(as_of)s)
      and (delisted_on is null or delisted_on > %(as_of)s)
"""


@router.get(
    "/instruments",
    response_model=InstrumentList,
    responses={**AUTHENTICATED_RESPONSES, **NOT_FOUND_RESPONSE},
)
def instruments(
    request: Request,
    principal: PrincipalDep,
    conn: ConnDep,
    as_of: Annotated[
        date | None,
        Query(
            description="List the instruments listed and not delisted on this day (YYYY-MM-DD). Default: today (UTC)."
        ),
    ] = None,
    symbols: Annotated[
        str | None,
        Query(
            alias="symbol",
            pattern=NAME_LIST_PATTERN,
            description="Only these symbols (comma-separated). A symbol the exchange never listed is 404.",
            examples=["GEJWM1,GTASB2"],
        ),
    ] = None,
    commodities: Annotated[
        str | None,
        Query(
            alias="commodity",
            pattern=NAME_LIST_PATTERN,
            description="Only these commodities, by code or name, case-insensitive (comma-separated). "
            "A commodity no instrument ever had is 404.",
            examples=["WM", "soybean"],
        ),
    ] = None,
) -> InstrumentList:
    """Instruments with their commodity, grade, warehouse, tick and lot size and listing dates, in
    symbol order. An instrument listed on another day than `as_of` is simply absent."""
    as_of = as_of or clock.today()
    query, params = INSTRUMENTS_SQL, {"as_of": as_of}
    symbol_list = parse_symbols(symbols)
    if symbol_list is not None:
        require_known_symbols(conn, symbol_list)
        query += " and symbol = any(%(symbols)s)"
        params["symbols"] = symbol_list
    commodity_list = parse_symbols(commodities)
    if commodity_list is not None:
        commodity_list = [commodity.lower() for commodity in commodity_list]
        _require_known(
            conn,
            "commodity",
            commodity_list,
            "select lower(commodity_code) from marts.dim_instruments where lower(commodity_code) = any(%(v)s)"
            " union select lower(commodity_name) from marts.dim_instruments where lower(commodity_name) = any(%(v)s)",
        )
        query += " and (lower(commodity_code) = any(%(commodities)s) or lower(commodity_name) = any(%(commodities)s))"
        params["commodities"] = commodity_list
    with conn.cursor(row_factory=class_row(Instrument)) as cursor:
        data = cursor.execute(query + " order by symbol", params).fetchall()
    note_access(
        request,
        "marts.dim_instruments",
        len(data),
        {"as_of": as_of.isoformat(), "symbols": symbol_list, "commodities": commodity_list},
    )
    return InstrumentList(as_of=as_of, count=len(data), data=data)


@router.get("/calendar", response_model=Calendar, responses=AUTHENTICATED_RESPONSES)
def calendar(
    request: Request,
    principal: PrincipalDep,
    conn: ConnDep,
    start: Annotated[
        date | None, Query(description="First day, inclusive (YYYY-MM-DD). Default: today (UTC).")
    ] = None,
    end: Annotated[
        date | None,
        Query(
            description=f"Last day, exclusive (YYYY-MM-DD). Default: start + {CALENDAR_DEFAULT_DAYS} days; "
            f"at most {CALENDAR_MAX_DAYS:,} days after start."
        ),
    ] = None,
) -> Calendar:
    """The exchange's calendar for [start, end): each day says whether it trades, its session
    open and close (UTC; Ghana time is UTC, no DST), and the holiday's name when it is one."""
    start = start or clock.today()
    if end is None:
        end = start + timedelta(days=min(CALENDAR_DEFAULT_DAYS, (date.max - start).days))
    if start >= end:
        raise ApiError(
            422, "invalid_request", f"start ({start}) must be before end ({end}): ranges are [start, end)"
        )
    if (end - start).days > CALENDAR_MAX_DAYS:
        raise ApiError(
            422,
            "invalid_request",
            f"at most {CALENDAR_MAX_DAYS:,} days per request (asked for {(end - start).days:,}); split the range",
        )
    days = conn.execute(
        """
        select calendar_date, is_trading_day, session_open_at, session_close_at, holiday_name
        from marts.dim_calendar_days
        where calendar_date >= %s and calendar_date < %s
        order by calendar_date
        """,
        (start, end),
    ).fetchall()
    published_from, published_to = conn.execute(
        "select min(calendar_date), max(calendar_date) from marts.dim_calendar_days"
    ).fetchone()
    data = [
        CalendarDay(
            date=day,
            is_trading_day=trading,
            session_open_at=_utc(opens),
            session_close_at=_utc(closes),
            holiday_name=holiday,
        )
        for day, trading, opens, closes, holiday in days
    ]
    note_access(
        request, "marts.dim_calendar_days", len(data), {"start": start.isoformat(), "end": end.isoformat()}
    )
    return Calendar(
        start=start,
        end=end,
        published_from=published_from,
        published_to=published_to,
        count=len(data),
        data=data,
    )


def known_symbols(conn: psycopg.Connection, symbols: str | None) -> list[str] | None:
    """The requested symbols (`symbol=A,B`) without repeats (None: every symbol); 404 for any never listed."""
    requested = parse_symbols(symbols)
    if requested is None:
        return None
    require_known_symbols(conn, requested)
    return list(dict.fromkeys(requested))


def require_known_symbols(conn: psycopg.Connection, symbols: list[str]) -> None:
    """404 `unknown_symbol` naming the symbols the exchange never listed (422 for text that cannot be
    a symbol). History routes use it too: a typo must not look like a quiet market."""
    _require_known(
        conn, "symbol", symbols, "select symbol from marts.dim_instruments where symbol = any(%(v)s)"
    )


def _require_known(conn: psycopg.Connection, name: str, values: list[str], known_sql: str) -> None:
    """404 naming the values the exchange never had (422 for ones that cannot be names at all);
    `known_sql` selects the known ones among `%(v)s`."""
    malformed = [value for value in values if not NAME.fullmatch(value)]
    if malformed:
        raise ApiError(
            422, "invalid_request", f"{name}: not a valid {name}: {', '.join(map(repr, malformed))}"
        )
    known = {row[0] for row in conn.execute(known_sql, {"v": values}).fetchall()}
    unknown = [value for value in values if value not in known]
    if unknown:
        raise ApiError(
            404,
            f"unknown_{name}",
            f"no instrument has {name} {', '.join(unknown)}; GET /v1/instruments lists them",
            {f"unknown_{name}s": unknown},
        )


def _utc(instant: datetime | None) -> datetime | None:
    return None if instant is None else instant.astimezone(UTC)
