"""Realtime trades for the API: reading hot.trades by cursor, and the in-process fan-out.

    feed consumer --commit + NOTIFY gcx_hot_trades--> TradeStream (ONE async connection per API process:
    LISTEN, then one query per wake-up for everybody) --> a Timeline per delay --> each subscriber's
    bounded queue --> its SSE response or WebSocket

A cursor is a position in hot.trades (its `seq`, opaque to clients). Every reader sees a prefix of
the table by seq: the consumer commits in seq order, so a reader that has seen seq N has seen every
trade before it. A delayed tier (free: 15 minutes) sees the prefix up to the first trade whose
`executed_through` (the latest executed_at so far) is not yet old enough, so its cursors never pass
a trade it may not see yet, and it never sees a trade executed after now - delay.

A subscriber first registers (its queue collects everything published from then on), then replays
from the table everything after its cursor, then takes its queue, skipping what the replay already
sent: no gap, no duplicate. A subscriber whose queue fills up (it reads slower than trades arrive) is
dropped from the fan-out at once, so it cannot stall the others; its stream ends with an event
telling it to resume from its cursor, and the replay gives it everything it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from pydantic_core import to_json

from api.params import encode_cursor
from gcx import clock
from gcx.live_feed.hot import CONSUMER_NAME, HOT_CHANNEL

log = logging.getLogger(__name__)

QUEUE_SIZE = 1_000
"""Trades a subscriber may have waiting; past that it is disconnected and told to resume."""
FETCH_ROWS = 1_000
POLL_S = 1.0
"""How often the fan-out looks at hot.trades without a NOTIFY (a missed NOTIFY delays, never stalls)."""
EVENT_CACHE_ROWS = 20_000
"""Encoded trades kept for the next reader: the newest pages every tail and subscriber asks for."""
HEARTBEAT_S = 15.0
"""A subscriber that was sent nothing for this long gets a heartbeat (SSE: a `: heartbeat` comment)."""
HEARTBEAT_TICK_S = 1.0
DELAYED_TICK_S = 0.5
"""How often a delayed timeline releases what has become old enough."""
RECONNECT_S = 2.0
KEY_CHECK_S = 2.0
"""How often the keys behind open streams are looked at: a revoked key's streams end within this."""
MAX_SEQ = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_COLUMNS = sql.SQL(
    "t.seq, t.trade_id, t.symbol, t.executed_at, t.price_ghs_per_t::float8, t.quantity_t::float8,"
    " t.value_ghs::float8, t.aggressor_side, t.buyer_member_id, t.seller_member_id"
)


def page_query(*, delayed: bool, symbols: bool, newest: bool) -> sql.Composed:
    """Hot trades visible to a reader: after `%(after)s` (oldest first), or the newest (`newest`),
    at most `%(limit)s`, of `%(symbols)s` if `symbols`; for a `delayed` reader only the prefix whose
    trades all executed before `%(visible_until)s`. Every row carries the visible head (the highest
    visible seq) and the highest seq retention removed; with no trade, one row of nulls carries them.
    One statement, so one snapshot."""
    barrier = (
        sql.SQL(
            "(select coalesce((select seq from hot.trades where executed_through >= %(visible_until)s"
            " order by executed_through, seq limit 1), {max_seq}))"
        )
        if delayed
        else sql.SQL("{max_seq}")
    ).format(max_seq=sql.Literal(MAX_SEQ))
    return sql.SQL(
        """
        with bound as (select {barrier} as seq),
        page as (
            select {columns} from hot.trades t, bound
             where t.seq > %(after)s and t.seq < bound.seq {symbol_filter}
             order by t.seq {direction} limit %(limit)s
        )
        select (select coalesce(max(t.seq), 0) from hot.trades t, bound where t.seq < bound.seq),
               coalesce((select pruned_through from hot.consumer_offsets where consumer = {consumer}), 0),
               page.*
          from (select 1) one left join page on true
         order by page.seq
        """
    ).format(
        barrier=barrier,
        columns=_COLUMNS,
        symbol_filter=sql.SQL("and t.symbol = any(%(symbols)s)") if symbols else sql.SQL(""),
        direction=sql.SQL("desc" if newest else "asc"),
        consumer=sql.Literal(CONSUMER_NAME),
    )


