"""Feed messages that once stopped the consumer: each is quarantined with its reason instead.

A message the consumer cannot judge is read again after every restart, so one such message stalled
the live feed for good."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from gcx.ingestion.validate import Reference
from gcx.live_feed.consumer import ExchangeReference, FeedMessage, judge

GOOD = (
    '{"type": "trade", "trade_id": "T1", "symbol": "GEJWM1", "executed_at": "2026-03-02T11:04:05.123456Z", '
    '"price_ghs_per_t": 3412.5, "quantity_t": 100, "aggressor_side": "buy", '
    '"buyer_member_id": "MBR0007", "seller_member_id": "MBR0012"}'
)


def reference() -> ExchangeReference:
    day = pd.Timestamp("2026-03-02")
    rules = Reference(
        ids={
            "member": frozenset({"MBR0007", "MBR0012"}),
            "beneficial_owner": frozenset(),
            "instrument": frozenset({1}),
        },
        instruments=pd.DataFrame(
            {"venue": ["GCX"], "delisted_on": pd.to_datetime([None]).astype("datetime64[us]")},
            index=pd.Index([1], name="instrument_id"),
        ),
        sessions=pd.DataFrame(
            {
                "session_open_at": [day.tz_localize("UTC")],
                "session_close_at": [(day + pd.Timedelta("23h")).tz_localize("UTC")],
            },
            index=pd.DatetimeIndex([day], name="calendar_date"),
        ).astype("datetime64[us, UTC]"),
    )
    return ExchangeReference(rules, {"GEJWM1": 1}, as_of_seq=10**9)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("[" * 100_000, "message: must be a JSON object (got broken JSON: maximum recursion depth exceeded"),
        (
            GOOD.replace('"T1"', '"T\\ud800"'),
            "trade_id: must be valid UTF-8 (got a lone surrogate \\u escape)",
        ),
        (GOOD.replace("MBR0007", "M\\udc00"), "buyer_member_id: must be valid UTF-8 (got a lone surrogate"),
        # passed '> 0' and was stored as 0.0000 in numeric(14, 4)
        (GOOD.replace("3412.5", "1e-7"), "price_ghs_per_t: must be > 0 (got 0)"),
    ],
)
def test_a_message_that_stopped_the_consumer_is_quarantined(payload, reason):
    published = datetime(2026, 3, 2, 11, 5, tzinfo=UTC)
    messages = [FeedMessage(1, published, GOOD), FeedMessage(2, published, payload)]
    verdicts, _ = judge(messages, reference(), seen={})
    assert [trade["seq"] for trade in verdicts.trades] == [1]
    [(message, why)] = verdicts.quarantined
    assert message.seq == 2 and why.startswith(reason)


def test_a_trade_id_postgresql_cannot_take_does_not_stop_the_consumer(empty_exchange):
    """A NUL in a trade id (JSON \\u0000) failed the consumer's look-up of stored ids, before judging."""
    import threading

    from gcx import database
    from gcx.live_feed.consumer import FeedConsumer

    with database.connect("exchange") as conn:
        conn.execute(
            "insert into instruments (instrument_id, symbol, tick_size_ghs, lot_size_t, listed_on)"
            " values (1, 'GEJWM1', 0.5, 50, '2019-01-01')"
        )
        for payload in (GOOD.replace('"T1"', '"T\\u0000"'), GOOD.replace('"T1"', '"T\\ud800"')):
            conn.execute("insert into feed_messages (payload) values (%s)", (payload,))
    with database.connect("warehouse") as conn:
        conn.execute("delete from hot.consumer_offsets where consumer = 'nul_ids'")
    with FeedConsumer(empty_exchange, consumer="nul_ids") as consumer:
        summary = consumer.run(threading.Event(), catch_up=True)
    assert (summary.messages, summary.quarantined) == (2, 2)
