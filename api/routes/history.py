"""History: trades, OHLCV bars and the daily market summary, from the trading marts.

Every route pages the same way: a stable order, `limit` rows per page (default `DEFAULT_LIMIT`,
at most the tier's `max_page_size`; more is refused, never lowered), and an opaque cursor for the
row after the page. The window [start, end) is checked against the tier by `tier_window`: the free
tier sees nothing newer than now - 15 min (a bar only once its interval has ended by then, a day
only once it is over by then) and nothing older than 30 days.

An unknown symbol is 404 (`unknown_symbol`), not an empty page: a typo must not look like a quiet
market. A known symbol without rows in the window gives an empty page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Query, Request, Response
from psycopg import sql
from pydantic import BaseModel, Field

from api.deps import ConnDep, NowDep, PrincipalDep
from api.errors import AUTHENTICATED_RESPONSES, NOT_FOUND_RESPONSE, ApiError
from api.formats import Column, columns_of, page_responses, render_page
from api.metering import note_access
from api.models import Page, Trade
from api.params import (
    TIMESTAMP_HELP,
    OutputFormat,
    SymbolsQuery,
    TimeWindow,
    allowed_page_size,
    decode_cursor,
    split_page,
    tier_window,
)
from api.routes.reference import known_symbols
from gcx.access.entitlements import TIERS

router = APIRouter(prefix="/v1", tags=["history"])

MAX_CURSOR_LENGTH = 256
"""Cursors this API makes are well under this; a longer one is refused before it is decoded."""
DEFAULT_LIMIT = 1_000
"""Rows per page when `limit` is not given (the free tier's largest page, so it suits every tier)."""
LARGEST_LIMIT = max(tier.max_page_size for tier in TIERS.values())
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Interval(StrEnum):
    one_minute = "1m"
    five_minutes = "5m"
    one_hour = "1h"
    one_day = "1d"


BAR_TABLES = {interval: sql.Identifier("marts", f"fct_ohlcv_{interval.value}") for interval in Interval}


class Bar(BaseModel):
    """One OHLCV bar, stamped with its interval's start; an interval without a trade has no bar."""

    symbol: str
    bar_start_at: datetime = Field(
        description="Start of the bar's interval (UTC); the bar covers [start, start + interval)."
    )
    ts_ns: int = Field(description="bar_start_at as integer nanoseconds since the epoch (UTC).")
    open_ghs_per_t: float = Field(description="Price of the interval's first trade (GHS per tonne).")
    high_ghs_per_t: float
    low_ghs_per_t: float
    close_ghs_per_t: float = Field(description="Price of the interval's last trade (GHS per tonne).")
    vwap_ghs_per_t: float = Field(description="Volume-weighted average price, value_ghs / volume_t.")
    volume_t: float = Field(description="Tonnes traded in the interval.")
    value_ghs: float = Field(description="Sum of price x quantity over the interval's trades (GHS).")
    trade_count: int


class DailySummary(BaseModel):
    """One instrument's trading day (days with at least one trade) and its settlement price."""

    trade_date: date = Field(description="The trading day (UTC; Ghana time is UTC).")
    symbol: str
    open_ghs_per_t: float
    high_ghs_per_t: float
    low_ghs_per_t: float
    close_ghs_per_t: float
    vwap_ghs_per_t: float = Field(description="VWAP of the whole day.")
    volume_t: float
    value_ghs: float
    trade_count: int
    settlement_price_ghs_per_t: float = Field(
        description="VWAP of the session's last 30 minutes, or the day's close (see settlement_price_method)."
    )
    settlement_price_method: Literal["closing_vwap", "close"] = Field(
        description="`closing_vwap` (trades in the closing window) or `close` (none there, or no session that day)."
    )
    previous_settlement_price_ghs_per_t: float | None = Field(
        description="The instrument's settlement price on its previous day with trades."
    )
    settlement_change_ghs_per_t: float | None = Field(
        description="settlement_price_ghs_per_t - previous_settlement_price_ghs_per_t."
    )


# The typed columns of each page in every format (the Parquet schema), from the response models
TRADE_SCHEMA = columns_of(Trade)
BAR_SCHEMA = columns_of(Bar)
SUMMARY_SCHEMA = columns_of(DailySummary)

# What a page selects, in the models' field order. Instants leave as UTC wall time (`at time zone
# 'UTC'`: naive in Python, which the encoders read as UTC) whatever the session's TimeZone; numerics
# as float8 (cheap to encode; the models say float).
TRADE_FIELDS = """
    trade_id, symbol, executed_at at time zone 'UTC', (extract(epoch from executed_at) * 1000000)::bigint * 1000,
    price_ghs_per_t::float8, quantity_t::float8, value_ghs::float8, aggressor_side, buyer_member_id, seller_member_id
"""
BAR_FIELDS = """
    symbol, bar_start_at at time zone 'UTC', (extract(epoch from bar_start_at) * 1000000)::bigint * 1000,
    open_ghs_per_t::float8, high_ghs_per_t::float8, low_ghs_per_t::float8, close_ghs_per_t::float8,
    vwap_ghs_per_t::float8, volume_t::float8, value_ghs::float8, trade_count
"""
SUMMARY_FIELDS = """
    trade_date, symbol, open_ghs_per_t::float8, high_ghs_per_t::float8, low_ghs_per_t::float8,
    close_ghs_per_t::float8, vwap_ghs_per_t::float8, volume_t::float8, value_ghs::float8, trade_count,
    settlement_price_ghs_per_t::float8, settlement_price_method, previous_settlement_price_ghs_per_t::float8,
    settlement_change_ghs_per_t::float8
"""

StartQuery = Annotated[
    str, Query(description=f"Window start, inclusive. {TIMESTAMP_HELP}", examples=["2026-11-18T10:00:00Z"])
]
EndQuery = Annotated[
    str | None,
    Query(
        description=f"Window end, exclusive. {TIMESTAMP_HELP} Default: now (free tier: now - 15 min).",
        examples=["2026-11-19T00:00:00Z"],
    ),
]
LimitQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=LARGEST_LIMIT,
        description=(
            f"Rows per page, default {DEFAULT_LIMIT:,}. At most the tier's largest page "
            "(free 1,000, member 10,000, pro 50,000): a larger limit is refused (422 `limit_too_large`)."
        ),
        examples=[1000],
    ),
]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page (also in `X-Next-Cursor`); omit for the first page.",
    ),
]
FormatQuery = Annotated[
    OutputFormat,
    Query(alias="format", description="json (default), csv or parquet: the same columns in the same order."),
]