def cursor_of(seq: int) -> str:
    """The cursor of a position in hot.trades: what `after=`, `Last-Event-ID` and WebSocket `after` take."""
    return encode_cursor({"seq": seq})


@dataclass(frozen=True)
class TradeEvent:
    """A hot trade, encoded once for every reader: the tail's pages, each SSE subscriber, each WebSocket."""

    seq: int
    symbol: str
    data: str
    """The `Trade` record as JSON (api.models.Trade's fields, in its order and formats)."""
    cursor: str
    sse: bytes
    """The whole Server-Sent Event, as sent: `id:` the cursor, `event: trade`, `data:` the trade."""

    def websocket_message(self) -> str:
        return f'{{"type":"trade","cursor":"{self.cursor}","trade":{self.data}}}'


@dataclass(frozen=True)
class HotPage:
    events: list[TradeEvent]
    head: int
    """The highest seq the reader may see now."""
    pruned_through: int
    """Cursors below this point into trades retention has removed."""


@functools.lru_cache(maxsize=EVENT_CACHE_ROWS)
def _event(row: tuple[Any, ...]) -> TradeEvent:
    """A row of `page_query` as an event. The JSON is written here, without building a pydantic
    `Trade` per row (the hot path of every tail and stream); tests hold it equal to `Trade`'s own.
    Cached by the whole row, so a trade many readers ask for is encoded once, and a different row
    under a reused seq (a replaced feed) is never served from the cache."""
    seq, trade_id, symbol, executed_at, price, quantity, value, aggressor, buyer, seller = row
    executed_at = executed_at.astimezone(UTC)
    trade = {
        "trade_id": trade_id,
        "symbol": symbol,
        "executed_at": executed_at,
        "ts_ns": (executed_at - EPOCH) // timedelta(microseconds=1) * 1_000,
        "price_ghs_per_t": price,
        "quantity_t": quantity,
        "value_ghs": value,
        "aggressor_side": aggressor,
        "buyer_member_id": buyer,
        "seller_member_id": seller,
    }
    data = to_json(trade).decode()
    cursor = cursor_of(seq)
    return TradeEvent(seq, symbol, data, cursor, f"id: {cursor}\nevent: trade\ndata: {data}\n\n".encode())


def page_body(events: Sequence[TradeEvent], next_cursor: str) -> bytes:
    """A `Page[Trade]` as JSON, spliced from the events' encoded trades."""
    rest = json.dumps(
        {"count": len(events), "next_cursor": next_cursor, "start": None, "end": None}, separators=(",", ":")
    )
    return f'{{"data":[{",".join(event.data for event in events)}],{rest[1:]}'.encode()


def _parameters(
    after: int, limit: int, symbols: Sequence[str] | None, visible_until: datetime | None
) -> dict:
    return {"after": after, "limit": limit, "symbols": list(symbols or []), "visible_until": visible_until}


def _page(rows: list[tuple]) -> HotPage:
    head, pruned_through = rows[0][0], rows[0][1]
    return HotPage([_event(row[2:]) for row in rows if row[2] is not None], head, pruned_through)


def read_page(
    conn: psycopg.Connection,
    after: int,
    limit: int,
    symbols: Sequence[str] | None = None,
    visible_until: datetime | None = None,
    newest: bool = False,
) -> HotPage:
    """One page of hot trades (see `page_query`), in seq order."""
    query = page_query(delayed=visible_until is not None, symbols=bool(symbols), newest=newest)
    return _page(conn.execute(query, _parameters(after, limit, symbols, visible_until)).fetchall())


