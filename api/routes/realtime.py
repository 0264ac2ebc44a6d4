"""Realtime: the tail of the live feed, Server-Sent Events and a WebSocket, all from hot.trades.

The live feed consumer (`gcx feed`) stores valid trades in hot.trades and NOTIFYs; one fan-out per
API process (api/stream.py) passes them on. Every route sends the same `Trade` record as history,
with a cursor: pass it back (`after=`, `Last-Event-ID`, or a WebSocket `after`) and nothing is
missed and nothing repeats. The free tier sees everything 15 minutes late: the server holds each
trade until it is old enough, and a cursor never passes a trade the caller may not see yet. The hot
table keeps the last 7 days; an older cursor gets 410 `cursor_expired` (use /v1/trades).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api import ratelimit
from api.deps import NowDep, PrincipalDep, admit, rate_limited
from api.errors import AUTHENTICATED_RESPONSES, ApiError, ErrorBody, ErrorDetail
from api.limits import MAX_WS_MESSAGE_BYTES
from api.metering import Access, note_access, request_row
from api.models import Page, Trade
from api.params import SymbolsQuery, allowed_page_size, decode_cursor
from api.routes.reference import known_symbols
from api.stream import (
    HEARTBEAT_S,
    HotPage,
    Subscription,
    TradeEvent,
    TradeStream,
    cursor_of,
    page_body,
    read_page,
    sse_message,
)
from gcx import clock, database
from gcx.access.entitlements import TIERS
from gcx.access.keys import KeyRejected, Principal, authenticate
from gcx.governance import roles

DEFAULT_TAIL = 100
REPLAY_PAGE = 1_000
WS_AUTH_TIMEOUT_S = 10.0
DATASET = "hot.trades"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The fan-out: one LISTEN connection for this process, started and stopped with the app."""
    settings = app.state.settings
    database.ensure_databases(settings)
    stream = TradeStream(
        roles.api_database_url(settings),  # least privilege: reads hot.trades as gcx_api, as the routes do
        sorted({tier.delay for tier in TIERS.values()}),
    )
    app.state.trade_stream = stream
    await stream.start()
    try:
        yield
    finally:
        await stream.close()


router = APIRouter(prefix="/v1", tags=["realtime"], lifespan=lifespan)

CURSOR_EXPIRED_RESPONSE = {
    410: {
        "model": ErrorBody,
        "description": "The cursor is older than the hot table (7 days): read that span with /v1/trades.",
    }
}
REALTIME_RESPONSES = {**AUTHENTICATED_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown symbol."}}

AfterQuery = Annotated[
    str | None,
    Query(
        description="A cursor from an earlier response (`next_cursor`, an event's `id`): only what came after it.",
        examples=["eyJzZXEiOjEyfQ"],
    ),
]


def parse_after(after: str | None) -> int | None:
    if after is None:
        return None
    seq = decode_cursor(after, {"seq"}, "after")["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ApiError(422, "invalid_request", "after: not a cursor returned by this API")
    return seq


def _visible_until(principal: Principal, now: datetime | None = None) -> datetime | None:
    return principal.tier.visible_until(now or clock.now()) if principal.tier.delay else None


def _check_not_expired(page: HotPage, after: int | None) -> None:
    if after is not None and after < page.pruned_through:
        raise ApiError(
            410,
            "cursor_expired",
            "the cursor points before the hot table's 7 days; read that span with /v1/trades, then tail from now",
            {"oldest_cursor": cursor_of(page.pruned_through)},
        )


# ---------------------------------------------------------------------------------------------
# Tail


@router.get(
    "/trades/tail", response_model=Page[Trade], responses={**REALTIME_RESPONSES, **CURSOR_EXPIRED_RESPONSE}
)
def trades_tail(
    request: Request,
    principal: PrincipalDep,
    now: NowDep,
    symbols: SymbolsQuery = None,
    after: AfterQuery = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description=f"Trades per page (default {DEFAULT_TAIL}; at most the tier's largest page).",
            examples=[100],
        ),
    ] = None,
) -> Response:
    """The newest trades of the live feed. Without `after`: the last `limit` trades; with `after`:
    the trades after that cursor, up to `limit`. Oldest first either way. `next_cursor` is always
    set: pass it as `after` to get what comes next (a page shorter than `limit` means you are
    caught up). The free tier sees trades executed before now - 15 min only."""
    page_size = allowed_page_size(principal, limit, DEFAULT_TAIL)
    position = parse_after(after)
    # the pool here, not ConnDep: a generator dependency costs two more threadpool hops per request
    with request.app.state.pool.connection() as conn:
        symbol_list = known_symbols(conn, symbols)
        page = read_page(
            conn,
            0 if position is None else position,
            page_size,
            symbol_list,
            _visible_until(principal, now),
            newest=position is None,
        )
    _check_not_expired(page, position)
    if position is not None and len(page.events) == page_size:
        next_seq = page.events[-1].seq
    else:  # everything up to the head was returned (or it is the newest page)
        next_seq = max(page.head, position or 0)
    note_access(
        request, DATASET, len(page.events), {"symbols": symbol_list, "after": after, "limit": page_size}
    )
    # the trades are JSON already (api.stream): validating them again per request was most of its time
    return Response(page_body(page.events, cursor_of(next_seq)), media_type="application/json")


