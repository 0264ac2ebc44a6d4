"""Revoking a key ends what it holds open: its SSE stream and its WebSocket end within seconds with
a machine-readable reason, against the real server (api/stream.py, KeyWatch)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gcx_client import ApiError, Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from gcx import database
from gcx.access import keys
from tests.api.conftest import bearer

WITHIN_S = 5.0


def revoke(settings, key: str) -> float:
    with database.connect("warehouse", settings=settings) as conn:
        assert keys.revoke_key(conn, key.split("_")[1])
    return time.monotonic()


@pytest.mark.attack("a revoked key keeps its SSE stream")
def test_a_revoked_keys_stream_ends_with_the_reason(live_server, make_key, built_platform):
    key = make_key("member", "quant", name="revoked stream")
    with httpx.stream(
        "GET", f"{live_server.url}/v1/stream/trades", headers=bearer(key), timeout=30
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        revoked_at = revoke(built_platform, key)
        last_event = None
        for line in lines:
            if line.startswith("event:"):
                last_event = line.split(":", 1)[1].strip()
            if line.startswith("data:") and last_event == "error":
                error = json.loads(line[5:])
                break
        ended_after = time.monotonic() - revoked_at
    assert error["reason"] == "key_revoked" and error["status"] == 401
    assert ended_after < WITHIN_S
    again = httpx.get(f"{live_server.url}/v1/stream/trades", headers=bearer(key), timeout=10)
    assert again.status_code == 401 and again.json()["error"]["reason"] == "revoked_key"


@pytest.mark.attack("a revoked key keeps its WebSocket")
def test_a_revoked_keys_websocket_is_told_and_closed(live_server, make_key, built_platform):
    key = make_key("member", "quant", name="revoked websocket")
    url = live_server.url.replace("http://", "ws://") + "/v1/ws"
    with ws_connect(url, additional_headers=bearer(key)) as ws:
        assert "authenticated" in json.loads(ws.recv(timeout=10))
        ws.send(json.dumps({"action": "subscribe"}))
        assert "subscribed" in json.loads(ws.recv(timeout=10))
        revoked_at = revoke(built_platform, key)
        message = json.loads(ws.recv(timeout=WITHIN_S + 1))
        while "error" not in message:  # trades sent before the watch noticed
            message = json.loads(ws.recv(timeout=WITHIN_S + 1))
        assert message["error"]["reason"] == "key_revoked"
        assert time.monotonic() - revoked_at < WITHIN_S
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1008


@pytest.mark.attack("a revoked key's client reconnects")
def test_the_client_raises_the_reason_instead_of_reconnecting(live_server, make_key, built_platform):
    key = make_key("member", "quant", name="revoked client")
    with Client(live_server.url, key=key, max_retries=1) as client, ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(next, client.stream())  # connected, waiting for a trade
        time.sleep(1.0)
        revoke(built_platform, key)
        with pytest.raises(ApiError) as raised:
            waiting.result(timeout=WITHIN_S + 5)
    assert raised.value.reason == "key_revoked"