async def read_page_async(
    conn: psycopg.AsyncConnection, after: int, limit: int, visible_until: datetime | None = None
) -> HotPage:
    query = page_query(delayed=visible_until is not None, symbols=False, newest=False)
    cursor = await conn.execute(query, _parameters(after, limit, None, visible_until))
    return _page(await cursor.fetchall())


# ---------------------------------------------------------------------------------------------
# The fan-out


class Subscription:
    """One subscriber: its symbols (None: all), what waits to be sent to it (bounded), and whether it
    fell behind. Waiting are trades, and None for a heartbeat (nothing was sent for a while).

    A list and one future rather than an asyncio.Queue: every trade passes through each of maybe
    thousands of subscriptions, and the queue's per-item bookkeeping was a fifth of the fan-out's time.
    """

    def __init__(self, symbols: set[str] | None, delay: timedelta, queue_size: int = QUEUE_SIZE):
        self.symbols = symbols
        self.delay = delay
        self.queue_size = queue_size
        self.waiting: list[TradeEvent | None] = []
        self._wakeup: asyncio.Future | None = None
        self.overflowed = False
        self.revoked = False
        self.last_offered = time.monotonic()

    def _put(self, item: TradeEvent | None) -> None:
        self.waiting.append(item)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def offer(self, event: TradeEvent) -> bool:
        """Add the event if it is for this subscriber; False when too much is waiting already."""
        if self.symbols is not None and event.symbol not in self.symbols:
            return True
        if len(self.waiting) >= self.queue_size:
            self.overflowed = True
            return False
        self._put(event)
        self.last_offered = time.monotonic()
        return True

    def revoke(self) -> None:
        """End the subscription: its key was revoked (the reader wakes up and stops)."""
        self.revoked = True
        self._put(None)

    @property
    def ended(self) -> bool:
        return self.overflowed or self.revoked

    def heartbeat_if_quiet(self, quiet_s: float, now: float) -> None:
        if now - self.last_offered >= quiet_s and len(self.waiting) < self.queue_size:
            self._put(None)
            self.last_offered = now

    async def take(self) -> list[TradeEvent | None]:
        """Everything waiting, as soon as there is something."""
        while not self.waiting:
            self._wakeup = asyncio.get_running_loop().create_future()
            await self._wakeup
        taken, self.waiting = self.waiting, []
        return taken


class Timeline:
    """The trades of one delay, released in seq order to its subscribers."""

    def __init__(self, delay: timedelta):
        self.delay = delay
        self.released = 0
        self.subscribers: set[Subscription] = set()

    def visible_until(self) -> datetime | None:
        return clock.now() - self.delay if self.delay else None

    def publish(self, events: list[TradeEvent]) -> None:
        for event in events:
            for subscriber in list(self.subscribers):
                if not subscriber.offer(event):
                    self.subscribers.discard(subscriber)
        if events:
            self.released = events[-1].seq


class KeyWatch:
    """Ends what a key holds open (streams, WebSockets) once the key is revoked. Every KEY_CHECK_S it
    asks, in one query, which of the keys behind open connections are revoked; each holder's
    `on_revoked` runs once."""

    def __init__(self, conninfo: str, interval_s: float = KEY_CHECK_S):
        self.conninfo = conninfo
        self.interval_s = interval_s
        self.holders: dict[str, dict[int, Any]] = {}

    def watch(self, key_id: str, on_revoked: Any) -> int:
        handle = id(on_revoked)
        self.holders.setdefault(key_id, {})[handle] = on_revoked
        return handle

    def unwatch(self, key_id: str, handle: int) -> None:
        holders = self.holders.get(key_id, {})
        holders.pop(handle, None)
        if not holders:
            self.holders.pop(key_id, None)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not self.holders:
                continue
            try:
                revoked = await self._revoked(list(self.holders))
            except psycopg.Error as error:
                log.warning("key watch: database unavailable (%s)", error)
                continue
            for key_id in revoked:
                for on_revoked in self.holders.pop(key_id, {}).values():
                    on_revoked()

    async def _revoked(self, key_ids: list[str]) -> list[str]:
        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
            cursor = await conn.execute(
                "select key_id from api.keys where key_id = any(%s) and revoked_at is not null", (key_ids,)
            )
            return [row[0] for row in await cursor.fetchall()]