# ---------------------------------------------------------------------------------------------
# A subscriber: replay from the table, then live from the fan-out


class Feed:
    """One subscriber's trades in seq order: registers first, replays, then takes the live queue."""

    def __init__(self, request_app: Any, principal: Principal, symbols: list[str] | None, after: int | None):
        self.app = request_app
        self.stream: TradeStream = request_app.state.trade_stream
        self.principal = principal
        self.symbols = symbols
        self.subscription: Subscription = self.stream.subscribe(
            set(symbols) if symbols else None, principal.tier.delay
        )
        self._watch = self.stream.keys.watch(principal.key_id, self.subscription.revoke)
        self.after = after
        self.last_seq = after or 0

    def close(self) -> None:
        self.stream.unsubscribe(self.subscription)
        self.stream.keys.unwatch(self.principal.key_id, self._watch)

    def _read(self, after: int, limit: int = REPLAY_PAGE) -> HotPage:
        with self.app.state.pool.connection() as conn:
            return read_page(conn, after, limit, self.symbols, _visible_until(self.principal))

    async def start(self) -> None:
        """Check the cursor, and without one start at the head (what the caller may see now)."""
        # without a cursor only the head matters: one row, not a page
        page = await run_in_threadpool(
            self._read, self.after or 0, REPLAY_PAGE if self.after is not None else 1
        )
        _check_not_expired(page, self.after)
        if self.after is None:
            self.last_seq = page.head
            self._replayed = []
        else:
            self._replayed = page.events
            self._replay_done = len(page.events) < REPLAY_PAGE
            if self._replay_done:
                self.last_seq = max(self.last_seq, page.head)

    async def batches(self) -> AsyncIterator[list[TradeEvent]]:
        """Trades after the cursor, forever, in seq order: each time, every trade waiting (a burst is
        one write, not one per trade); an empty list for a heartbeat (nothing was sent for a while)."""
        while self._replayed:
            batch = self._replayed
            self.last_seq = batch[-1].seq
            yield batch
            if self._replay_done:
                break
            page = await run_in_threadpool(self._read, self.last_seq)
            self._replayed, self._replay_done = page.events, len(page.events) < REPLAY_PAGE
        self._replayed = []
        while not self.subscription.ended:
            waiting = await self.subscription.take()
            # the replay sent some of these already
            batch = [event for event in waiting if event is not None and event.seq > self.last_seq]
            if batch:
                self.last_seq = batch[-1].seq
                yield batch
            elif None in waiting:
                yield []

    @property
    def revoked(self) -> bool:
        return self.subscription.revoked

    def resume_notice(self) -> dict[str, Any]:
        return {
            "reason": "slow_consumer",
            "message": "this stream fell too far behind and was closed; reconnect with this cursor "
            "(Last-Event-ID or after=) and nothing is missed",
            "cursor": cursor_of(self.last_seq),
        }


# ---------------------------------------------------------------------------------------------
# Server-Sent Events

