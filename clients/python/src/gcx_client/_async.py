"""The asyncio client: the same calls as `Client`, awaited (many symbols or datasets at once with
`asyncio.gather`, a stream beside other work)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx
import pandas as pd
import pyarrow as pa

from gcx_client import _common as c
from gcx_client._common import ApiError, Output, Symbols, Tail, Timestamp


class AsyncClient:
    """The GCX market data API over one asyncio HTTP connection pool (`async with` closes it)."""

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self._connection = c.Connection.of(url, key, timeout, max_retries)
        self.url, self.max_retries = self._connection.url, max_retries
        self._http = httpx.AsyncClient(
            base_url=self.url, headers=self._connection.headers, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # -- plumbing ---------------------------------------------------------------------------------

    async def _request(self, method: str, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        for attempt in range(self.max_retries + 1):
            response = await self._http.request(method, path, params=c.present(params))
            if response.status_code not in c.RETRYABLE or attempt == self.max_retries:
                break
            await asyncio.sleep(c.retry_delay(response, attempt))
        if response.is_error:
            raise c.error_of(response)
        return response

    async def _pages(self, path: str, params: dict[str, Any]) -> pa.Table:
        tables, cursor = [], None
        while True:
            response = await self._request("GET", path, {**params, "format": "parquet", "cursor": cursor})
            tables.append(c.page_table(response))
            cursor = c.next_cursor(response)
            if cursor is None:
                return c.concat(tables)

    # -- history ----------------------------------------------------------------------------------

    async def trades(
        self,
        symbols: Symbols,
        start: Timestamp,
        end: Timestamp | None = None,
        *,
        page_size: int | None = None,
        as_: Output = "pandas",
    ):
        """Every trade in [start, end) of the symbols (None: all), oldest first."""
        return c.convert(await self._pages(*c.trades_query(symbols, start, end, page_size)), as_)

    async def ohlcv(
        self,
        symbols: Symbols,
        interval: Literal["1m", "5m", "1h", "1d"],
        start: Timestamp,
        end: Timestamp | None = None,
        *,
        page_size: int | None = None,
        as_: Output = "pandas",
    ):
        """Bars stamped at their interval start, for bar starts in [start, end)."""
        return c.convert(await self._pages(*c.ohlcv_query(symbols, interval, start, end, page_size)), as_)

    async def daily_summary(
        self, symbols: Symbols, start: Timestamp, end: Timestamp | None = None, *, as_: Output = "pandas"
    ):
        """One row per symbol and trading day: OHLC, VWAP, volume, settlement price."""
        return c.convert(await self._pages(*c.summary_query(symbols, start, end)), as_)

    async def instruments(self, as_of: date | str | None = None) -> pd.DataFrame:
        response = await self._request("GET", "/v1/instruments", {"as_of": c.param(as_of)})
        return c.rows_frame(response.json())

    # -- realtime ---------------------------------------------------------------------------------

    async def tail(self, symbols: Symbols = None, after: str | None = None, limit: int | None = None) -> Tail:
        """The newest trades, or (with `after`) the ones after that cursor; resume with `.cursor`."""
        return c.tail_of((await self._request("GET", *c.tail_query(symbols, after, limit))).json(), after)

    async def stream(
        self, symbols: Symbols = None, after: str | None = None, reconnect_delay_s: float = 1.0
    ) -> AsyncIterator[dict[str, Any]]:
        """Trades as they happen; reconnects with the last cursor it received, as `Client.stream`."""
        cursor, attempts = after, 0
        while True:
            headers = {"Last-Event-ID": cursor} if cursor else {}
            params = {"symbol": c.symbols_param(symbols)} if symbols else None
            try:
                async with self._http.stream(
                    "GET",
                    "/v1/stream/trades",
                    params=params,
                    headers=headers,
                    timeout=self._connection.stream_timeout(),
                ) as response:
                    if response.status_code in c.RETRYABLE or response.is_error:
                        attempts += 1
                        if response.status_code not in c.RETRYABLE or attempts > self.max_retries:
                            await response.aread()
                            raise c.error_of(response)
                        await asyncio.sleep(float(response.headers.get("Retry-After", reconnect_delay_s)))
                        continue
                    attempts = 0
                    events = c.ServerSentEvents()
                    async for line in response.aiter_lines():
                        event = events.feed(line)
                        if event is None:
                            continue
                        cursor = event.get("id") or cursor
                        if event.get("event") == "error":  # the server ended the stream (a revoked key)
                            raise c.stream_error(event)
                        if event.get("event", "message") == "trade":
                            yield json.loads(event["data"])
            except (httpx.TransportError, httpx.RemoteProtocolError):
                attempts += 1
                if attempts > self.max_retries:
                    raise
            await asyncio.sleep(reconnect_delay_s)

    # -- catalog and exports ----------------------------------------------------------------------

    async def datasets(self) -> pd.DataFrame:
        return c.rows_frame((await self._request("GET", "/v1/datasets")).json())

    async def dataset(self, dataset_id: str) -> dict[str, Any]:
        return (await self._request("GET", f"/v1/datasets/{dataset_id}")).json()

    async def export(
        self,
        dataset_id: str,
        path: str | Path,
        *,
        start: Timestamp | None = None,
        end: Timestamp | None = None,
        symbols: Symbols = None,
        format: Literal["csv", "parquet"] = "parquet",
    ) -> Path:
        """Download a bulk export to `path` (streamed; checked against the announced size)."""
        path = Path(path)
        params = c.export_query(start, end, symbols, format)
        for attempt in range(self.max_retries + 1):
            async with self._http.stream(
                "GET", f"/v1/datasets/{dataset_id}/export", params=params
            ) as response:
                if response.status_code in c.RETRYABLE and attempt < self.max_retries:
                    await asyncio.sleep(c.retry_delay(response, attempt))
                    continue
                if response.is_error:
                    await response.aread()
                    raise c.error_of(response)
                partial = path.with_name(path.name + ".part")
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                c.check_download(partial.stat().st_size, int(response.headers["Content-Length"]))
                partial.replace(path)
                return path
        raise ApiError(0, "unreachable", "the retry loop ended without an answer")
