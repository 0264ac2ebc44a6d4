"""API fixtures: the app on the session's `built_platform`, an in-process client, a real uvicorn
server on a free port, keys of every tier and role, and a live feed consumed into the hot tables.

The live feed's trades come from the session's `settings` exchange (same seed, same instruments),
so the built platform's exchange and its reconciliation are untouched; the consumer writes the
built platform's hot tables, emptied again at the end of each module that uses `feed`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from gcx import database
from gcx.access import keys
from gcx.live_feed.consumer import FeedConsumer
from gcx.live_feed.hot import forget_feed
from gcx.settings import Settings
from gcx.simulator import run_live, simulate
from tests.conftest import WORLD_START


@pytest.fixture(scope="session")
def api_app(built_platform: Settings) -> FastAPI:
    return create_app(built_platform)


@pytest.fixture
def fresh_catalog(api_app):
    """The catalog rebuilt for this test (and again after it), for tests that change what it reads."""
    catalog = getattr(api_app.state, "catalog", None)
    if catalog is not None:
        catalog.invalidate()
    yield
    api_app.state.catalog.invalidate()


@pytest.fixture(scope="session")
def client(api_app: FastAPI) -> Iterator[TestClient]:
    """In process (the app's lifespan runs: pool, metering writer)."""
    with TestClient(api_app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def make_key(built_platform: Settings) -> Callable[..., str]:
    """A new key of the tier and role (each call a new key, so rate limits do not leak across tests)."""

    def make(tier: str = "pro", role: str = "quant", name: str = "test") -> str:
        with database.connect("warehouse", settings=built_platform) as conn:
            return keys.create_key(conn, name, tier, role)

    return make


def run_async(coroutine):
    """Run a coroutine to completion in a thread of its own: Playwright's sync API (the dashboard
    tests' session browser) keeps an event loop running in the main thread, where asyncio.run fails."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def auth(make_key) -> Callable[..., dict[str, str]]:
    """Headers for a new key: `auth("free", "quant")`."""
    return lambda tier="pro", role="quant": bearer(make_key(tier, role))


class LiveServer:
    def __init__(self, app: FastAPI):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(built_platform: Settings) -> Iterator[LiveServer]:
    """A real HTTP server (uvicorn, its own app instance) for streams, WebSockets and the client."""
    with LiveServer(create_app(built_platform)) as server:
        yield server


class Feed:
    """Live trading on the `settings` exchange, consumed into the built platform's hot tables."""

    def __init__(self, settings, built_platform):
        self.settings, self.built = settings, built_platform
        self.consumer = FeedConsumer(built_platform, batch_size=50, exchange_settings=settings)
        self.consumer.reset()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self.consumer.run, args=(self.stop,), kwargs={"idle_poll_s": 0.2}
        )
        self.thread.start()

    def trade(self, seconds: float, seed: int, bad_rate: float = 0.0) -> None:
        run_live(trades_per_second=25, duration=seconds, seed=seed, bad_rate=bad_rate, settings=self.settings)
        with database.connect("exchange", settings=self.settings) as conn:
            head = conn.execute("select max(seq) from feed_messages").fetchone()[0]
        deadline = time.monotonic() + 10
        while self.consumer.position < head:
            assert time.monotonic() < deadline, "the consumer did not catch up"
            time.sleep(0.02)

    def hot(self, after: int = 0, symbol: str | None = None) -> list[tuple[int, str]]:
        with database.connect("warehouse", settings=self.built) as conn:
            return conn.execute(
                "select seq, trade_id from hot.trades where seq > %s and (%s::text is null or symbol = %s) order by seq",
                (after, symbol, symbol),
            ).fetchall()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        forget_feed(self.consumer.warehouse)
        self.consumer.close()


@pytest.fixture(scope="module")
def feed(settings, built_platform):
    simulate(WORLD_START, 1, seed=29, settings=settings)
    live = Feed(settings, built_platform)
    live.trade(1.5, seed=21, bad_rate=0.2)
    yield live
    live.close()