SSE_DESCRIPTION = f"""`text/event-stream`. Each trade is one event: `id:` its cursor, `event: trade`,
`data:` the `Trade` as JSON. A comment line `: heartbeat` comes after {HEARTBEAT_S:.0f} s without a
trade. A subscriber that reads too slowly gets a final `event: resume` whose data carries the cursor
to reconnect with; nothing is lost. Reconnect with `Last-Event-ID: <last id>` (browsers' EventSource
does it by itself) or `after=`."""


@router.get(
    "/stream/trades",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": SSE_DESCRIPTION,
        },
        **REALTIME_RESPONSES,
        **CURSOR_EXPIRED_RESPONSE,
    },
)
async def stream_trades(
    request: Request,
    principal: PrincipalDep,
    symbols: SymbolsQuery = None,
    after: AfterQuery = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="The `id` of the last event received: resume right after it (wins over `after`).",
        ),
    ] = None,
) -> StreamingResponse:
    """Trades as they are stored, as Server-Sent Events; resumable with no gap and no duplicate.
    Without a cursor the stream starts now. The free tier receives each trade 15 minutes after it
    executed, and names the one symbol it follows (403 `too_many_symbols` otherwise)."""
    symbol_list = await run_in_threadpool(_symbols_checked, request.app, symbols)
    check_stream_symbols(principal, symbol_list)
    position = parse_after(last_event_id if last_event_id else after)
    feed = Feed(request.app, principal, symbol_list, position)
    try:
        await feed.start()
    except BaseException:
        feed.close()
        raise
    note_access(
        request,
        DATASET,
        0,
        {"symbols": symbol_list, "after": last_event_id or after, "transport": "sse"},
        action="stream",
    )

    access = request.state.access  # its row count grows with every trade sent

    async def body() -> AsyncIterator[str | bytes]:
        try:
            yield f"retry: 1000\n: stream of {', '.join(symbol_list or ['every symbol'])}\n\n"
            async for batch in feed.batches():
                if not batch:
                    yield f": heartbeat {clock.now().isoformat()}\n\n"
                    continue
                access.rows += len(batch)
                yield b"".join(event.sse for event in batch)
            if feed.revoked:
                yield sse_message("error", KEY_REVOKED["error"])
            else:
                yield sse_message("resume", feed.resume_notice())
        finally:
            feed.close()

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def check_stream_symbols(principal: Principal, symbols: Collection[str] | None) -> None:
    """403 `too_many_symbols` when a stream would follow more symbols at once than the key's tier
    allows (`symbols` None: every symbol)."""
    allowed = principal.tier.stream_symbols
    if allowed is None or (symbols is not None and len(symbols) <= allowed):
        return
    asked = "every symbol" if symbols is None else f"{len(symbols)} symbols"
    raise ApiError(
        403,
        "too_many_symbols",
        f"the {principal.tier.name} tier follows {allowed} symbol(s) at a time on a stream, not {asked}:"
        " name them (`symbol=` on /v1/stream/trades, `symbols` in a WebSocket subscribe)",
        {"tier": principal.tier.name, "allowed_symbols": allowed},
    )


def _symbols_checked(app: Any, symbols: str | None) -> list[str] | None:
    """The symbols asked for (404 for one never listed), from async routes (runs in the threadpool)."""
    with app.state.pool.connection() as conn:
        return known_symbols(conn, symbols)


# ---------------------------------------------------------------------------------------------
# WebSocket


def _error(status: int, reason: str, message: str, detail: Any = None) -> dict[str, Any]:
    return ErrorBody(
        error=ErrorDetail(status=status, reason=reason, message=message, detail=detail)
    ).model_dump()


KEY_REVOKED = _error(401, "key_revoked", "this key was revoked while the stream was open: the stream ends")
"""The last message of a stream or WebSocket whose key is revoked (within KEY_CHECK_S)."""


