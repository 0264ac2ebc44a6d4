"""Live mode appends trades with orders and settlements, and publishes them on the feed."""

import json
import threading
from datetime import date

import psycopg
import pytest

from gcx import clock, database
from gcx.simulator import run_live, simulate

MESSAGE_KEYS = {"type", "trade_id", "symbol", "executed_at", "price_ghs_per_t", "quantity_t", "aggressor_side",
                "buyer_member_id", "seller_member_id"}  # fmt: skip


@pytest.fixture(scope="module")
def history(settings):
    simulate(date(2024, 5, 6), 5, seed=3, settings=settings)
    with database.connect("exchange", settings=settings) as conn:
        return conn.execute("select max(trade_id) from trades").fetchone()[0]


def test_live_trades_are_written_and_published(settings, history):
    last_history_trade = history
    notified: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        with psycopg.connect(database.database_url("exchange", settings=settings), autocommit=True) as conn:
            conn.execute("listen gcx_feed")
            listening.set()
            for notify in conn.notifies(timeout=4.0):
                notified.append(notify.payload)

    listener = threading.Thread(target=listen)
    listener.start()
    listening.wait(5)
    live = run_live(trades_per_second=8, duration=2.0, seed=5, bad_rate=0.3, settings=settings)
    listener.join()

    assert live.trades >= 4 and 1.9 <= live.elapsed_s < 4
    with database.connect("exchange", settings=settings) as conn:
        trades = conn.execute(
            "select trade_id, executed_at from trades where trade_id > %s order by trade_id",
            (last_history_trade,),
        ).fetchall()
        messages = conn.execute("select seq, payload from feed_messages order by seq").fetchall()
        settlements = conn.execute(
            "select count(*) from settlements s join trades t using (trade_id) where t.trade_id > %s and s.status = 'pending'",
            (last_history_trade,),
        ).fetchone()[0]
        orphans = conn.execute(
            "select count(*) from trades t where not exists (select 1 from orders o where o.order_id = t.buy_order_id)"
        ).fetchone()[0]
    assert len(trades) == live.trades and settlements == 2 * live.trades and orphans == 0
    assert all(abs((executed - clock.now()).total_seconds()) < 60 for _, executed in trades)
    assert len(messages) == live.messages and notified == [str(seq) for seq, _ in messages]

    bad = {
        int(r["record_key"]): r["fault"]
        for r in map(json.loads, (settings.truth_dir / "bad_records.jsonl").read_text().splitlines())
        if r["source"] == "feed"
    }
    assert len(bad) == live.bad_messages
    published = set()
    for seq, payload in messages:
        if seq in bad:
            continue
        message = json.loads(payload)
        assert set(message) == MESSAGE_KEYS and message["type"] == "trade"
        assert message["executed_at"].endswith("Z") and len(message["executed_at"]) == 27
        assert message["trade_id"] not in published
        published.add(message["trade_id"])
    unpublished_trades = sum(fault != "duplicate_trade_id" for fault in bad.values())  # malformed in place
    assert published <= {trade_id for trade_id, _ in trades}
    assert len(published) + unpublished_trades == len(trades)


def test_live_stops_when_asked(settings, history):
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    live = run_live(trades_per_second=50, duration=30, settings=settings, stop=stop)
    assert live.elapsed_s < 2
    with database.connect("exchange", settings=settings) as conn:
        assert conn.execute("select count(*) from orders where status = 'open'").fetchone()[0] == 0
