"""Bulk exports: who may export, and that the file is the query result (and the history pages),
with its size and row count known before the body."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq
import pytest

from gcx import clock, database
from gcx.access.entitlements import TIERS
from tests.api.conftest import bearer


def query(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def window(built_platform) -> tuple[datetime, datetime]:
    """The simulated GCX days (the CME day is far before them)."""
    first, last = query(
        built_platform, "select min(executed_at), max(executed_at) from marts.fct_trades where venue = 'GCX'"
    )[0]
    return first.replace(hour=0, minute=0, second=0, microsecond=0), last + timedelta(microseconds=1)


@pytest.fixture(scope="module")
def pro(auth) -> dict[str, str]:
    return auth("pro", "quant")


def walk(client, path: str, headers, params) -> list[dict]:
    """Every row of a history query, page by page."""
    rows, cursor = [], None
    while True:
        response = client.get(path, headers=headers, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def test_csv_export_is_the_query_result_and_the_history_pages(client, pro, built_platform, window):
    start, end = window
    params = {"start": iso(start), "end": iso(end), "format": "csv"}
    response = client.get("/v1/datasets/trades/export", headers=pro, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert int(response.headers["content-length"]) == len(response.content)
    exported = pd.read_csv(io.BytesIO(response.content), dtype={"trade_id": str})
    assert int(response.headers["x-row-count"]) == len(exported)
    expected = query(
        built_platform,
        "select trade_id, price_ghs_per_t, quantity_t from marts.fct_trades"
        " where executed_at >= %s and executed_at < %s order by executed_at, trade_id",
        (start, end),
    )
    assert list(exported.trade_id) == [row[0] for row in expected]
    assert [Decimal(str(p)) for p in exported.price_ghs_per_t] == [row[1] for row in expected]
    paged = walk(client, "/v1/trades", pro, {"start": iso(start), "end": iso(end), "limit": 2000})
    assert [row["trade_id"] for row in paged] == list(exported.trade_id)


def test_parquet_export_is_the_query_result_typed_and_the_history_pages(client, pro, built_platform, window):
    start, end = window
    params = {"start": iso(start), "end": iso(end), "format": "parquet"}
    response = client.get("/v1/datasets/ohlcv_1m/export", headers=pro, params=params)
    assert response.status_code == 200, response.text
    table = pq.read_table(io.BytesIO(response.content))
    assert int(response.headers["x-row-count"]) == table.num_rows
    assert str(table.schema.field("bar_start_at").type) == "timestamp[us, tz=UTC]"
    assert str(table.schema.field("open_ghs_per_t").type) == "decimal128(14, 4)"
    expected = query(
        built_platform,
        "select symbol, bar_start_at, open_ghs_per_t, close_ghs_per_t, volume_t, trade_count from marts.fct_ohlcv_1m"
        " where bar_start_at >= %s and bar_start_at < %s order by bar_start_at, instrument_id",
        (start, end),
    )
    got = table.select(
        ["symbol", "bar_start_at", "open_ghs_per_t", "close_ghs_per_t", "volume_t", "trade_count"]
    )
    assert [tuple(row.values()) for row in got.to_pylist()] == expected
    paged = walk(
        client, "/v1/ohlcv", pro, {"interval": "1m", "start": iso(start), "end": iso(end), "limit": 5000}
    )
    assert sorted((row["symbol"], datetime.fromisoformat(row["bar_start_at"])) for row in paged) == sorted(
        (row[0], row[1]) for row in expected
    )


def test_head_gives_the_size_and_rows_of_the_get(client, pro, built_platform, window):
    start, _ = window
    end = start + timedelta(days=1)
    (symbol,) = query(
        built_platform,
        "select symbol from marts.fct_trades where executed_at >= %s and executed_at < %s"
        " group by symbol order by count(*) desc limit 1",
        (start, end),
    )[0]
    params = {"start": iso(start), "end": iso(end), "symbol": symbol, "format": "csv"}
    head = client.head("/v1/datasets/trades/export", headers=pro, params=params)
    assert head.status_code == 200 and head.content == b""
    get = client.get("/v1/datasets/trades/export", headers=pro, params=params)
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert head.headers["x-row-count"] == get.headers["x-row-count"]
    rows = pd.read_csv(io.BytesIO(get.content))
    assert len(rows) == int(get.headers["x-row-count"]) > 0 and set(rows.symbol) == {symbol}


def test_an_export_is_in_the_audit_log(client, api_app, make_key, built_platform, window):
    key = make_key("pro", "analyst")
    start, end = window
    response = client.get(
        "/v1/datasets/ohlcv_1h/export",
        headers={"Authorization": f"Bearer {key}"},
        params={"start": iso(start), "end": iso(end)},
    )
    assert response.status_code == 200
    api_app.state.meter.flush()
    rows = query(
        built_platform,
        "select action, dataset, rows, parameters->>'start' from api.audit_log where key_id = %s and action = 'export'",
        (key.split("_")[1],),
    )
    assert rows == [("export", "ohlcv_1h", int(response.headers["x-row-count"]), start.isoformat())]


@pytest.mark.parametrize(
    ("tier", "role", "path", "params", "status", "reason"),
    [
        ("free", "quant", "trades", {}, 403, "tier_not_allowed"),
        ("member", "quant", "trades", {}, 403, "tier_not_allowed"),
        ("pro", "quant", "large_trades", {}, 403, "role_not_allowed"),
        ("pro", "quant", "no_such_dataset", {}, 404, "unknown_dataset"),
        ("pro", "quant", "trades", {"format": "xlsx"}, 422, "invalid_request"),
        ("pro", "quant", "trades", {"start": "yesterday"}, 422, "invalid_request"),
        ("pro", "quant", "trades", {"start": "2026-01-02", "end": "2026-01-01"}, 422, "invalid_request"),
        ("pro", "quant", "instruments", {"start": "2026-01-01"}, 422, "invalid_request"),
        ("pro", "quant", "trades", {"symbol": "NOSUCH1"}, 404, "unknown_symbol"),
    ],
)
def test_export_refusals_carry_a_reason(client, auth, tier, role, path, params, status, reason):
    response = client.get(f"/v1/datasets/{path}/export", headers=auth(tier, role), params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["reason"] == reason


def test_export_needs_a_key(client):
    assert client.get("/v1/datasets/trades/export").status_code == 401


def test_compliance_exports_a_compliance_dataset(client, auth, built_platform):
    response = client.get("/v1/datasets/large_trades/export", headers=auth("pro", "compliance"))
    assert response.status_code == 200, response.text
    (count,) = query(built_platform, "select count(*) from compliance.fct_large_trades")[0]
    assert int(response.headers["x-row-count"]) == count == len(pd.read_csv(io.BytesIO(response.content)))


def test_an_export_that_cannot_be_written_is_503_not_500(client, pro, built_platform):
    blocker = built_platform.home.resolve() / "exports" / "settlements"  # a file where its folder goes
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a folder")
    try:
        response = client.get("/v1/datasets/settlements/export", headers=pro)
    finally:
        blocker.unlink()
    assert response.status_code == 503 and response.json()["error"]["reason"] == "export_unavailable"
    assert response.headers["retry-after"] == "60"


@pytest.mark.attack("one key asks for exports without end")
def test_exports_past_the_days_quota_are_refused_until_the_next_utc_day(client, make_key, monkeypatch):
    monkeypatch.setitem(TIERS, "pro", replace(TIERS["pro"], exports_per_day=2))
    headers = bearer(make_key("pro", "quant"))
    assert client.head("/v1/datasets/instruments/export", headers=headers).status_code == 200
    assert client.get("/v1/datasets/instruments/export", headers=headers).status_code == 200
    refused = client.get("/v1/datasets/instruments/export", headers=headers)
    assert refused.status_code == 429 and refused.json()["error"]["reason"] == "export_quota_exceeded"
    now = clock.now()
    to_midnight = (
        datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC) - now
    ).total_seconds()
    assert abs(int(refused.headers["retry-after"]) - to_midnight) < 60
    assert (
        client.get("/v1/datasets/instruments/export", headers=bearer(make_key("pro", "quant"))).status_code
        == 200
    )


@pytest.mark.attack("one key runs exports in parallel without end")
def test_a_key_writes_at_most_its_tiers_exports_at_once_across_processes(client, make_key, built_platform):
    key = make_key("pro", "quant")
    slots = TIERS["pro"].concurrent_exports
    # another API process holding every slot of the key: its exports being written
    with database.connect("warehouse", autocommit=True, settings=built_platform) as other_process:
        for slot in range(slots):
            other_process.execute(
                "select pg_advisory_lock(hashtext(%s), %s)", ("gcx export " + key.split("_")[1], slot)
            )
        busy = client.get("/v1/datasets/instruments/export", headers=bearer(key))
        assert busy.status_code == 429 and busy.json()["error"]["reason"] == "too_many_exports"
        assert busy.headers["retry-after"]
        other_process.execute("select pg_advisory_unlock_all()")
        assert client.get("/v1/datasets/instruments/export", headers=bearer(key)).status_code == 200
