"""Python client for the GCX market data API, for quants.

    from gcx.client import Client

    gcx = Client("http://127.0.0.1:8000", key="gcx_...")          # or GCX_API_URL / GCX_API_KEY
    trades = gcx.trades(["GEJWM1", "GKUYM2"], start="2026-11-02", end="2026-11-03")   # pandas DataFrame
    bars = gcx.ohlcv("GEJWM1", "1m", start="2026-10-01", end="2026-11-01")
    for trade in gcx.stream(["GEJWM1"]):                            # dicts, resumes by itself
        ...

Every history call pages through the whole window by itself (Parquet pages, so types survive),
and every call retries on 429 (after `Retry-After`) and on 503. `as_="arrow"` or `as_="polars"`
return a pyarrow Table or a polars DataFrame instead (polars only where installed).
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

Timestamp = str | int | datetime | date
"""ISO-8601 text, integer nanoseconds since the epoch (UTC), a datetime (naive = UTC) or a date."""
Output = Literal["pandas", "arrow", "polars"]

RETRYABLE = {429, 502, 503, 504}


class ApiError(Exception):
    """An error answer of the API, with its machine-readable reason."""

    def __init__(self, status: int, reason: str, message: str, detail: Any = None):
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message, self.detail = status, reason, message, detail


@dataclass
class Tail:
    """The newest trades and the cursor to ask for the next ones with (`client.tail(after=cursor)`)."""

    trades: pd.DataFrame
    cursor: str | None


def _param(value: Timestamp | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo else value.isoformat() + "Z"
    return value.isoformat() if isinstance(value, date) else str(value)


def _symbols(symbols: str | list[str] | None) -> str | None:
    return ",".join(symbols) if isinstance(symbols, list | tuple) else symbols


def _convert(table: pa.Table, as_: Output):
    if as_ == "arrow":
        return table
    if as_ == "polars":
        import polars  # optional: only for callers who ask for it

        return polars.from_arrow(table)
    return table.to_pandas()


class Client:
    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 8,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url = (url or os.environ.get("GCX_API_URL") or "http://127.0.0.1:8000").rstrip("/")
        key = key or os.environ.get("GCX_API_KEY")
        if not key:
            raise ValueError("an API key is needed: Client(key=...) or GCX_API_KEY (see `gcx keys create`)")
        self.max_retries = max_retries
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def _request(self, method: str, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """One call, retried on 429/503 after the server's Retry-After; API errors raised as ApiError."""
        params = {name: value for name, value in (params or {}).items() if value is not None}
        for attempt in range(self.max_retries + 1):
            response = self._http.request(method, path, params=params)
            if response.status_code not in RETRYABLE or attempt == self.max_retries:
                break
            time.sleep(float(response.headers.get("Retry-After", 2**attempt / 4)))
        if response.is_error:
            raise self._error(response)
        return response

    @staticmethod
    def _error(response: httpx.Response) -> ApiError:
        try:
            error = response.json()["error"]
            return ApiError(error["status"], error["reason"], error["message"], error.get("detail"))
        except (ValueError, KeyError, TypeError):
            return ApiError(response.status_code, "http_error", response.text[:200])

    def _pages(self, path: str, params: dict[str, Any]) -> pa.Table:
        """Every page of a history route, as one Arrow table (Parquet pages keep the types)."""
        tables, cursor = [], None
        while True:
            response = self._request("GET", path, {**params, "format": "parquet", "cursor": cursor})
            tables.append(pq.read_table(io.BytesIO(response.content)))
            cursor = response.headers.get("X-Next-Cursor") or None
            if cursor is None:
                break
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    # -- history ----------------------------------------------------------------------------------

    def trades(
        self,
        symbols: str | list[str] | None,
        start: Timestamp,
        end: Timestamp | None = None,
        *,
        page_size: int | None = None,
        as_: Output = "pandas",
    ):
        """Every trade in [start, end) of the symbols (None: all), oldest first."""
        params = {"symbol": _symbols(symbols), "start": _param(start), "end": _param(end), "limit": page_size}
        return _convert(self._pages("/v1/trades", params), as_)

    def ohlcv(
        self,
        symbols: str | list[str] | None,
        interval: Literal["1m", "5m", "1h", "1d"],
        start: Timestamp,
        end: Timestamp | None = None,
        *,
        page_size: int | None = None,
        as_: Output = "pandas",
    ):
        """Bars stamped at their interval start, for bar starts in [start, end)."""
        params = {
            "symbol": _symbols(symbols),
            "interval": interval,
            "start": _param(start),
            "end": _param(end),
            "limit": page_size,
        }
        return _convert(self._pages("/v1/ohlcv", params), as_)

    def daily_summary(
        self,
        symbols: str | list[str] | None,
        start: Timestamp,
        end: Timestamp | None = None,
        *,
        as_: Output = "pandas",
    ):
        """One row per symbol and trading day: OHLC, VWAP, volume, settlement price."""
        params = {"symbol": _symbols(symbols), "start": _param(start), "end": _param(end)}
        return _convert(self._pages("/v1/summary/daily", params), as_)

    def instruments(self, as_of: date | str | None = None) -> pd.DataFrame:
        body = self._request("GET", "/v1/instruments", {"as_of": _param(as_of)}).json()
        return pd.DataFrame(body["data"] if isinstance(body, dict) else body)

    # -- realtime ---------------------------------------------------------------------------------

    def tail(
        self, symbols: str | list[str] | None = None, after: str | None = None, limit: int | None = None
    ) -> Tail:
        """The newest trades, or (with `after`) the ones after that cursor; resume with `.cursor`."""
        body = self._request(
            "GET", "/v1/trades/tail", {"symbol": _symbols(symbols), "after": after, "limit": limit}
        ).json()
        return Tail(pd.DataFrame(body["data"]), body.get("next_cursor") or after)

    def stream(
        self, symbols: str | list[str] | None = None, after: str | None = None, reconnect_delay_s: float = 1.0
    ) -> Iterator[dict[str, Any]]:
        """Trades as they happen (Server-Sent Events). On a dropped connection it reconnects with the
        last cursor it received (Last-Event-ID), so nothing is missed and nothing repeats."""
        cursor = after
        attempts = 0
        while True:
            headers = {"Last-Event-ID": cursor} if cursor else {}
            try:
                with self._http.stream(
                    "GET",
                    "/v1/stream/trades",
                    params={"symbol": _symbols(symbols)} if symbols else None,
                    headers=headers,
                    timeout=httpx.Timeout(self._http.timeout.connect, read=None),
                ) as response:
                    if response.status_code in RETRYABLE:
                        attempts += 1
                        if attempts > self.max_retries:
                            response.read()
                            raise self._error(response)
                        time.sleep(float(response.headers.get("Retry-After", reconnect_delay_s)))
                        continue
                    if response.is_error:
                        response.read()
                        raise self._error(response)
                    attempts = 0
                    for event in _server_sent_events(response.iter_lines()):
                        if event.get("id"):
                            cursor = event["id"]
                        if event.get("event", "message") == "trade":
                            yield json.loads(event["data"])
            except (httpx.TransportError, httpx.RemoteProtocolError):
                attempts += 1
                if attempts > self.max_retries:
                    raise
            time.sleep(reconnect_delay_s)

    # -- catalog and exports ----------------------------------------------------------------------

    def datasets(self) -> pd.DataFrame:
        body = self._request("GET", "/v1/datasets").json()
        return pd.DataFrame(body["data"] if isinstance(body, dict) else body)

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/datasets/{dataset_id}").json()

    def export(
        self,
        dataset_id: str,
        path: str | Path,
        *,
        start: Timestamp | None = None,
        end: Timestamp | None = None,
        symbols: str | list[str] | None = None,
        format: Literal["csv", "parquet"] = "parquet",
    ) -> Path:
        """Download a bulk export to `path` (streamed; checked against the announced size and rows)."""
        path = Path(path)
        params = {"start": _param(start), "end": _param(end), "symbol": _symbols(symbols), "format": format}
        params = {name: value for name, value in params.items() if value is not None}
        for attempt in range(self.max_retries + 1):
            with self._http.stream("GET", f"/v1/datasets/{dataset_id}/export", params=params) as response:
                if response.status_code in RETRYABLE and attempt < self.max_retries:
                    time.sleep(float(response.headers.get("Retry-After", 2**attempt / 4)))
                    continue
                if response.is_error:
                    response.read()
                    raise self._error(response)
                expected = int(response.headers["Content-Length"])
                partial = path.with_name(path.name + ".part")
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                if partial.stat().st_size != expected:
                    raise ApiError(
                        0, "incomplete_download", f"got {partial.stat().st_size} of {expected} bytes"
                    )
                partial.replace(path)
                return path
        raise AssertionError("unreachable")


def _server_sent_events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Parse an SSE stream into events ({id, event, data}); comment lines (heartbeats) are skipped."""
    event: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if not line:
            if data or event:
                event["data"] = "\n".join(data)
                yield event
            event, data = {}, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name in ("id", "event", "retry"):
                event[name] = value
