"""The feed consumer (see gcx/live_feed/__init__.py for the whole picture)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg

from gcx import database
from gcx.ingestion.datasets import DATASETS_BY_TABLE
from gcx.ingestion.validate import Reference, validate_record
from gcx.live_feed.hot import (
    CONSUMER_NAME,
    HOT_CHANNEL,
    HOT_RETENTION,
    QUARANTINE_DATASET,
    forget_feed,
    prune,
    read_checkpoint,
)
from gcx.settings import Settings, get_settings
from gcx.simulator.live import FEED_CHANNEL

log = logging.getLogger(__name__)

BATCH_SIZE = 5_000
IDLE_POLL_S = 1.0
PRUNE_INTERVAL_S = 600.0
RETRY_DELAY_S = 2.0
QUARANTINE_SOURCE_FILE = "exchange:feed_messages"
"""Where a quarantined message can be found again: the exchange's feed_messages table, by seq."""

TRADES = DATASETS_BY_TABLE["exchange__trades"]
"""The ingestion's trades dataset: its columns and rules are the only trade rules there are."""
TEXT_FIELDS = ("trade_id", "symbol", "executed_at", "aggressor_side", "buyer_member_id", "seller_member_id")

# ---------------------------------------------------------------------------------------------
# The feed: an interface a Kafka topic can implement too


@dataclass(frozen=True)
class FeedMessage:
    seq: int
    published_at: datetime
    payload: str


class FeedSource(Protocol):
    """Where feed messages come from, in order, by position. PostgreSQL today; a Kafka topic
    (position = offset, `wait` = poll) implements the same four methods."""

    def read(self, after: int, limit: int) -> list[FeedMessage]:
        """Up to `limit` messages with seq > `after`, in seq order."""

    def wait(self, timeout: float) -> None:
        """Return when new messages may be there, or after `timeout` seconds."""

    def head(self) -> int:
        """The latest seq published (0 when none)."""

    def published_at(self, seq: int) -> datetime | None:
        """When message `seq` was published (None if the feed holds no such message)."""

    def close(self) -> None: ...


