"""The quants' Python client (clients/python, `gcx_client`) against a real uvicorn server: paging,
formats (pandas, Arrow, Polars), the tail and the stream with resume, exports, errors, retry on 429,
and the asyncio client giving the same answers."""

from __future__ import annotations

import itertools
from datetime import timedelta

import httpx
import pandas as pd
import pyarrow as pa
import pytest
from gcx_client import ApiError, AsyncClient, Client

from api.routes.realtime import cursor_of
from gcx import database
from tests.api.conftest import run_async


def warehouse(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def gcx(live_server, make_key):
    with Client(live_server.url, key=make_key("pro", "quant", name="client tests")) as client:
        yield client


@pytest.fixture(scope="module")
def window(built_platform) -> tuple[str, str]:
    """The simulated days of the built platform, [first day, last day + 1)."""
    first, last = warehouse(
        built_platform, "select min(trade_date), max(trade_date) from marts.fct_trades where venue = 'GCX'"
    )[0]
    return first.isoformat(), (last + timedelta(days=1)).isoformat()


def test_trades_pages_through_the_whole_window(gcx, built_platform, window):
    trades = gcx.trades(None, *window, page_size=7)
    expected = warehouse(
        built_platform,
        "select trade_id from marts.fct_trades where executed_at >= %s and executed_at < %s"
        " order by executed_at, trade_id",
        window,
    )
    assert len(expected) > 14, "several pages"
    assert trades.trade_id.tolist() == [trade_id for (trade_id,) in expected]
    assert str(trades.executed_at.dt.tz) == "UTC"


def test_ohlcv_and_summary_equal_the_marts(gcx, built_platform, window):
    symbol = warehouse(
        built_platform,
        "select symbol from marts.fct_ohlcv_1h group by symbol order by count(*) desc, symbol limit 1",
    )[0][0]
    bars = gcx.ohlcv(symbol, "1h", *window)
    expected = warehouse(
        built_platform,
        "select bar_start_at, close_ghs_per_t::float8 from marts.fct_ohlcv_1h"
        " where symbol = %s and bar_start_at >= %s and bar_start_at < %s order by bar_start_at",
        (symbol, *window),
    )
    assert len(bars) == len(expected) > 0
    assert bars.close_ghs_per_t.tolist() == [close for _, close in expected]
    summary = gcx.daily_summary([symbol], *window)
    assert set(summary.symbol) == {symbol} and len(summary) >= 1


def test_arrow_and_polars_output(gcx, window):
    import polars

    table = gcx.trades(None, *window, as_="arrow")
    assert isinstance(table, pa.Table) and table.num_rows > 0
    frame = gcx.trades(None, *window, as_="polars")
    assert (
        isinstance(frame, polars.DataFrame) and frame["trade_id"].to_list() == table["trade_id"].to_pylist()
    )


def test_the_async_client_gives_the_same_answers(gcx, live_server, make_key, window, feed):
    """History pages, several calls at once, and a resumed stream, awaited."""
    key = make_key("pro", "quant", name="async client tests")

    async def calls():
        import asyncio

        async with AsyncClient(live_server.url, key=key) as client:
            trades, summary = await asyncio.gather(
                client.trades(None, *window, page_size=7), client.daily_summary(None, *window)
            )
            streamed = []
            async for trade in client.stream(after=cursor_of(0)):
                streamed.append(trade["trade_id"])
                if len(streamed) == 5:
                    break
            with pytest.raises(ApiError) as refused:
                await client.trades(["NOSUCHSYMBOL"], *window)
            return trades, summary, streamed, refused.value

    trades, summary, streamed, refused = run_async(calls())
    assert trades.trade_id.tolist() == gcx.trades(None, *window).trade_id.tolist()
    assert len(summary) == len(gcx.daily_summary(None, *window))
    assert streamed == [trade_id for _, trade_id in feed.hot()[:5]]
    assert (refused.status, refused.reason) == (404, "unknown_symbol")


def test_api_errors_carry_the_reason(gcx, window):
    with pytest.raises(ApiError) as refused:
        gcx.trades(["NOSUCHSYMBOL"], *window)
    assert refused.value.status == 404 and refused.value.reason == "unknown_symbol"


def test_a_429_is_retried_after_the_servers_retry_after(live_server, make_key, window):
    """The first answer is the server's own 429 for an exhausted key; the retry uses a fresh key's answer."""
    refusals = itertools.count()

    class RefuseFirst(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if next(refusals) == 0:
                return httpx.Response(
                    429,
                    headers={"Retry-After": "0"},
                    json={"error": {"status": 429, "reason": "rate_limited", "message": "slow down"}},
                )
            return super().handle_request(request)

    with Client(live_server.url, key=make_key("member"), transport=RefuseFirst()) as client:
        trades = client.trades(None, *window)
    assert next(refusals) == 2, "one refusal, then the retry"
    assert len(trades) > 0


def test_tail_and_stream_resume_with_no_gap(gcx, feed):
    everything = feed.hot()
    assert len(everything) > 10
    first = gcx.tail(limit=5)
    assert len(first.trades) == 5
    newest = [trade_id for _, trade_id in everything[-5:]]
    assert first.trades.trade_id.tolist() == newest

    # from the start of the stream: the client's stream gives every stored trade in order
    streamed = list(itertools.islice(gcx.stream(after=cursor_of(0)), len(everything)))
    assert [trade["trade_id"] for trade in streamed] == [trade_id for _, trade_id in everything]


def test_export_downloads_the_announced_bytes(gcx, tmp_path, window):
    path = gcx.export("trades", tmp_path / "trades.parquet", start=window[0], end=window[1])
    exported = pd.read_parquet(path)
    assert exported.trade_id.tolist() == gcx.trades(None, *window).trade_id.tolist()
