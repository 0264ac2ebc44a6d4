"""The hot tables the feed consumer writes and the API reads (light: no pandas, no Dagster).

hot.trades: the live feed's valid trades, `seq` = the feed message's seq = the API's cursor.
hot.consumer_offsets: each consumer's checkpoint, counts, and the highest seq retention removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

HOT_CHANNEL = "gcx_hot_trades"
"""NOTIFY channel: the consumer announces the highest seq it stored (delivered at commit)."""
CONSUMER_NAME = "hot_trades"
HOT_RETENTION = timedelta(days=7)
QUARANTINE_DATASET = "feed_messages"

HOT_SCHEMA_SQL = """
create schema if not exists hot;
-- The live feed's valid trades, the API's tail and stream. seq = the feed message's seq (gaps where a
-- message was quarantined); the last HOT_RETENTION of stored trades (gcx/live_feed.py).
create table if not exists hot.trades (
    seq              bigint primary key,
    trade_id         text not null unique,
    instrument_id    integer not null,
    symbol           text not null,
    executed_at      timestamptz not null,
    price_ghs_per_t  numeric(14, 4) not null,
    quantity_t       numeric(14, 4) not null,
    value_ghs        numeric(20, 4) not null,
    aggressor_side   text,
    buyer_member_id  text,
    seller_member_id text,
    published_at     timestamptz not null,   -- when the exchange published the message
    executed_through timestamptz not null,   -- the latest executed_at up to this seq: a delayed tier
                                             -- sees a prefix by seq, up to where this is old enough
    stored_at        timestamptz not null default now()
);
create index if not exists trades_symbol_seq_idx on hot.trades (symbol, seq);
create index if not exists trades_executed_through_idx on hot.trades (executed_through, seq);
create index if not exists trades_stored_at_idx on hot.trades (stored_at);
-- One row per consumer: where it is (the last feed seq it has fully handled) and what it has done.
create table if not exists hot.consumer_offsets (
    consumer            text primary key,
    position            bigint not null default 0,
    position_published_at timestamptz,
    messages            bigint not null default 0,
    trades              bigint not null default 0,
    quarantined         bigint not null default 0,
    pruned_through      bigint not null default 0,   -- the highest seq retention removed from hot.trades
    updated_at          timestamptz not null default now()
);
"""


def ensure_hot_schema(conn: psycopg.Connection) -> None:
    """Create the hot schema's tables if missing; idempotent."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('hot schema'))")
        conn.execute(HOT_SCHEMA_SQL)


@dataclass(frozen=True)
class Checkpoint:
    position: int
    position_published_at: datetime | None
    messages: int
    trades: int
    quarantined: int
    pruned_through: int


def read_checkpoint(conn: psycopg.Connection, consumer: str = CONSUMER_NAME) -> Checkpoint:
    row = conn.execute(
        "select position, position_published_at, messages, trades, quarantined, pruned_through"
        " from hot.consumer_offsets where consumer = %s",
        (consumer,),
    ).fetchone()
    return Checkpoint(*row) if row else Checkpoint(0, None, 0, 0, 0, 0)


def forget_feed(conn: psycopg.Connection, consumer: str = CONSUMER_NAME) -> None:
    """Start over from the feed's first message: drop the hot rows, the feed's quarantine and the checkpoint."""
    with conn.transaction():
        conn.execute("delete from hot.trades")
        conn.execute(
            "delete from raw.quarantine where source = 'feed' and dataset = %s", (QUARANTINE_DATASET,)
        )
        conn.execute("delete from hot.consumer_offsets where consumer = %s", (consumer,))


def prune(conn: psycopg.Connection, keep: timedelta = HOT_RETENTION, consumer: str = CONSUMER_NAME) -> int:
    """Remove hot trades stored more than `keep` ago (a prefix by seq) and note the highest removed."""
    with conn.transaction():
        row = conn.execute(
            "with gone as (delete from hot.trades where stored_at < now() - %s returning seq)"
            " select count(*), max(seq) from gone",
            (keep,),
        ).fetchone()
        if row[0]:
            conn.execute(
                "update hot.consumer_offsets set pruned_through = greatest(pruned_through, %s) where consumer = %s",
                (row[1], consumer),
            )
    return row[0]