class WsSession:
    """One WebSocket: its caller, one `Feed` per subscribe, and the rows it sent (for the audit)."""

    def __init__(self, websocket: WebSocket, principal: Principal):
        self.websocket = websocket
        self.principal = principal
        self.pumps: dict[asyncio.Task, Feed] = {}
        self.send_lock = asyncio.Lock()
        self.rows = 0
        self.subscriptions: list[dict[str, Any]] = []
        self.keys = websocket.app.state.trade_stream.keys
        self._watch = self.keys.watch(principal.key_id, self._on_revoked)
        self.ending: asyncio.Task | None = None

    def _on_revoked(self) -> None:
        self.ending = asyncio.create_task(self._end_revoked())

    async def _end_revoked(self) -> None:
        """The key was revoked: stop every feed, say why, close (1008: policy violation)."""
        self.close()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.send(KEY_REVOKED)
            await self.websocket.close(code=1008)

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send a message (a dict, or JSON text already encoded)."""
        async with self.send_lock:
            await self.websocket.send_text(message if isinstance(message, str) else json.dumps(message))

    async def subscribe(self, symbols: list[str] | None, after: int | None) -> None:
        others = [feed.symbols for feed in self.pumps.values()]
        following = None if symbols is None or None in others else set(symbols).union(*others)
        check_stream_symbols(self.principal, following)
        self.unsubscribe(symbols)  # a symbol is in one subscription at a time: the newest cursor wins
        feed = Feed(self.websocket.app, self.principal, symbols, after)
        try:
            await feed.start()
        except BaseException:
            feed.close()
            raise
        await self.send({"subscribed": {"symbols": symbols, "cursor": cursor_of(feed.last_seq)}})
        self.subscriptions.append({"symbols": symbols, "after": after})
        task = asyncio.create_task(self._pump(feed))
        self.pumps[task] = feed

    async def refuse(self, error: ApiError) -> int:
        """Answer a message with the API's error body; its status, for the request log."""
        await self.send(_error(error.status, error.reason, error.message, error.detail))
        return error.status

    def take_quota(self) -> ratelimit.Quota:
        """Count a message against the key's rate limit, as a request (runs in the threadpool)."""
        with self.websocket.app.state.pool.connection() as conn:
            return ratelimit.take(conn, self.principal.key_id, self.principal.tier.requests_per_minute)

    def unsubscribe(self, symbols: list[str] | None) -> list[str] | None:
        for task, feed in list(self.pumps.items()):
            if symbols is None or feed.symbols is None:
                if symbols is None:
                    self._stop(task)
                continue
            feed.subscription.symbols.difference_update(symbols)
            feed.symbols = [s for s in feed.symbols if s not in symbols]
            if not feed.symbols:
                self._stop(task)
        return symbols

    def _stop(self, task: asyncio.Task) -> None:
        task.cancel()
        self.pumps.pop(task).close()

    async def _pump(self, feed: Feed) -> None:
        async for batch in feed.batches():
            for event in batch:
                await self.send(event.websocket_message())
                self.rows += 1
        if feed.revoked:  # the session says so, once, and closes
            return
        notice = feed.resume_notice()
        await self.send(
            _error(
                409, "slow_consumer", notice["message"], {"cursor": notice["cursor"], "symbols": feed.symbols}
            )
        )
        await self.websocket.close(code=1013)

    def close(self) -> None:
        for task in list(self.pumps):
            self._stop(task)
        self.keys.unwatch(self.principal.key_id, self._watch)


async def _authenticate_ws(websocket: WebSocket) -> Principal | None:
    """The caller from `Authorization: Bearer` or a first message {"action": "auth", "key": ...};
    sends the error and returns None when there is none or it is refused."""
    header = websocket.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else None
    if key is None:
        try:
            first = json.loads(await asyncio.wait_for(websocket.receive_text(), WS_AUTH_TIMEOUT_S))
        except (TimeoutError, ValueError):
            first = None
        if isinstance(first, dict) and first.get("action") == "auth" and isinstance(first.get("key"), str):
            key = first["key"]
        else:
            await websocket.send_json(
                _error(
                    401,
                    "missing_key",
                    'authenticate first: `Authorization: Bearer <key>` or {"action": "auth", "key": "<key>"}',
                )
            )
            return None

    def check() -> Principal:
        with websocket.app.state.pool.connection() as conn:
            principal = authenticate(conn, key)
            admit(websocket, principal, conn)
            return principal

    try:
        return await run_in_threadpool(check)
    except KeyRejected as rejected:
        await websocket.send_json(_error(401, rejected.reason, rejected.message))
    except ApiError as refused:
        await websocket.send_json(_error(refused.status, refused.reason, refused.message, refused.detail))
    return None


