"""Realtime: tail, Server-Sent Events and WebSocket over hot.trades, fed by the real consumer.

The API runs on the built platform (its marts know the symbols); the live trades come from the
session's `settings` exchange (same seed, same instruments), so the built platform's exchange and
its reconciliation are untouched. The consumer writes the built platform's hot tables, emptied again
at the end.
"""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from api.deps import request_time
from api.models import Page, Trade
from api.params import decode_cursor
from api.stream import Subscription, Timeline, TradeEvent, _event, cursor_of, page_body
from gcx import clock, database
from gcx.access.entitlements import TIERS
from tests.api.conftest import bearer, run_async


def seq_of(cursor: str) -> int:
    return decode_cursor(cursor, {"seq"})["seq"]


def test_tail_newest_then_resume_by_cursor(client, auth, feed):
    headers = auth("member")
    newest = client.get("/v1/trades/tail", params={"limit": 3}, headers=headers)
    assert newest.status_code == 200, newest.text
    body = newest.json()
    everything = feed.hot()
    assert [t["trade_id"] for t in body["data"]] == [trade_id for _, trade_id in everything[-3:]]
    assert body["count"] == 3 and seq_of(body["next_cursor"]) == everything[-1][0]
    assert body["data"][0].keys() == {"trade_id", "symbol", "executed_at", "ts_ns", "price_ghs_per_t", "quantity_t",
                                      "value_ghs", "aggressor_side", "buyer_member_id", "seller_member_id"}  # fmt: skip

    feed.trade(1.0, seed=22)
    cursor, received = body["next_cursor"], []
    while True:  # pages of 4 after the cursor, oldest first, until a short page says caught up
        page = client.get("/v1/trades/tail", params={"after": cursor, "limit": 4}, headers=headers).json()
        received += [t["trade_id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if page["count"] < 4:
            break
    new = feed.hot(after=everything[-1][0])
    assert len(new) >= 5 and received == [trade_id for _, trade_id in new]
    assert seq_of(cursor) == new[-1][0]


def test_hot_trades_are_encoded_exactly_as_the_trade_record():
    """The tail and the stream write their JSON without pydantic (speed): it must be `Trade`'s own."""
    executed_at = datetime(2026, 11, 20, 10, 0, 0, 250107, tzinfo=UTC)
    for aggressor, seller in (("buy", "MBR0002"), (None, None)):
        row = (7, "T0000000007", "GEJWM1", executed_at, 3482.5, 100.0, 348250.0, aggressor, "MBR0001", seller)
        expected = Trade(
            trade_id="T0000000007", symbol="GEJWM1", executed_at=executed_at,
            ts_ns=int(executed_at.timestamp()) * 10**9 + 250107 * 1000, price_ghs_per_t=3482.5, quantity_t=100.0,
            value_ghs=348250.0, aggressor_side=aggressor, buyer_member_id="MBR0001", seller_member_id=seller,
        )  # fmt: skip
        event = _event(row)
        assert event.data == expected.model_dump_json()
        assert event.sse == f"id: {cursor_of(7)}\nevent: trade\ndata: {event.data}\n\n".encode()
        assert json.loads(event.websocket_message()) == {
            "type": "trade", "cursor": cursor_of(7), "trade": expected.model_dump(mode="json")
        }  # fmt: skip
        page = Page[Trade](data=[expected], count=1, next_cursor=cursor_of(7))
        assert page_body([event], cursor_of(7)) == page.model_dump_json().encode()


def test_tail_by_symbol(client, auth, feed):
    with database.connect("warehouse", settings=feed.built) as conn:
        symbol_counts = dict(
            conn.execute("select symbol, count(*) from hot.trades group by symbol").fetchall()
        )
    symbol = max(symbol_counts, key=symbol_counts.get)
    page = client.get("/v1/trades/tail", params={"symbol": symbol, "limit": 1000}, headers=auth("pro")).json()
    assert [t["trade_id"] for t in page["data"]] == [trade_id for _, trade_id in feed.hot(symbol=symbol)]
    missing = client.get("/v1/trades/tail", params={"symbol": "GZZWM9"}, headers=auth("pro"))
    assert missing.status_code == 404 and missing.json()["error"]["reason"] == "unknown_symbol"


def test_free_tier_sees_the_tail_15_minutes_late(client, api_app, auth, feed):
    headers = auth("free")
    now = client.get("/v1/trades/tail", params={"limit": 1000}, headers=headers).json()
    assert now["data"] == [] and seq_of(now["next_cursor"]) == 0  # every trade is minutes old at most
    resumed = client.get("/v1/trades/tail", params={"after": cursor_of(0)}, headers=headers).json()
    assert resumed["data"] == [] and seq_of(resumed["next_cursor"]) == 0  # the cursor cannot leak them
    api_app.dependency_overrides[request_time] = lambda: clock.now() + timedelta(minutes=16)
    try:
        later = client.get("/v1/trades/tail", params={"limit": 1000}, headers=headers).json()
    finally:
        api_app.dependency_overrides.pop(request_time)
    assert [t["trade_id"] for t in later["data"]] == [trade_id for _, trade_id in feed.hot()]


@pytest.mark.parametrize(
    ("tier", "params", "status", "reason"),
    [
        (None, {}, 401, "missing_key"),
        ("pro", {"after": "not-a-cursor"}, 422, "invalid_request"),
        ("pro", {"after": "eyJ0c19ucyI6MX0"}, 422, "invalid_request"),  # another route's cursor
        ("free", {"limit": 5000}, 422, "limit_too_large"),
        ("pro", {"limit": 0}, 422, "invalid_request"),
    ],
)
def test_tail_refusals(client, auth, feed, tier, params, status, reason):
    response = client.get("/v1/trades/tail", params=params, headers=auth(tier) if tier else {})
    assert response.status_code == status and response.json()["error"]["reason"] == reason


def test_tail_cursor_older_than_the_hot_table_is_410(client, auth, feed):
    with database.connect("warehouse", settings=feed.built) as conn:
        conn.execute("update hot.consumer_offsets set pruned_through = 5")
    try:
        gone = client.get("/v1/trades/tail", params={"after": cursor_of(2)}, headers=auth("pro"))
    finally:
        with database.connect("warehouse", settings=feed.built) as conn:
            conn.execute("update hot.consumer_offsets set pruned_through = 0")
    assert gone.status_code == 410 and gone.json()["error"]["reason"] == "cursor_expired"


def sse_events(response: httpx.Response, until_seq: int | None = None, count: int | None = None):
    """Parse SSE lines into (id, event, data, comments) tuples until a seq or a count is reached."""
    event: dict = {}
    received = []
    for line in response.iter_lines():
        if line == "":
            if event:
                received.append(event)
                if event.get("event") == "resume":
                    return received
                if until_seq is not None and event.get("id") and seq_of(event["id"]) >= until_seq:
                    return received
                if count is not None and len(received) >= count:
                    return received
            event = {}
            continue
        name, _, value = line.partition(":")
        event.setdefault(name or "comment", value.strip())
    return received


def test_sse_resumes_with_last_event_id_missing_nothing(live_server, auth, feed):
    headers = auth("member")
    start = feed.hot()[0][0]
    stream_url = f"{live_server.url}/v1/stream/trades"
    first: list[dict] = []
    with httpx.stream(
        "GET", stream_url, params={"after": cursor_of(start)}, headers=headers, timeout=10
    ) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/event-stream"
        )
        first = [e for e in sse_events(response, count=6) if e.get("event") == "trade"]
    assert len(first) >= 4

    trading = threading.Thread(target=feed.trade, args=(1.0, 23))
    trading.start()  # trades arrive while the client is away and after it is back
    time.sleep(0.3)
    resumed: list[dict] = []
    with httpx.stream(
        "GET", stream_url, headers={**headers, "Last-Event-ID": first[-1]["id"]}, timeout=15
    ) as response:
        trading.join()
        head = feed.hot()[-1][0]
        resumed = [e for e in sse_events(response, until_seq=head) if e.get("event") == "trade"]
    received = [json.loads(e["data"])["trade_id"] for e in first + resumed]
    assert received == [trade_id for _, trade_id in feed.hot(after=start)]  # no gap, no duplicate
    assert [seq_of(e["id"]) for e in first + resumed] == [seq for seq, _ in feed.hot(after=start)]

    time.sleep(0.5)  # the metering writer flushes every 0.25 s
    with database.connect("warehouse", settings=feed.built) as conn:
        metered = conn.execute(
            "select rows from api.audit_log where dataset = 'hot.trades' and action = 'stream' order by at desc limit 1"
        ).fetchone()
    assert metered is not None and metered[0] >= len(resumed)


def test_sse_heartbeat_and_free_delay(live_server, auth, feed):
    app = live_server.server.config.app
    app.state.trade_stream.heartbeat_s = 0.3
    try:
        with httpx.stream(
            "GET",
            f"{live_server.url}/v1/stream/trades",
            params={"after": cursor_of(0), "symbol": busiest_symbols(feed)[0]},  # free: one at a time
            headers=auth("free"),
            timeout=10,
        ) as response:
            assert response.status_code == 200
            events = sse_events(response, count=3)
    finally:
        app.state.trade_stream.heartbeat_s = 15.0
    assert all(e.get("event") != "trade" for e in events)  # nothing is 15 minutes old yet
    assert any(e.get("comment", "").startswith("heartbeat") for e in events)


def test_sse_refusals(live_server, auth, feed):
    url = f"{live_server.url}/v1/stream/trades"
    assert httpx.get(url, timeout=5).status_code == 401
    bad = httpx.get(url, headers={**auth("pro"), "Last-Event-ID": "garbage"}, timeout=5)
    assert bad.status_code == 422 and bad.json()["error"]["reason"] == "invalid_request"
    assert httpx.get(url, params={"symbol": "GZZWM9"}, headers=auth("pro"), timeout=5).status_code == 404


def test_a_slow_subscriber_is_dropped_and_told_where_to_resume():
    timeline = Timeline(timedelta(0))
    slow, fast = (
        Subscription(None, timedelta(0), queue_size=2),
        Subscription(None, timedelta(0), queue_size=10),
    )
    timeline.subscribers |= {slow, fast}
    timeline.publish([TradeEvent(seq, "GEJWM1", "{}", cursor_of(seq), "") for seq in range(1, 6)])
    assert slow.overflowed and slow not in timeline.subscribers
    assert len(fast.waiting) == 5 and fast in timeline.subscribers and timeline.released == 5
    # what it had stays; it resumes from its cursor
    assert [event.seq for event in run_async(slow.take())] == [1, 2]


def ws_url(live_server) -> str:
    return live_server.url.replace("http", "ws") + "/v1/ws"


def receive(ws, timeout: float = 5.0) -> dict:
    return json.loads(ws.recv(timeout=timeout))


def busiest_symbols(feed, count: int = 1) -> list[str]:
    with database.connect("warehouse", settings=feed.built) as conn:
        rows = conn.execute(
            "select symbol from hot.trades group by symbol order by count(*) desc, symbol limit %s", (count,)
        )
        return [row[0] for row in rows]


def test_websocket_subscribe_and_unsubscribe(live_server, make_key, feed):
    everything = feed.hot()
    (symbol,) = busiest_symbols(feed)
    expected = feed.hot(symbol=symbol)
    with ws_connect(ws_url(live_server)) as ws:  # a browser: the key in the first message
        ws.send(json.dumps({"action": "auth", "key": make_key("member")}))
        assert receive(ws)["authenticated"]["tier"] == "member"
        ws.send(json.dumps({"action": "subscribe", "symbols": [symbol], "after": cursor_of(0)}))
        assert receive(ws)["subscribed"]["symbols"] == [symbol]
        trades = [receive(ws) for _ in expected]
        assert [m["trade"]["trade_id"] for m in trades] == [trade_id for _, trade_id in expected]
        assert [seq_of(m["cursor"]) for m in trades] == [seq for seq, _ in expected]
        assert all(m["trade"]["symbol"] == symbol for m in trades)
        ws.send(json.dumps({"action": "unsubscribe", "symbols": [symbol]}))
        assert receive(ws) == {"unsubscribed": {"symbols": [symbol]}}
        ws.send(json.dumps({"action": "subscribe", "after": cursor_of(everything[-2][0])}))  # every symbol
        assert "subscribed" in receive(ws)
        assert receive(ws)["trade"]["trade_id"] == everything[-1][1]
        ws.send("not json")
        assert receive(ws)["error"]["status"] == 422
        ws.send(json.dumps({"action": "subscribe", "symbols": ["GZZWM9"]}))
        assert receive(ws)["error"]["reason"] == "unknown_symbol"
        ws.send(json.dumps({"action": "dance"}))
        assert receive(ws)["error"]["reason"] == "invalid_request"
    time.sleep(0.5)
    with database.connect("warehouse", settings=feed.built) as conn:
        closed = conn.execute(
            "select rows from api.audit_log where dataset = 'hot.trades' and action = 'stream_close' order by at desc limit 1"
        ).fetchone()
    assert closed is not None and closed[0] == len(expected) + 1


def test_websocket_bearer_header_and_refusals(live_server, make_key, feed):
    with ws_connect(ws_url(live_server), additional_headers=bearer(make_key("free"))) as ws:
        assert receive(ws)["authenticated"]["tier"] == "free"
        ws.send(json.dumps({"action": "subscribe", "symbols": busiest_symbols(feed), "after": cursor_of(0)}))
        assert "subscribed" in receive(ws)
        with pytest.raises(TimeoutError):  # free: nothing is 15 minutes old yet
            ws.recv(timeout=1.0)
    with ws_connect(ws_url(live_server), additional_headers=bearer("gcx_nope_nope")) as ws:
        assert receive(ws)["error"]["status"] == 401
    with ws_connect(ws_url(live_server)) as ws:
        ws.send(json.dumps({"action": "subscribe"}))
        error = receive(ws)["error"]
        assert error["status"] == 401 and error["reason"] == "missing_key"


@pytest.mark.attack("a free key streams every symbol")
def test_a_free_key_follows_one_symbol_at_a_time(live_server, make_key, feed):
    key = make_key("free")
    first, second = busiest_symbols(feed, 2)
    every = httpx.get(f"{live_server.url}/v1/stream/trades", headers=bearer(key), timeout=10)
    assert every.status_code == 403 and every.json()["error"]["reason"] == "too_many_symbols"
    with ws_connect(ws_url(live_server), additional_headers=bearer(key)) as ws:
        receive(ws)
        ws.send(json.dumps({"action": "subscribe"}))
        assert receive(ws)["error"]["reason"] == "too_many_symbols"
        ws.send(json.dumps({"action": "subscribe", "symbols": [first]}))
        assert "subscribed" in receive(ws)
        ws.send(json.dumps({"action": "subscribe", "symbols": [second]}))
        assert receive(ws)["error"]["reason"] == "too_many_symbols"
        ws.send(json.dumps({"action": "unsubscribe", "symbols": [first]}))
        assert "unsubscribed" in receive(ws)
        ws.send(json.dumps({"action": "subscribe", "symbols": [second]}))
        assert "subscribed" in receive(ws)


@pytest.mark.attack("a free key floods a WebSocket with subscribes")
def test_websocket_messages_count_against_the_rate_limit_and_are_metered(live_server, make_key, feed):
    key = make_key("free")
    limit = TIERS["free"].requests_per_minute
    with ws_connect(ws_url(live_server), additional_headers=bearer(key)) as ws:
        receive(ws)  # the handshake counted one request
        answers = []
        for _ in range(limit):
            ws.send(json.dumps({"action": "unsubscribe"}))
            answers.append(receive(ws))
    assert all("unsubscribed" in answer for answer in answers[: limit - 1])
    refused = answers[-1]["error"]
    assert refused["status"] == 429 and refused["reason"] == "rate_limited"
    assert 1 <= refused["detail"]["retry_after_s"] <= 120 and refused["detail"]["limit"] == limit
    live_server.server.config.app.state.meter.flush()
    with database.connect("warehouse", settings=feed.built) as conn:
        metered = conn.execute(
            "select status, count(*) from api.request_log where key_id = %s and method = 'WS' group by status",
            (key.split("_")[1],),
        ).fetchall()
    assert sorted(metered) == [(200, limit - 1), (429, 1)]