HISTORY_RESPONSES = {200: page_responses(), **AUTHENTICATED_RESPONSES, **NOT_FOUND_RESPONSE}


@router.get("/trades", response_model=Page[Trade], responses=HISTORY_RESPONSES)
def trades(
    request: Request,
    principal: PrincipalDep,
    conn: ConnDep,
    now: NowDep,
    start: StartQuery,
    end: EndQuery = None,
    symbols: SymbolsQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
    output: FormatQuery = OutputFormat.json,
) -> Response:
    """Trades executed in [start, end), in (executed_at, trade_id) order: the `Trade` record that the
    realtime tail and stream also send."""
    window = tier_window(principal, start, end, now)
    page_size = allowed_page_size(principal, limit, DEFAULT_LIMIT)
    symbol_list = known_symbols(conn, symbols)
    conditions = [sql.SQL("executed_at >= %(start)s and executed_at < %(end)s")]
    params: dict[str, Any] = {"start": window.start, "end": window.end, "limit": page_size + 1}
    if cursor is not None:
        position = decode_cursor(cursor, {"ts_ns", "trade_id"})
        params["after_at"], params["after_id"] = _instant(position["ts_ns"]), _text(position["trade_id"])
        conditions.append(sql.SQL("(executed_at, trade_id) > (%(after_at)s, %(after_id)s)"))
    table = sql.Identifier("marts", "fct_trades")
    rows = _fetch(conn, TRADE_FIELDS, table, conditions, "executed_at, trade_id", symbol_list, params)
    rows, next_cursor = split_page(rows, page_size, lambda last: {"ts_ns": last[3], "trade_id": last[0]})
    return _respond(request, "marts.fct_trades", rows, TRADE_SCHEMA, output, next_cursor, window, symbol_list)


