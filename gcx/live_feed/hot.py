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
