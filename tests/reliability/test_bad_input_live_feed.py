"""Bad input on the live feed: every malformed message lands in raw.quarantine (source 'feed',
record key = its seq) with its reason, the good ones in hot.trades, the consumer never stops, and
its checkpoint counts messages = trades + quarantined."""

import logging
import threading

import ledger
import malformed

from gcx import database
from gcx.live_feed.consumer import FeedConsumer


def test_every_malformed_feed_message_is_quarantined_with_its_reason(settings):
    malformed.reset_exchange(settings)
    good, bad = malformed.feed_messages()
    order = [
        message
        for pair in zip(good, [case.record for case in bad[: len(good)]], strict=True)
        for message in pair
    ]
    order += [case.record for case in bad[len(good) :]]
    with database.connect("exchange", settings=settings) as conn:
        conn.execute(malformed.FEED_SQL)
        seqs = [
            conn.execute(
                "insert into feed_messages (payload) values (%s) returning seq", (payload,)
            ).fetchone()[0]
            for payload in order
        ]
    seq_of = dict(zip(order, seqs, strict=True))
    with database.connect("warehouse", settings=settings) as conn:
        conn.execute("truncate hot.trades")
        conn.execute("delete from hot.consumer_offsets")
        conn.execute("delete from raw.quarantine where source = 'feed'")

    crashed = 0
    try:
        with FeedConsumer(settings, consumer="reliability") as consumer:
            consumer.run(threading.Event(), catch_up=True)
    except Exception:  # the consumer stopping is the finding
        crashed = 1
        logging.getLogger(__name__).exception("the feed consumer stopped")

    found = dict(
        malformed.warehouse_rows(
            settings, "select record_key, reason from raw.quarantine where source = 'feed'"
        )
    )
    # the duplicate is a verbatim copy of good[0]: its seq is the later one
    duplicate_seq = max(seq for payload, seq in zip(order, seqs, strict=True) if payload == good[0])
    problems = []
    quarantined = 0
    for case in bad:
        seq = duplicate_seq if case.fault == "duplicate_trade_id" else seq_of[case.record]
        reason = found.get(str(seq))
        if reason is not None and case.reason in reason:
            quarantined += 1
        else:
            problems.append(f"seq {seq} ({case.fault}): want {case.reason!r}, got {reason!r}")
    hot = malformed.warehouse_rows(settings, "select trade_id from hot.trades order by seq")
    checkpoint = malformed.warehouse_rows(
        settings,
        "select messages, trades, quarantined from hot.consumer_offsets where consumer = 'reliability'",
    )
    ledger.bad_input(
        "live feed messages",
        len(bad),
        quarantined,
        crashed=crashed,
        detail="broken/empty/deep JSON, not a trade, missing field, unknown symbol, NaN/Inf/huge/tiny numbers, "
        "out-of-range and offset-less times, unknown member, duplicate trade id, NUL, lone surrogate",
    )
    assert not crashed, "the feed consumer stopped"
    assert [trade_id for (trade_id,) in hot] == ["F1", "F2", "F3"]
    assert checkpoint == [(len(order), len(good), len(bad))]
    assert not problems, "\n".join(problems)