@router.get("/ohlcv", response_model=Page[Bar], responses=HISTORY_RESPONSES)
def ohlcv(
    request: Request,
    principal: PrincipalDep,
    conn: ConnDep,
    now: NowDep,
    interval: Annotated[
        Interval, Query(description="Bar length: 1m, 5m, 1h or 1d (UTC-aligned).", examples=["1m"])
    ],
    start: StartQuery,
    end: EndQuery = None,
    symbols: SymbolsQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
    output: FormatQuery = OutputFormat.json,
) -> Response:
    """OHLCV bars whose **start** lies in [start, end), in (bar_start_at, symbol) order. On the free
    tier a bar appears only once its whole interval has ended 15 minutes ago (a bar still filling up
    would reveal recent trades)."""
    window = tier_window(principal, start, end, now)
    page_size = allowed_page_size(principal, limit, DEFAULT_LIMIT)
    symbol_list = known_symbols(conn, symbols)
    conditions = [sql.SQL("bar_start_at >= %(start)s and bar_start_at < %(end)s")]
    params: dict[str, Any] = {"start": window.start, "end": window.end, "limit": page_size + 1}
    if principal.tier.delay:
        params["visible_until"] = principal.tier.visible_until(now)
        conditions.append(sql.SQL("bar_end_at <= %(visible_until)s"))
    if cursor is not None:
        position = decode_cursor(cursor, {"ts_ns", "symbol"})
        params["after_at"], params["after_symbol"] = _instant(position["ts_ns"]), _text(position["symbol"])
        conditions.append(sql.SQL("(bar_start_at, symbol) > (%(after_at)s, %(after_symbol)s)"))
    rows = _fetch(
        conn, BAR_FIELDS, BAR_TABLES[interval], conditions, "bar_start_at, symbol", symbol_list, params
    )
    rows, next_cursor = split_page(rows, page_size, lambda last: {"ts_ns": last[2], "symbol": last[0]})
    dataset = f"marts.fct_ohlcv_{interval.value}"
    return _respond(request, dataset, rows, BAR_SCHEMA, output, next_cursor, window, symbol_list)


