"""The live feed consumer on a real exchange and warehouse: every message stored or quarantined with
its reason, exactly once across restarts and crashes, live trades accepted whatever the hour."""

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from gcx import clock, database
from gcx.live_feed.consumer import FeedConsumer, FeedMessage, judge, store_batch
from gcx.live_feed.hot import HOT_CHANNEL, read_checkpoint
from gcx.simulator import run_live, simulate


def feed_messages(settings) -> list[tuple[int, str]]:
    with database.connect("exchange", settings=settings) as conn:
        return conn.execute("select seq, payload from feed_messages order by seq").fetchall()


def hot_rows(settings) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute("select seq, trade_id from hot.trades order by seq").fetchall()


def feed_quarantine(settings) -> dict[int, str]:
    with database.connect("warehouse", settings=settings) as conn:
        rows = conn.execute(
            "select record_key, reason from raw.quarantine where source = 'feed' and dataset = 'feed_messages'"
        ).fetchall()
    return {int(key): reason for key, reason in rows}


@pytest.fixture(scope="module")
def live_world(settings):
    """A one-day world, then 2 s of live trading with 25 % malformed messages, consumed by a consumer
    that was started BEFORE live mode declared today's demo session (so its reference is stale)."""
    simulate(date(2024, 5, 6), 1, seed=3, settings=settings)
    (settings.truth_dir / "bad_records.jsonl").write_text("")
    consumer = FeedConsumer(settings, batch_size=7)
    consumer.reset()
    yield consumer
    consumer.close()


def test_every_message_is_stored_or_quarantined_with_its_reason(settings, live_world):
    consumer = live_world
    live = run_live(trades_per_second=25, duration=2.0, seed=8, bad_rate=0.25, settings=settings)
    while consumer.step():
        pass

    messages = feed_messages(settings)
    stored, quarantined = hot_rows(settings), feed_quarantine(settings)
    assert len(messages) == live.messages
    assert {seq for seq, _ in stored} | set(quarantined) == {seq for seq, _ in messages}
    assert not {seq for seq, _ in stored} & set(quarantined)
    assert len({trade_id for _, trade_id in stored}) == len(stored)

    truth = {
        int(r["record_key"]): r["fault"]
        for r in map(json.loads, (settings.truth_dir / "bad_records.jsonl").read_text().splitlines())
        if r["source"] == "feed"
    }
    assert live.bad_messages >= 3 and set(quarantined) == set(truth)  # and no live trade for its hour
    expected = {
        "broken_json": "message: must be a JSON object",
        "missing_field": "must not be empty",
        "unknown_symbol": "symbol: must be a listed instrument's symbol (got 'GXXWM9')",
        "negative_price": "price_ghs_per_t: must be > 0",
        "duplicate_trade_id": "trade_id: must be unique on the feed",
    }
    for seq, fault in truth.items():
        assert expected[fault] in quarantined[seq], (fault, quarantined[seq])

    checkpoint = read_checkpoint(consumer.warehouse)
    assert checkpoint.position == messages[-1][0]
    assert checkpoint.messages == len(messages) == checkpoint.trades + checkpoint.quarantined
    with database.connect("warehouse", settings=settings) as conn:
        seqs = [row[0] for row in conn.execute("select seq from hot.trades order by seq")]
        through = conn.execute("select bool_and(executed_through >= executed_at) from hot.trades").fetchone()[
            0
        ]
    assert seqs == sorted(seqs) and through


def test_a_crash_mid_batch_writes_nothing_and_a_restart_resumes_exactly(settings, live_world):
    consumer = live_world
    before = hot_rows(settings)
    run_live(trades_per_second=25, duration=1.0, seed=9, settings=settings)
    messages = consumer.feed.read(consumer.position, 1_000)
    assert len(messages) >= 5
    verdicts, _ = judge(messages, consumer.reference, {})
    crashing = [*messages[:-1], FeedMessage(messages[-1].seq, "not a time", messages[-1].payload)]  # type: ignore[arg-type]
    with pytest.raises(psycopg.Error):  # fails at the checkpoint, after the rows were written
        store_batch(consumer.warehouse, crashing, verdicts)
    assert hot_rows(settings) == before
    assert read_checkpoint(consumer.warehouse).position == consumer.position

    consumer.close()  # a restart: a new consumer takes over from the checkpoint
    restarted = FeedConsumer(settings, batch_size=3)
    try:
        listening = psycopg.connect(database.database_url("warehouse", settings=settings), autocommit=True)
        listening.execute(f"listen {HOT_CHANNEL}")
        stop = threading.Event()
        runner = threading.Thread(target=restarted.run, args=(stop,), kwargs={"idle_poll_s": 0.2})
        runner.start()
        deadline = time.monotonic() + 10
        while read_checkpoint(listening).position < messages[-1].seq and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        runner.join()
        notified = [int(n.payload) for n in listening.notifies(timeout=0.5)]
        listening.close()
    finally:
        restarted.close()
    after = hot_rows(settings)
    assert after[: len(before)] == before
    assert [seq for seq, _ in after[len(before) :]] == [m.seq for m in messages]  # no loss, no duplicate
    assert notified and notified[-1] == messages[-1].seq


def test_a_second_consumer_is_refused(settings, live_world):
    with FeedConsumer(settings) as first:
        with pytest.raises(RuntimeError, match="another feed consumer"):
            FeedConsumer(settings)
        assert first.position >= 0


def test_a_replaced_feed_starts_over(settings, live_world):
    """A batch `gcx simulate` truncates the exchange: seqs restart, the old hot rows no longer apply."""
    simulate(date(2024, 5, 6), 1, seed=3, settings=settings)
    run_live(trades_per_second=25, duration=0.5, seed=10, settings=settings)
    with FeedConsumer(settings) as consumer:
        assert consumer.check_feed_replaced()
        while consumer.step():
            pass
        assert [seq for seq, _ in hot_rows(settings)] == [seq for seq, _ in feed_messages(settings)]
        assert not feed_quarantine(settings)


def test_live_trades_pass_whatever_the_hour(settings, live_world):
    """Live mode declares today a demo session: the calendar covers every live trade."""
    with database.connect("exchange", settings=settings) as conn:
        opens, closes, trading = conn.execute(
            "select session_open_at, session_close_at, is_trading_day from trading_calendar where calendar_date = %s",
            (clock.today(),),
        ).fetchone()
        first, last = conn.execute(
            "select min(executed_at), max(executed_at) from trades where executed_at > %s",
            (clock.now() - timedelta(hours=1),),
        ).fetchone()
    assert trading and opens <= first and last <= closes
    assert closes.astimezone(UTC) == datetime.combine(
        clock.today() + timedelta(days=1), datetime.min.time(), UTC
    ) - timedelta(microseconds=1)