class TradeStream:
    """One LISTEN connection per API process, fanning hot trades out to every subscriber (asyncio)."""

    def __init__(
        self,
        conninfo: str,
        delays: Sequence[timedelta],
        queue_size: int = QUEUE_SIZE,
        heartbeat_s: float = HEARTBEAT_S,
    ):
        self.conninfo = conninfo
        self.queue_size = queue_size
        self.heartbeat_s = heartbeat_s
        self.timelines = {delay: Timeline(delay) for delay in delays}
        self.keys = KeyWatch(conninfo)
        self._conn: psycopg.AsyncConnection | None = None
        self._tasks: list[asyncio.Task] = []
        self._started = False

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="trade-stream"),
            asyncio.create_task(self._heartbeats(), name="trade-stream-heartbeats"),
            asyncio.create_task(self.keys.run(), name="trade-stream-key-watch"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._conn:
            await self._conn.close()

    def subscribe(self, symbols: set[str] | None, delay: timedelta) -> Subscription:
        subscription = Subscription(symbols, delay, self.queue_size)
        self.timelines[delay].subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.timelines[subscription.delay].subscribers.discard(subscription)

    async def _connect(self) -> psycopg.AsyncConnection:
        conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await conn.execute(f"listen {HOT_CHANNEL}")
        if not self._started:  # start at the head: subscribers replay what they need
            for timeline in self.timelines.values():
                page = await read_page_async(conn, MAX_SEQ - 1, 1, timeline.visible_until())
                timeline.released = page.head
            self._started = True
        # a reconnect keeps each timeline's mark: what was stored meanwhile is published to the
        # subscribers that stayed connected, not skipped
        return conn

    async def _run(self) -> None:
        delayed = any(delay > timedelta(0) for delay in self.timelines)
        while True:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = await self._connect()
                wait = DELAYED_TICK_S if delayed else POLL_S
                async for _ in self._conn.notifies(timeout=wait, stop_after=1):
                    break
                async for _ in self._conn.notifies(timeout=0):  # the next fetch covers these too
                    pass
                for timeline in self.timelines.values():
                    await self._release(self._conn, timeline)
            except asyncio.CancelledError:
                raise
            except psycopg.Error as error:
                log.warning("trade stream: database unavailable (%s); reconnecting", error)
                if self._conn is not None:
                    await self._conn.close()
                self._conn = None
                await asyncio.sleep(RECONNECT_S)

    async def _heartbeats(self) -> None:
        """Heartbeats from one clock for every subscriber (a timeout per wait costs each trade's delivery)."""
        while True:
            await asyncio.sleep(min(HEARTBEAT_TICK_S, self.heartbeat_s / 2))
            now = time.monotonic()
            for timeline in self.timelines.values():
                for subscriber in timeline.subscribers:
                    subscriber.heartbeat_if_quiet(self.heartbeat_s, now)

    async def _release(self, conn: psycopg.AsyncConnection, timeline: Timeline) -> None:
        """Publish what is new (and old enough) on a timeline; without subscribers only move its mark."""
        while True:
            limit = FETCH_ROWS if timeline.subscribers else 1
            page = await read_page_async(conn, timeline.released, limit, timeline.visible_until())
            if not timeline.subscribers:
                timeline.released = max(timeline.released, page.head)
                return
            timeline.publish(page.events)
            if len(page.events) < FETCH_ROWS:
                return


def sse_message(name: str, payload: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n"