@router.get("/summary/daily", response_model=Page[DailySummary], responses=HISTORY_RESPONSES)
def daily_summary(
    request: Request,
    principal: PrincipalDep,
    conn: ConnDep,
    now: NowDep,
    start: Annotated[
        date, Query(description="First trading day, inclusive (YYYY-MM-DD).", examples=["2026-11-16"])
    ],
    end: Annotated[
        date | None,
        Query(
            description="Last day, exclusive (YYYY-MM-DD). Default: every day up to today "
            "(free tier: up to the last day that ended 15 minutes ago).",
            examples=["2026-11-20"],
        ),
    ] = None,
    symbols: SymbolsQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
    output: FormatQuery = OutputFormat.json,
) -> Response:
    """Each instrument's trading days in [start, end) with OHLC, VWAP, volume, value and the settlement
    price, in (trade_date, symbol) order. On the free tier a day appears once it is over and 15
    minutes have passed."""
    window = tier_window(principal, start.isoformat(), end.isoformat() if end else None, now)
    page_size = allowed_page_size(principal, limit, DEFAULT_LIMIT)
    symbol_list = known_symbols(conn, symbols)
    # [start, end) in days; without `end`, through the day `window.end` falls in
    days_end = end or window.end.date() + timedelta(days=1)
    if principal.tier.delay:
        # day d is over at d + 1 day 00:00, which must be at or before visible_until
        days_end = min(days_end, principal.tier.visible_until(now).date())
    conditions = [sql.SQL("trade_date >= %(start)s and trade_date < %(end)s")]
    params: dict[str, Any] = {"start": start, "end": days_end, "limit": page_size + 1}
    if cursor is not None:
        position = decode_cursor(cursor, {"trade_date", "symbol"})
        params["after_date"], params["after_symbol"] = _day(position["trade_date"]), _text(position["symbol"])
        conditions.append(sql.SQL("(trade_date, symbol) > (%(after_date)s, %(after_symbol)s)"))
    table = sql.Identifier("marts", "fct_daily_market_summary")
    rows = _fetch(conn, SUMMARY_FIELDS, table, conditions, "trade_date, symbol", symbol_list, params)
    rows, next_cursor = split_page(
        rows, page_size, lambda last: {"trade_date": last[0].isoformat(), "symbol": last[1]}
    )
    applied = TimeWindow(window.start, datetime.combine(days_end, datetime.min.time(), UTC))
    dataset = "marts.fct_daily_market_summary"
    return _respond(request, dataset, rows, SUMMARY_SCHEMA, output, next_cursor, applied, symbol_list)


def _fetch(
    conn: psycopg.Connection,
    fields: str,
    table: sql.Identifier,
    conditions: list[sql.Composable],
    order_by: str,
    symbols: list[str] | None,
    params: dict[str, Any],
) -> list[tuple]:
    """One page of `fields` from `table`. The page is cut on the stored rows first and only its rows
    are converted (timestamps, float8 casts), not every row of the window."""
    if symbols is not None:
        conditions = [*conditions, sql.SQL("symbol = any(%(symbols)s)")]
        params = params | {"symbols": symbols}
    query = sql.SQL(
        "select {fields} from (select * from {table} where {conditions} order by {order_by} limit %(limit)s) as page"
        " order by {order_by}"
    ).format(
        fields=sql.SQL(fields),
        table=table,
        conditions=sql.SQL(" and ").join(conditions),
        order_by=sql.SQL(order_by),
    )
    with conn.cursor(binary=True) as cursor:
        return cursor.execute(query, params).fetchall()


def _respond(
    request: Request,
    dataset: str,
    rows: Sequence[tuple],
    columns: Sequence[Column],
    output: OutputFormat,
    next_cursor: str | None,
    window: TimeWindow,
    symbols: list[str] | None,
) -> Response:
    note_access(
        request,
        dataset,
        len(rows),
        {
            "symbols": symbols,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "format": output.value,
            "cursor": request.query_params.get("cursor"),
        },
    )
    envelope = {"start": window.start, "end": window.end}
    return render_page(
        request,
        rows,
        columns,
        output,
        next_cursor=next_cursor,
        envelope=envelope,
        filename=dataset.split(".")[-1],
    )


def _bad_cursor() -> ApiError:
    return ApiError(422, "invalid_request", "cursor: not a cursor returned by this route")


def _instant(ts_ns: Any) -> datetime:
    if not isinstance(ts_ns, int) or isinstance(ts_ns, bool):
        raise _bad_cursor()
    try:
        return EPOCH + timedelta(microseconds=ts_ns // 1000)
    except OverflowError:
        raise _bad_cursor() from None


def _text(value: Any) -> str:
    """A text field of a cursor: one PostgreSQL can take (no NUL, no lone surrogate)."""
    if not isinstance(value, str) or "\x00" in value:
        raise _bad_cursor()
    try:
        value.encode()
    except UnicodeEncodeError:
        raise _bad_cursor() from None
    return value


def _day(value: Any) -> date:
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        raise _bad_cursor() from None
