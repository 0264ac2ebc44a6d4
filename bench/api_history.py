"""`/v1/ohlcv` under concurrent load: a year of 1-minute bars of one symbol, in JSON and Parquet.

A scratch warehouse (throwaway embedded PostgreSQL) gets `marts.fct_ohlcv_1m` filled by SQL as in
bench/exports.py (one symbol: a year of 1-minute bars in 8-hour weekday sessions, ~125k bars) and
`marts.dim_instruments` with its symbol. `gcx serve` runs in its own process; `concurrency` clients
then each pull the whole year page by page (`limit` = 50,000, the pro tier's largest page) for
`seconds`, in JSON or Parquet. Figures per format: request latency p50/p99/max, requests/s, and the
time to pull the whole year.

    python -m bench api_history --concurrency 4 --seconds 20
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.exports import BARS_DDL, BARS_FILL
from bench.realtime import _free_port, _gcx, _percentiles, _stop, _wait_until_healthy
from gcx import database
from gcx.access import keys
from gcx.settings import Settings

YEAR = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
PAGE = 50_000


async def _pull_year(client: httpx.AsyncClient, output: str, latencies: list[float]) -> int:
    """Every page of the year; returns the bytes received."""
    cursor, received = None, 0
    while True:
        params = {"symbol": "GEJWM1", "interval": "1m", "limit": PAGE, "format": output, **YEAR}
        if cursor:
            params["cursor"] = cursor
        started = time.perf_counter()
        response = await client.get("/v1/ohlcv", params=params)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        received += len(response.content)
        cursor = response.headers.get("X-Next-Cursor")
        if not cursor:
            return received


async def _load(url: str, key: str, output: str, concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    years: list[float] = []
    sizes: list[int] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                sizes.append(await _pull_year(client, output, latencies))
                years.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    p50, p99, worst = _percentiles(latencies)
    return {
        f"{output} requests": len(latencies),
        f"{output} latency p50 ms": round(p50, 1),
        f"{output} latency p99 ms": round(p99, 1),
        f"{output} latency max ms": round(worst, 1),
        f"{output} requests/s": round(len(latencies) / elapsed, 1),
        f"{output} whole year pull s (median)": round(sorted(years)[len(years) // 2], 2),
        f"{output} whole year MB": round(sizes[0] / 2**20, 1),
    }


def main(concurrency: int = 4, seconds: float = 20.0) -> dict[str, object]:
    figures: dict[str, object] = {"concurrency": concurrency}
    with tempfile.TemporaryDirectory(prefix="gcx-bench-history-") as home:
        settings = Settings(home=Path(home))
        server = None
        try:
            database.ensure_databases(settings)
            with database.connect("warehouse", settings=settings) as conn:
                conn.execute(BARS_DDL)
                conn.execute(BARS_FILL, {"symbols": 1})
                conn.execute("create index on marts.fct_ohlcv_1m (symbol, bar_start_at)")
                conn.execute(
                    "create table marts.dim_instruments as select distinct symbol from marts.fct_ohlcv_1m"
                )
                conn.execute("analyze marts.fct_ohlcv_1m")
                figures["bars in the year"] = conn.execute(
                    "select count(*) from marts.fct_ohlcv_1m"
                ).fetchone()[0]
                key = keys.create_key(conn, "bench", "pro", "quant")
            port = _free_port()
            server = _gcx(Path(home), "serve", "--port", str(port))
            url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(url)
            for output in ("json", "parquet"):
                measured = asyncio.run(_load(url, key, output, concurrency, seconds))
                print(measured)
                figures.update(measured)
        finally:
            if server is not None:
                _stop(server)
            database.stop_embedded(settings)
    return figures
