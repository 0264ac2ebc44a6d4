"""Realtime: `/v1/trades/tail` under concurrent load, and feed-to-client latency with many SSE subscribers.

Everything real and in separate processes, as in production: live mode (`gcx simulate --live`), the
feed consumer (`gcx feed`) and the API (`gcx serve --workers 2`, as `make demo` runs it) on a
throwaway embedded PostgreSQL in a temporary GCX_HOME; this process is only the clients.

1. Tail: for each of `concurrencies` (e.g. "1,4,16"), that many clients, each request with one of
   many pro keys (so rate limits do not interfere), ask `GET /v1/trades/tail?limit=100` for
   `tail_seconds` while live trading goes on. Latency = request sent -> last byte received;
   requests/s over the whole run. The clients run in this process, on the same 2 cores as the API,
   each a raw keep-alive HTTP/1.1 connection (httpx's own CPU per request would be measured too).
2. Stream: `subscribers` concurrent `GET /v1/stream/trades` connections (minimal SSE clients, each
   an asyncio protocol, so the clients cost little CPU) while live mode trades at
   `trades_per_second` for `stream_seconds`. The clients run on uvloop, as the API does, so the
   instrument takes as little of the 2 shared cores as it can. Feed-to-client latency of every
   delivered event = the wall clock when the client read it - the feed message's `published_at`
   (set by the exchange inside the transaction that commits it, so this slightly overstates the
   latency from commit). Every subscriber must
   receive every trade stored during the run: `missing deliveries` must be 0. The latency is split
   at `hot.trades.stored_at` (the consumer's transaction start, after validation): feed to stored
   (the consumer's wait, read and validation) and stored to client (commit, NOTIFY, the API's fan-out
   and this process reading 1,000 sockets); the fan-out of each trade is also shown on its own, from
   the first subscriber that read it to the last.

Targets (issue 4): tail p99 < 50 ms, feed-to-client p99 < 100 ms.

    python -m bench realtime --subscribers 1000
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import psycopg
import uvloop

from gcx import clock, database
from gcx.access import keys
from gcx.services import API_WORKERS
from gcx.settings import Settings
from gcx.simulator import simulate
from gcx.simulator.trading_calendar import sessions_before

TAIL_KEYS = 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gcx(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "GCX_HOME": str(home)}
    env.pop("GCX_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "gcx", *args], env=env, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_healthy(url: str, timeout_s: float = 120) -> None:
    """Until `gcx serve` at `url` answers /health with 200."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the API did not come up")
        time.sleep(0.5)


