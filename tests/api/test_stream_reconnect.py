"""The fan-out's LISTEN connection drops (PostgreSQL restarted, the backend killed) while subscribers stay
connected: trades stored before it reconnects still reach them, none skipped. (The real PostgreSQL
restart under `gcx serve` is in tests/reliability/test_faults_database.py.)"""

import asyncio
from datetime import timedelta

import psycopg

from api.stream import Subscription, TradeStream
from gcx import clock, database
from tests.api.conftest import run_async

FIRST_SEQ = 9_000_000_000_000_000
"""Far above any seq another test stores in the session's hot table; removed again at the end."""


def _store(conn: psycopg.Connection, seq: int) -> None:
    now = clock.now()
    conn.execute(
        "insert into hot.trades (seq, trade_id, instrument_id, symbol, executed_at, price_ghs_per_t, quantity_t,"
        " value_ghs, published_at, executed_through) values (%s, %s, 1, 'GEJWM1', %s, 1000, 1, 1000, %s, %s)",
        (seq, f"reconnect-{seq}", now, now, now),
    )


async def _next_seqs(subscriber: Subscription, count: int, timeout: float) -> list[int]:
    seqs: list[int] = []
    while len(seqs) < count:
        seqs += [event.seq for event in await asyncio.wait_for(subscriber.take(), timeout) if event]
    return seqs


def test_trades_stored_while_the_fan_out_reconnects_reach_connected_subscribers(settings):
    url = database.database_url("warehouse", settings=settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("delete from hot.trades where seq >= %s", (FIRST_SEQ,))

        async def scenario() -> list[int]:
            stream = TradeStream(url, [timedelta(0)])
            await stream.start()
            try:
                while stream._conn is None or stream._conn.closed:
                    await asyncio.sleep(0.05)
                subscriber = stream.subscribe(None, timedelta(0))
                _store(conn, FIRST_SEQ)
                assert await _next_seqs(subscriber, 1, 10) == [FIRST_SEQ]
                conn.execute("select pg_terminate_backend(%s)", (stream._conn.info.backend_pid,))
                _store(conn, FIRST_SEQ + 1)  # stored while the fan-out waits to reconnect
                _store(conn, FIRST_SEQ + 2)
                return await _next_seqs(subscriber, 2, 15)
            finally:
                await stream.close()

        try:
            assert run_async(scenario()) == [FIRST_SEQ + 1, FIRST_SEQ + 2]
        finally:
            conn.execute("delete from hot.trades where seq >= %s", (FIRST_SEQ,))
