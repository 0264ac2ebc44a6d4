"""What a request may send (api/limits.py): a body past 1 MiB is refused before it is read, a body
without a key is refused before it is read, and a request names at most 500 symbols. Against the
real server where it matters: the refusal must come before the bytes do."""

from __future__ import annotations

import json
import socket
import time

import pytest

from api.limits import MAX_BODY_BYTES, MAX_WS_MESSAGE_BYTES
from api.params import MAX_SYMBOLS
from tests.api.conftest import bearer

HUGE = 210_000_000
"""The attack: a 210 MB scoring request."""


def post_head(port: int, key: str, extra: str) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(
        (
            "POST /v1/risk/score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\n{extra}\r\n"
        ).encode()
    )
    return conn


def answer(conn: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 20:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body[body.index(b"{") : body.rindex(b"}") + 1])


@pytest.mark.attack("a 210 MB body to /v1/risk/score")
def test_a_declared_body_past_the_limit_is_refused_before_it_is_read(live_server, make_key):
    conn = post_head(live_server.port, make_key("pro", "compliance"), f"Content-Length: {HUGE}\r\n")
    began = time.monotonic()
    conn.sendall(b"{" + b" " * 65_536)  # a little of it; the server must not wait for the rest
    status, body = answer(conn)
    conn.close()
    assert time.monotonic() - began < 2.0
    assert (status, body["error"]["reason"]) == (413, "payload_too_large")
    assert body["error"]["detail"] == {"limit_bytes": MAX_BODY_BYTES}


@pytest.mark.attack("a chunked body with no end")
def test_a_chunked_body_is_cut_off_where_it_passes_the_limit(live_server, make_key):
    conn = post_head(live_server.port, make_key("pro", "compliance"), "Transfer-Encoding: chunked\r\n")
    chunk = b" " * 65_536
    sent = 0
    conn.settimeout(0.05)
    while sent < HUGE:
        try:
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
            if conn.recv(1, socket.MSG_PEEK):
                break  # the server answered
        except (TimeoutError, BlockingIOError):
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
    conn.settimeout(10)
    status, body = answer(conn)
    conn.close()
    assert (status, body["error"]["reason"]) == (413, "payload_too_large")
    assert sent < 8 * MAX_BODY_BYTES, f"the server let {sent:,} bytes in before answering"


@pytest.mark.attack("a body sent without a key")
def test_a_body_without_a_key_is_refused_before_it_is_read(client):
    response = client.post("/v1/risk/score", content=b"x" * (MAX_BODY_BYTES - 1))
    assert response.status_code == 401 and response.json()["error"]["reason"] == "missing_key"


@pytest.mark.attack("a request naming 501 symbols")
def test_a_request_names_at_most_500_symbols(client, auth):
    symbols = ",".join(f"S{n}" for n in range(MAX_SYMBOLS + 1))
    response = client.get(
        "/v1/trades", params={"symbol": symbols, "start": "2026-11-17"}, headers=auth("pro")
    )
    assert response.status_code == 422 and response.json()["error"]["reason"] == "too_many_symbols"


@pytest.mark.attack("a WebSocket message past 64 KiB")
def test_a_websocket_message_past_64_kib_is_refused(client, make_key):
    with client.websocket_connect("/v1/ws", headers=bearer(make_key("pro"))) as ws:
        assert "authenticated" in ws.receive_json()
        ws.send_text(json.dumps({"action": "subscribe", "symbols": ["X" * MAX_WS_MESSAGE_BYTES]}))
        refused = ws.receive_json()
    assert refused["error"]["reason"] == "payload_too_large"
