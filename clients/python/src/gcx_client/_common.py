"""What the blocking and the asyncio clients share: how a call is asked for (routes and their
parameters), what an answer means (errors, retries, formats, server-sent events). Only the I/O
differs between the two; it lives in _sync.py and _async.py."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

Timestamp = str | int | datetime | date
"""ISO-8601 text, integer nanoseconds since the epoch (UTC), a datetime (naive = UTC) or a date."""
Output = Literal["pandas", "arrow", "polars"]
Symbols = str | list[str] | tuple[str, ...] | None

RETRYABLE = {429, 502, 503, 504}
DEFAULT_URL = "http://127.0.0.1:8000"


class ApiError(Exception):
    """An error answer of the API, with its machine-readable reason."""

    def __init__(self, status: int, reason: str, message: str, detail: Any = None):
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message, self.detail = status, reason, message, detail


@dataclass
class Tail:
    """The newest trades and the cursor to ask for the next ones with (`tail(after=cursor)`)."""

    trades: pd.DataFrame
    cursor: str | None


@dataclass(frozen=True)
class Connection:
    """Where the API is and how the client authenticates and retries."""

    url: str
    headers: dict[str, str]
    timeout: float
    max_retries: int

    @classmethod
    def of(cls, url: str | None, key: str | None, timeout: float, max_retries: int) -> Connection:
        key = key or os.environ.get("GCX_API_KEY")
        if not key:
            raise ValueError("an API key is needed: key=... or GCX_API_KEY (see `gcx keys create`)")
        url = (url or os.environ.get("GCX_API_URL") or DEFAULT_URL).rstrip("/")
        return cls(url, {"Authorization": f"Bearer {key}"}, timeout, max_retries)

    def stream_timeout(self) -> httpx.Timeout:
        """No read timeout: a quiet market sends only a heartbeat every 15 s."""
        return httpx.Timeout(self.timeout, read=None)


def param(value: Timestamp | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat() if value.tzinfo else value.isoformat() + "Z"
    return value.isoformat() if isinstance(value, date) else str(value)


def symbols_param(symbols: Symbols) -> str | None:
    return ",".join(symbols) if isinstance(symbols, list | tuple) else symbols


def present(params: dict[str, Any] | None) -> dict[str, Any]:
    """The parameters that were given (None means "the API's default")."""
    return {name: value for name, value in (params or {}).items() if value is not None}


# -- the routes -----------------------------------------------------------------------------------


def trades_query(symbols: Symbols, start: Timestamp, end: Timestamp | None, page_size: int | None):
    return "/v1/trades", {
        "symbol": symbols_param(symbols),
        "start": param(start),
        "end": param(end),
        "limit": page_size,
    }


def ohlcv_query(
    symbols: Symbols, interval: str, start: Timestamp, end: Timestamp | None, page_size: int | None
):
    return "/v1/ohlcv", {
        "symbol": symbols_param(symbols),
        "interval": interval,
        "start": param(start),
        "end": param(end),
        "limit": page_size,
    }


def summary_query(symbols: Symbols, start: Timestamp, end: Timestamp | None):
    return "/v1/summary/daily", {"symbol": symbols_param(symbols), "start": param(start), "end": param(end)}


def tail_query(symbols: Symbols, after: str | None, limit: int | None):
    return "/v1/trades/tail", {"symbol": symbols_param(symbols), "after": after, "limit": limit}


def export_query(start: Timestamp | None, end: Timestamp | None, symbols: Symbols, format: str):
    return present(
        {"start": param(start), "end": param(end), "symbol": symbols_param(symbols), "format": format}
    )


# -- the answers ----------------------------------------------------------------------------------


def error_of(response: httpx.Response) -> ApiError:
    """The API's error body as an ApiError (any non-API answer too, by its status)."""
    try:
        error = response.json()["error"]
        return ApiError(error["status"], error["reason"], error["message"], error.get("detail"))
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http_error", response.text[:200])


def stream_error(event: dict[str, str]) -> ApiError:
    """The `error` event a stream ends with, as an ApiError."""
    error = json.loads(event["data"])
    return ApiError(error["status"], error["reason"], error["message"], error.get("detail"))


def retry_delay(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After, else a growing backoff."""
    return float(response.headers.get("Retry-After", 2**attempt / 4))


def page_table(response: httpx.Response) -> pa.Table:
    return pq.read_table(io.BytesIO(response.content))


def next_cursor(response: httpx.Response) -> str | None:
    return response.headers.get("X-Next-Cursor") or None


def concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def convert(table: pa.Table, as_: Output):
    if as_ == "arrow":
        return table
    if as_ == "polars":
        import polars  # optional: `pip install "gcx-client[polars]"`

        return polars.from_arrow(table)
    return table.to_pandas()


def rows_frame(body: Any) -> pd.DataFrame:
    return pd.DataFrame(body["data"] if isinstance(body, dict) else body)


def tail_of(body: dict[str, Any], after: str | None) -> Tail:
    return Tail(pd.DataFrame(body["data"]), body.get("next_cursor") or after)


def check_download(size: int, expected: int) -> None:
    if size != expected:
        raise ApiError(0, "incomplete_download", f"got {size} of {expected} bytes")


class ServerSentEvents:
    """Parses a stream of lines into events ({id, event, data}); comments (heartbeats) are skipped."""

    def __init__(self) -> None:
        self._event: dict[str, str] = {}
        self._data: list[str] = []

    def feed(self, line: str) -> dict[str, str] | None:
        """The event a line completes (an empty line ends one), else None."""
        if not line:
            if not (self._data or self._event):
                return None
            event = {**self._event, "data": "\n".join(self._data)}
            self._event, self._data = {}, []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name in ("id", "event", "retry"):
            self._event[name] = value
        return None