def _wait_for_hot_trades(settings: Settings, count: int, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    with database.connect("warehouse", autocommit=True, settings=settings) as conn:
        while True:
            try:
                if conn.execute("select count(*) from hot.trades").fetchone()[0] >= count:
                    return
            except psycopg.errors.UndefinedTable:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("no trades reached the hot table: is the feed consumer running?")
            time.sleep(0.5)


def _percentiles(values_ms: list[float]) -> tuple[float, float, float]:
    array = np.asarray(values_ms)
    return float(np.percentile(array, 50)), float(np.percentile(array, 99)), float(array.max())


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str, key: str) -> int:
    """One keep-alive HTTP/1.1 GET; its status once the whole body is read. Raw, not httpx: httpx's
    own CPU per request, on the API's two cores, would be part of what is measured."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return status


async def _tail_load(
    url: str, api_keys: list[str], concurrency: int, seconds: float
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    host, port = url.removeprefix("http://").split(":")

    async def worker(offset: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        n = offset
        try:
            while time.perf_counter() < deadline:
                key = api_keys[n % len(api_keys)]
                n += concurrency
                started = time.perf_counter()
                if await _get(reader, writer, "/v1/trades/tail?limit=100", key) != 200:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return latencies, errors


class _SseClient(asyncio.Protocol):
    """A minimal SSE client: records (trade_id, wall clock) of every trade event it reads. A protocol,
    not a stream reader in a task: 1,000 of them read on one core at a few µs per event, so the
    figures measure the API, not this load generator (which has no machine of its own here)."""

    MARKER = b'"trade_id":"'

    def __init__(self, received: list[tuple[bytes, float]], on_streaming: Callable[[], None]):
        self.received = received
        self.on_streaming = on_streaming
        self.streaming = False
        self.buffer = b""
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data
        if not self.streaming and b"stream of" in buffer:
            self.streaming = True
            self.on_streaming()
        start = buffer.find(self.MARKER)
        while start >= 0:
            end = buffer.find(b'"', start + len(self.MARKER))
            if end < 0:
                break
            self.received.append((buffer[start + len(self.MARKER) : end], now))
            buffer = buffer[end:]
            start = buffer.find(self.MARKER)
        self.buffer = buffer[-256:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _subscriber(
    host: str,
    port: int,
    key: str,
    received: list[tuple[bytes, float]],
    ready: asyncio.Event,
    counter: list[int],
) -> None:
    """One SSE subscriber until the server closes the stream or the task is cancelled."""

    def on_streaming() -> None:
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()

    loop = asyncio.get_running_loop()
    transport, client = await loop.create_connection(lambda: _SseClient(received, on_streaming), host, port)
    transport.write(
        f"GET /v1/stream/trades HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    try:
        await client.closed
    finally:
        transport.close()


Received = list[list[tuple[bytes, float]]]
"""Per subscriber, (trade_id, wall clock when read) of every trade event."""


async def connect_subscribers(
    url: str, key: str, subscribers: int, timeout_s: float
) -> tuple[list[asyncio.Task], Received, float]:
    """`subscribers` minimal SSE clients on /v1/stream/trades, each recording into its list; returns once
    all are streaming: their tasks, what they receive, and the seconds connecting took."""
    host, port = url.removeprefix("http://").split(":")
    received: Received = [[] for _ in range(subscribers)]
    ready, counter = asyncio.Event(), [0, subscribers]
    started = time.monotonic()
    tasks = []
    for i in range(subscribers):
        tasks.append(asyncio.create_task(_subscriber(host, int(port), key, received[i], ready, counter)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # do not knock on the listen backlog all at once
    await asyncio.wait_for(ready.wait(), timeout_s)
    return tasks, received, time.monotonic() - started


async def until_deliveries_stop(received: Received, give_up_at: float, quiet_s: float = 3.0) -> None:
    """Wait until no subscriber has read anything for `quiet_s` (or `time.monotonic()` passes
    `give_up_at`): lag is measured, not cut off as loss."""
    delivered, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < quiet_s and time.monotonic() < give_up_at:
        await asyncio.sleep(0.5)
        total = sum(map(len, received))
        if total != delivered:
            delivered, quiet_since = total, time.monotonic()


async def _stream_load(url: str, key: str, subscribers: int, run_live) -> tuple[Received, float]:
    started = time.monotonic()
    tasks, received, connect_s = await connect_subscribers(url, key, subscribers, 120)
    live = run_live()
    await asyncio.to_thread(live.wait)  # trading for `seconds`
    await until_deliveries_stop(received, started + 300)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    _stop(live)
    return received, connect_s


def main(
    subscribers: int = 1000,
    trades_per_second: int = 5,
    stream_seconds: int = 20,
    concurrencies: str = "1,4,16",
    tail_seconds: int = 10,
    workers: int = API_WORKERS,
) -> dict[str, object]:
    home = Path(tempfile.mkdtemp(prefix="gcx-bench-realtime-"))
    settings = Settings(home=home)
    processes: list[subprocess.Popen] = []
    figures: dict[str, object] = {
        "load average (1 min) at start": os.getloadavg()[0],
        "API processes": workers,
    }
    try:
        database.ensure_databases(settings)
        first, last = sessions_before(clock.today(), 1)  # the instruments and accounts live trading uses
        simulate(first, (last - first).days + 1, seed=7, settings=settings)
        with database.connect("warehouse", settings=settings) as conn:
            tail_keys = [keys.create_key(conn, f"bench {i}", "pro", "quant") for i in range(TAIL_KEYS)]
            stream_key = keys.create_key(conn, "bench stream", "pro", "quant")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        processes.append(_gcx(home, "feed"))
        processes.append(_gcx(home, "serve", "--port", str(port), "--workers", str(workers)))
        _wait_until_healthy(url)

        # 1. tail under load, while trading
        warmup = _gcx(home, "simulate", "--live", "--trades-per-second", "20", "--duration", "600")
        _wait_for_hot_trades(settings, 50)  # some trades in the hot table first
        for concurrency in (int(value) for value in str(concurrencies).split(",")):
            latencies, errors = uvloop.run(_tail_load(url, tail_keys, concurrency, tail_seconds))
            p50, p99, worst = _percentiles(latencies)
            figures |= {
                f"tail x{concurrency} requests": len(latencies),
                f"tail x{concurrency} errors": errors,
                f"tail x{concurrency} requests/s": len(latencies) / tail_seconds,
                f"tail x{concurrency} p50 ms": p50,
                f"tail x{concurrency} p99 ms": p99,
                f"tail x{concurrency} max ms": worst,
            }
        _stop(warmup)
        print(figures)

        # 2. feed to client with many SSE subscribers
        started_at = clock.now()

        def run_live() -> subprocess.Popen:
            return _gcx(
                home,
                "simulate",
                "--live",
                "--trades-per-second",
                str(trades_per_second),
                "--duration",
                str(stream_seconds),
            )

        received, connect_s = uvloop.run(_stream_load(url, stream_key, subscribers, run_live))
        with database.connect("exchange", settings=settings) as conn:
            published = dict(
                conn.execute(
                    "select payload::json->>'trade_id', published_at from feed_messages where published_at > %s",
                    (started_at,),
                ).fetchall()
            )
        with database.connect("warehouse", settings=settings) as conn:
            stored_at = dict(
                conn.execute(
                    "select trade_id, stored_at from hot.trades where published_at > %s", (started_at,)
                ).fetchall()
            )
        stored = set(stored_at)
        latencies_ms, after_stored_ms = [], []
        read_at: dict[str, list[float]] = {trade_id: [] for trade_id in stored}
        missing = 0
        for events in received:
            events = [(trade_id.decode(), at) for trade_id, at in events]
            missing += len(stored - {trade_id for trade_id, _ in events})
            for trade_id, at in events:
                sent = published.get(trade_id)
                if sent is not None:
                    latencies_ms.append((at - sent.timestamp()) * 1000)
                    after_stored_ms.append((at - stored_at[trade_id].timestamp()) * 1000)
                    read_at[trade_id].append(at)
        to_stored_ms = [(stored_at[t] - published[t]).total_seconds() * 1000 for t in stored]
        # the fan-out of one trade: how long after the first subscriber read it the last one did
        spreads_ms = [(max(times) - min(times)) * 1000 for times in read_at.values() if times]
        to_first_ms = [(min(read_at[t]) - stored_at[t].timestamp()) * 1000 for t in stored if read_at[t]]
        p50, p99, worst = _percentiles(latencies_ms)
        figures |= {
            "stream subscribers": subscribers,
            "subscribers connected s": connect_s,
            "trades/s (live mode)": trades_per_second,
            "trades stored during the run": len(stored),
            "events delivered": len(latencies_ms),
            "missing deliveries": missing,
            "load average (1 min) at end": os.getloadavg()[0],
            "feed-to-client p50 ms": p50,
            "feed-to-client p99 ms": p99,
            "feed-to-client max ms": worst,
            "feed-to-stored p50 ms": _percentiles(to_stored_ms)[0],
            "feed-to-stored p99 ms": _percentiles(to_stored_ms)[1],
            "stored-to-client p50 ms": _percentiles(after_stored_ms)[0],
            "stored-to-client p99 ms": _percentiles(after_stored_ms)[1],
            "stored-to-first-subscriber p50 ms": _percentiles(to_first_ms)[0],
            "first-to-last-subscriber p50 ms": _percentiles(spreads_ms)[0],
            "first-to-last-subscriber p99 ms": _percentiles(spreads_ms)[1],
        }
        print(figures)
        return figures
    finally:
        for process in reversed(processes):
            _stop(process)
        database.stop_embedded(settings)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    print(main())