@router.websocket("/ws")
async def trades_websocket(websocket: WebSocket) -> None:
    """Trades over a WebSocket. Authenticate with `Authorization: Bearer <key>` or, from a browser,
    with a first message `{"action": "auth", "key": "<key>"}` (never in the URL). Then
    `{"action": "subscribe", "symbols": ["GEJWM1"], "after": "<cursor>"}` (symbols omitted: all;
    after omitted: from now) and `{"action": "unsubscribe", "symbols": [...]}`. Trades arrive as
    `{"type": "trade", "cursor": "...", "trade": {Trade}}`; errors as `{"error": {...}}`, the API's
    one error shape. The free tier receives each trade 15 minutes after it executed, and follows one
    symbol at a time (403 `too_many_symbols`). Every message counts against the key's rate limit as a
    request does (429 `rate_limited` with `retry_after_s`), and is metered in api.request_log."""
    await websocket.accept()
    try:
        principal = await _authenticate_ws(websocket)
    except WebSocketDisconnect:
        return
    if principal is None:
        await websocket.close(code=1008)
        return
    meter = websocket.app.state.meter
    started = time.monotonic()
    meter.record_audit(
        None, principal.key_id, principal.role, Access(DATASET, "stream_open", 0, {"transport": "websocket"})
    )
    session = WsSession(websocket, principal)
    await session.send({"authenticated": {"key_id": principal.key_id, "tier": principal.tier.name}})
    client = websocket.client.host if websocket.client else None
    try:
        while True:
            text = await websocket.receive_text()
            started, requested_at = time.perf_counter(), clock.now()
            status = await _answer(session, text)
            # each message is metered as a request of its own (no body: its trades are in the audit)
            meter.record_request(
                request_row(
                    uuid.uuid4(),
                    requested_at,
                    principal,
                    "WS",
                    "/v1/ws",
                    "/v1/ws",
                    status,
                    None,
                    0,
                    started,
                    client,
                )
            )
    except WebSocketDisconnect:
        pass
    finally:
        session.close()
        meter.record_audit(
            None,
            principal.key_id,
            principal.role,
            Access(
                DATASET,
                "stream_close",
                session.rows,
                {
                    "transport": "websocket",
                    "subscriptions": session.subscriptions,
                    "seconds": round(time.monotonic() - started, 1),
                },
            ),
        )


async def _answer(session: WsSession, text: str) -> int:
    """Answer one message: counted against the key's rate limit like a request (429 with the same
    body and `retry_after_s` once spent), then done; its status as a request's would be."""
    quota = await run_in_threadpool(session.take_quota)
    if quota.exceeded:
        return await session.refuse(rate_limited(session.principal, quota))
    if len(text) > MAX_WS_MESSAGE_BYTES:  # uvicorn closes on larger frames; other servers may not
        limit = {"limit_bytes": MAX_WS_MESSAGE_BYTES}
        return await session.refuse(
            ApiError(413, "payload_too_large", "messages are limited to 64 KiB", limit)
        )
    try:
        message = json.loads(text)
    except ValueError:
        return await session.refuse(ApiError(422, "invalid_request", "messages must be JSON objects"))
    try:
        await _handle(session, message)
    except ApiError as error:
        return await session.refuse(error)
    return 200


async def _handle(session: WsSession, message: Any) -> None:
    action = message.get("action") if isinstance(message, dict) else None
    if action not in ("subscribe", "unsubscribe", "auth"):
        raise ApiError(
            422, "invalid_request", 'action: must be "subscribe" or "unsubscribe"', {"got": action}
        )
    if action == "auth":
        raise ApiError(422, "invalid_request", "already authenticated")
    symbols = message.get("symbols")
    if symbols is not None and (
        not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols) or not symbols
    ):
        raise ApiError(
            422, "invalid_request", "symbols: must be a non-empty list of symbols (or omitted: every symbol)"
        )
    if symbols is not None:
        symbols = await run_in_threadpool(_symbols_checked, session.websocket.app, ",".join(symbols))
    if action == "unsubscribe":
        session.unsubscribe(symbols)
        await session.send({"unsubscribed": {"symbols": symbols}})
        return
    after = message.get("after")
    if after is not None and not isinstance(after, str):
        raise ApiError(422, "invalid_request", "after: must be a cursor string")
    await session.subscribe(symbols, parse_after(after))