class PostgresFeed:
    """The exchange's feed_messages table with LISTEN gcx_feed; one autocommit connection."""

    def __init__(self, exchange_url: str):
        self.conn = psycopg.connect(exchange_url, autocommit=True)
        self.conn.execute(f"listen {FEED_CHANNEL}")

    def read(self, after: int, limit: int) -> list[FeedMessage]:
        rows = self.conn.execute(
            "select seq, published_at, payload from feed_messages where seq > %s order by seq limit %s",
            (after, limit),
        ).fetchall()
        return [FeedMessage(*row) for row in rows]

    def wait(self, timeout: float) -> None:
        for _ in self.conn.notifies(timeout=timeout, stop_after=1):
            break
        for _ in self.conn.notifies(timeout=0):  # drop the wake-ups of messages the next read covers
            pass

    def head(self) -> int:
        return self.conn.execute("select coalesce(max(seq), 0) from feed_messages").fetchone()[0]

    def published_at(self, seq: int) -> datetime | None:
        row = self.conn.execute("select published_at from feed_messages where seq = %s", (seq,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------------------------------------
# Decoding and validation


@dataclass
class ExchangeReference:
    """What validation needs from the exchange, and the feed position it is current for: a message
    published after `as_of_seq` may depend on a change the reference has not seen (a new member, a
    demo session), so a failure there reloads it before anything is quarantined."""

    rules: Reference
    instrument_by_symbol: dict[str, int]
    as_of_seq: int

    @classmethod
    def load(cls, conn: psycopg.Connection, feed: FeedSource) -> ExchangeReference:
        as_of_seq = feed.head()  # first: everything published up to here is committed, so visible below
        symbols = dict(conn.execute("select symbol, instrument_id from instruments").fetchall())
        return cls(Reference.from_exchange(conn), symbols, as_of_seq)


@dataclass
class Verdicts:
    trades: list[dict[str, Any]] = field(default_factory=list)
    """Valid messages as hot.trades rows."""
    quarantined: list[tuple[FeedMessage, str]] = field(default_factory=list)
    """(message, every reason "; "-joined)."""


def _text(value: Any) -> str | None:
    """A JSON value as the text validation parses: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _decode(
    message: FeedMessage, symbols: dict[str, int]
) -> tuple[dict[str, str | None], dict[str, Any], str | None]:
    """The message as a row of the trades dataset (text values, parsed by validation) and as the JSON
    object it holds, or the reason it cannot be read as a trade at all (not JSON, not a trade, no
    known symbol)."""
    row: dict[str, str | None] = {column.name: None for column in TRADES.columns}
    row["updated_at"] = message.published_at.isoformat()
    try:
        body = json.loads(message.payload)
    except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than Python's stack
        return row, {}, f"message: must be a JSON object (got broken JSON: {error})"
    if not isinstance(body, dict):
        return row, {}, f"message: must be a JSON object (got {type(body).__name__})"
    if body.get("type") != "trade":
        return row, body, f"type: must be trade (got {body.get('type')!r})"
    not_text = [
        name for name in TEXT_FIELDS if body.get(name) is not None and not isinstance(body[name], str)
    ]
    if not_text:
        return (
            row,
            body,
            "; ".join(f"{name}: must be a JSON string (got {body[name]!r})" for name in not_text),
        )
    unencodable = [name for name in TEXT_FIELDS if body.get(name) is not None and not _encodable(body[name])]
    if unencodable:  # a lone surrogate \u escape: no UTF-8 for it, so Arrow and PostgreSQL refuse it
        return (
            row,
            body,
            "; ".join(
                f"{name}: must be valid UTF-8 (got a lone surrogate \\u escape)" for name in unencodable
            ),
        )
    symbol = body.get("symbol")
    row["trade_id"] = body.get("trade_id")
    if not symbol or not symbol.strip():
        return row, body, "symbol: must not be empty (got null)"
    if symbol not in symbols:
        return row, body, f"symbol: must be a listed instrument's symbol (got {symbol!r})"
    row["instrument_id"] = str(symbols[symbol])
    for name in ("executed_at", "price_ghs_per_t", "quantity_t", "aggressor_side"):
        row[name] = _text(body.get(name))
    row["buyer_member_id"] = body.get("buyer_member_id")
    row["seller_member_id"] = body.get("seller_member_id")
    return row, body, None


def judge(
    messages: list[FeedMessage], reference: ExchangeReference, seen: dict[str, int]
) -> tuple[Verdicts, bool]:
    """Validate a batch with the ingestion's trade rules; returns the verdicts and whether any
    message failed that was published after the reference was read (then reload and judge again).

    `seen` maps trade ids already stored (or earlier in the feed) to their seq: a repeated trade id
    is quarantined, the first occurrence kept.
    """
    outcome = Verdicts()
    first_seq = dict(seen)
    stale = False
    for message in messages:
        row, body, unreadable = _decode(message, reference.instrument_by_symbol)
        # one message at a time: a pandas batch's fixed cost was most of a trade's way to subscribers
        reason = unreadable or validate_record(row, TRADES.columns, TRADES.rules, reference.rules)
        trade_id = row["trade_id"]
        if reason is None and trade_id in first_seq:
            reason = (
                f"trade_id: must be unique on the feed (got {trade_id!r}, first at seq {first_seq[trade_id]})"
            )
        if reason:
            outcome.quarantined.append((message, reason))
            stale |= message.seq > reference.as_of_seq
            continue
        first_seq[trade_id] = message.seq
        outcome.trades.append(_hot_row(message, body, int(row["instrument_id"])))
    return outcome, stale


def _hot_row(message: FeedMessage, body: dict[str, Any], instrument_id: int) -> dict[str, Any]:
    price, quantity = float(body["price_ghs_per_t"]), float(body["quantity_t"])
    return {
        "seq": message.seq,
        "trade_id": body["trade_id"],
        "instrument_id": instrument_id,
        "symbol": body["symbol"],
        "executed_at": datetime.fromisoformat(body["executed_at"]),
        "price_ghs_per_t": price,
        "quantity_t": quantity,
        "value_ghs": round(price * quantity, 4),
        "aggressor_side": body.get("aggressor_side"),
        "buyer_member_id": body.get("buyer_member_id"),
        "seller_member_id": body.get("seller_member_id"),
        "published_at": message.published_at,
    }


# ---------------------------------------------------------------------------------------------
# The hot store: rows, quarantine and checkpoint in one transaction

HOT_COLUMNS = ("seq", "trade_id", "instrument_id", "symbol", "executed_at", "price_ghs_per_t", "quantity_t",
               "value_ghs", "aggressor_side", "buyer_member_id", "seller_member_id", "published_at", "executed_through")  # fmt: skip


def store_batch(
    conn: psycopg.Connection, messages: list[FeedMessage], verdicts: Verdicts, consumer: str = CONSUMER_NAME
) -> None:
    """Write a judged batch and advance the checkpoint past its last message, all or nothing."""
    last = messages[-1]
    with conn.transaction():
        if verdicts.trades:
            executed_through = conn.execute(
                "select max(executed_through) from (select executed_through from hot.trades order by seq desc limit 1) last"
            ).fetchone()[0]
            for row in verdicts.trades:
                if executed_through is None or row["executed_at"] > executed_through:
                    executed_through = row["executed_at"]
                row["executed_through"] = executed_through
            with conn.cursor().copy(f"copy hot.trades ({', '.join(HOT_COLUMNS)}) from stdin") as copy:
                for row in verdicts.trades:
                    copy.write_row([row[name] for name in HOT_COLUMNS])
        if verdicts.quarantined:
            conn.cursor().executemany(
                "insert into raw.quarantine (source, dataset, partition_date, source_file, source_row,"
                " record_key, reason, record) values ('feed', %s, %s, %s, null, %s, %s, %s)",
                [
                    (QUARANTINE_DATASET, m.published_at.astimezone(UTC).date(), QUARANTINE_SOURCE_FILE,
                     str(m.seq), reason.replace("\x00", "\\x00"), m.payload.replace("\x00", "\\x00"))
                    for m, reason in verdicts.quarantined
                ],
            )  # fmt: skip
        conn.execute(
            """
            insert into hot.consumer_offsets as o
                (consumer, position, position_published_at, messages, trades, quarantined)
            values (%(consumer)s, %(position)s, %(published_at)s, %(messages)s, %(trades)s, %(quarantined)s)
            on conflict (consumer) do update set
                position = excluded.position, position_published_at = excluded.position_published_at,
                messages = o.messages + excluded.messages, trades = o.trades + excluded.trades,
                quarantined = o.quarantined + excluded.quarantined, updated_at = now()
            """,
            {
                "consumer": consumer,
                "position": last.seq,
                "published_at": last.published_at,
                "messages": len(messages),
                "trades": len(verdicts.trades),
                "quarantined": len(verdicts.quarantined),
            },
        )
        if verdicts.trades:
            conn.execute("select pg_notify(%s, %s)", (HOT_CHANNEL, str(verdicts.trades[-1]["seq"])))


# ---------------------------------------------------------------------------------------------
# The consumer loop


@dataclass
class ConsumerSummary:
    batches: int = 0
    messages: int = 0
    trades: int = 0
    quarantined: int = 0


class FeedConsumer:
    """Reads the feed after its checkpoint and stores each batch (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        batch_size: int = BATCH_SIZE,
        consumer: str = CONSUMER_NAME,
        exchange_settings: Settings | None = None,
    ):
        """`settings` locate the warehouse; `exchange_settings` the exchange (feed and reference
        data) when it is another server (default: the same platform)."""
        self.batch_size = batch_size
        self.consumer = consumer
        self.summary = ConsumerSummary()
        # resolved once: a reconnect waits for the server to come back, it never starts one itself
        # (an embedded server stopped on purpose stays stopped)
        database.ensure_databases(settings)  # the hot tables and raw.quarantine it writes
        self.exchange_url = database.database_url("exchange", settings=exchange_settings or settings)
        self.warehouse_url = database.database_url("warehouse", settings=settings)
        self._connect()

    def _connect(self) -> None:
        """The feed, the exchange (reference data) and the warehouse, holding the single-writer lock."""
        self.feed: FeedSource = PostgresFeed(self.exchange_url)
        self.exchange = psycopg.connect(self.exchange_url, autocommit=True)
        self.warehouse = psycopg.connect(self.warehouse_url, autocommit=True)
        lock = self.warehouse.execute(
            "select pg_try_advisory_lock(hashtext(%s))", (f"hot consumer {self.consumer}",)
        )
        if not lock.fetchone()[0]:
            self.close()
            raise RuntimeError(f"another feed consumer {self.consumer!r} is running on this warehouse")
        self.position = read_checkpoint(self.warehouse, self.consumer).position
        self.reference = ExchangeReference.load(self.exchange, self.feed)

    def close(self) -> None:
        for name in ("warehouse", "exchange", "feed"):
            with contextlib.suppress(psycopg.Error, AttributeError):
                getattr(self, name).close()

    def __enter__(self) -> FeedConsumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        forget_feed(self.warehouse, self.consumer)
        self.position = 0

    def check_feed_replaced(self) -> bool:
        """Forget everything of a feed that was replaced (its checkpoint message is gone or differs)."""
        checkpoint = read_checkpoint(self.warehouse, self.consumer)
        if (
            checkpoint.position == 0
            or self.feed.published_at(checkpoint.position) == checkpoint.position_published_at
        ):
            return False
        log.warning(
            "the feed was replaced (message %d is not the one this consumer processed): starting over from "
            "its first message; the old feed's hot trades and quarantine are dropped",
            checkpoint.position,
        )
        self.reset()
        self.reference = ExchangeReference.load(self.exchange, self.feed)
        return True

    def step(self) -> int:
        """Process one batch after the checkpoint; returns the number of messages handled (0: none new)."""
        messages = self.feed.read(self.position, self.batch_size)
        if not messages:
            return 0
        verdicts, stale = judge(messages, self.reference, self._stored_ids(messages))
        if stale:  # something failed that a newer reference might accept: reload once, judge again
            self.reference = ExchangeReference.load(self.exchange, self.feed)
            verdicts, _ = judge(messages, self.reference, self._stored_ids(messages))
        store_batch(self.warehouse, messages, verdicts, self.consumer)
        self.position = messages[-1].seq
        self.summary.batches += 1
        self.summary.messages += len(messages)
        self.summary.trades += len(verdicts.trades)
        self.summary.quarantined += len(verdicts.quarantined)
        return len(messages)

    def _stored_ids(self, messages: Iterable[FeedMessage]) -> dict[str, int]:
        """Trade ids of this batch's messages that hot.trades already holds, with their seq."""
        ids = set()
        for message in messages:
            try:
                body = json.loads(message.payload)
            except (ValueError, RecursionError):
                continue
            trade_id = body.get("trade_id") if isinstance(body, dict) else None
            # an id PostgreSQL cannot take as text (NUL, lone surrogate) is never stored: judge() quarantines it
            if isinstance(trade_id, str) and "\x00" not in trade_id and _encodable(trade_id):
                ids.add(trade_id)
        if not ids:
            return {}
        rows = self.warehouse.execute(
            "select trade_id, seq from hot.trades where trade_id = any(%s)", (list(ids),)
        ).fetchall()
        return dict(rows)

    def run(
        self, stop: threading.Event, catch_up: bool = False, idle_poll_s: float = IDLE_POLL_S
    ) -> ConsumerSummary:
        """Consume until `stop` is set (or, with `catch_up`, until the feed has nothing new)."""
        pruned_at = None
        while not stop.is_set():
            try:
                if pruned_at is None:
                    self.check_feed_replaced()
                if pruned_at is None or time.monotonic() - pruned_at > PRUNE_INTERVAL_S:
                    if removed := prune(self.warehouse, consumer=self.consumer):
                        log.info("retention: removed %d hot trades older than %s", removed, HOT_RETENTION)
                    pruned_at = time.monotonic()
                if self.step():
                    continue
                if catch_up:
                    break
                if not self.check_feed_replaced():
                    self.feed.wait(idle_poll_s)
            except psycopg.OperationalError as error:  # the server went away: reconnect, nothing is lost
                log.warning(
                    "feed consumer: database unavailable (%s); retrying in %.0f s", error, RETRY_DELAY_S
                )
                self.close()
                while not stop.wait(RETRY_DELAY_S):
                    try:
                        self._connect()
                        break
                    except psycopg.OperationalError:
                        continue
                pruned_at = None
        return self.summary


def run_consumer(
    settings: Settings | None = None,
    stop: threading.Event | None = None,
    catch_up: bool = False,
    reset: bool = False,
    batch_size: int = BATCH_SIZE,
) -> ConsumerSummary:
    """`gcx feed`: consume the live feed into the hot tables until `stop` (or caught up)."""
    settings = settings or get_settings()
    database.ensure_databases(settings)
    with FeedConsumer(settings, batch_size=batch_size) as consumer:
        if reset:
            consumer.reset()
        return consumer.run(stop or threading.Event(), catch_up=catch_up)
