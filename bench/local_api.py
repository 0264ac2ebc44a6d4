"""The API served from a thread of the benchmark's own process (uvicorn on a free port), for benchmarks
that drive it with a browser or an HTTP client and need no separate `gcx serve` process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from api.main import create_app
from bench.realtime import _free_port
from gcx.settings import Settings


@contextmanager
def api_in_thread(settings: Settings, start_timeout_s: float = 60) -> Iterator[str]:
    """Serve the platform's API until the block ends; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
