"""API fixtures: the app on the session's `built_platform`, an in-process client, a real uvicorn
server on a free port, and keys of every tier and role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import keys
from api.main import create_app
from gcx import database
from gcx.settings import Settings


@pytest.fixture(scope="session")
def api_app(built_platform: Settings) -> FastAPI:
    return create_app(built_platform)


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
            keys.ensure_schema(conn)
            return keys.create_key(conn, name, tier, role)

    return make


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
