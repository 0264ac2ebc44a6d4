"""History routes (trades, OHLCV, daily summary) against the built platform's marts: pages, formats,
the tiers' windows and delay, and every refusal."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest

from api import deps
from api.models import TRADE_COLUMNS
from api.params import encode_cursor
from api.routes import history
from gcx import clock, database
from gcx.access.entitlements import TIERS

TRADE_SQL = """
    select trade_id, symbol, executed_at, price_ghs_per_t::float8, quantity_t::float8, value_ghs::float8,
           aggressor_side, buyer_member_id, seller_member_id
    from marts.fct_trades where executed_at >= %s and executed_at < %s {symbols}
    order by executed_at, trade_id
"""
TIME_COLUMNS = {"executed_at", "bar_start_at", "trade_date", "start", "end"}


def query(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ns(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000


def walk(client, path: str, headers: dict, params: dict) -> tuple[list[dict], int]:
    """Every row of a window, page after page by cursor; and how many pages it took."""
    rows, pages, cursor = [], 0, None
    while True:
        response = client.get(path, headers=headers, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["count"] == len(body["data"]) <= params.get("limit", history.DEFAULT_LIMIT)
        rows += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        assert response.headers.get("x-next-cursor") == cursor
        if cursor is None:
            return rows, pages


def as_trade_tuple(row: dict) -> tuple:
    executed_at = datetime.fromisoformat(row["executed_at"])
    assert row["ts_ns"] == ns(executed_at)
    return (
        row["trade_id"],
        row["symbol"],
        executed_at,
        row["price_ghs_per_t"],
        row["quantity_t"],
        row["value_ghs"],
        row["aggressor_side"],
        row["buyer_member_id"],
        row["seller_member_id"],
    )


@pytest.fixture(scope="module")
def days(built_platform) -> list[date]:
    """The GCX trading days of the built platform (its four sessions)."""
    found = [
        row[0]
        for row in query(
            built_platform, "select distinct trade_date from marts.fct_trades where venue = 'GCX' order by 1"
        )
    ]
    assert len(found) >= 2, found
    return found


@pytest.fixture
def stand_at(api_app):
    """Answer history requests as if it were the given instant (the data ends yesterday, so the
    free tier's 15-minute edge can only fall inside it at an earlier 'now'). The fixture's data is
    not touched."""

    def stand(instant: datetime) -> None:
        api_app.dependency_overrides[deps.request_time] = lambda: instant

    yield stand
    api_app.dependency_overrides.pop(deps.request_time, None)


def test_trade_pages_walk_the_window_with_no_gap_or_repeat_and_equal_the_mart(client, auth, built_platform):
    start = datetime(2024, 7, 1, tzinfo=UTC)  # the CME trades too when imported: every venue, in one order
    end = clock.now()
    expected = query(built_platform, TRADE_SQL.format(symbols=""), (start, end))
    limit = len(expected) // 6 + 1
    rows, pages = walk(
        client, "/v1/trades", auth("pro"), {"start": iso(start), "end": iso(end), "limit": limit}
    )
    assert pages == 6 or pages == 7  # the last page may come back empty-handed only if it divides evenly
    assert [as_trade_tuple(row) for row in rows] == expected


def test_imported_trades_are_served_beside_the_exchange_own(client, auth, reference_data):
    """The real CME trades `built_platform` imports (only when the reference data is there)."""
    body = client.get(
        "/v1/trades",
        headers=auth("pro"),
        params={"symbol": "ESU4", "start": "2024-07-01", "end": "2024-07-02"},
    ).json()
    assert body["count"] > 0 and {row["symbol"] for row in body["data"]} == {"ESU4"}


def test_several_symbols_in_one_request(client, auth, built_platform, days):
    start, end = datetime.combine(days[0], time(), UTC), datetime.combine(days[-1], time(23), UTC)
    symbols = [
        row[0]
        for row in query(
            built_platform,
            """select symbol from marts.fct_trades where executed_at >= %s and executed_at < %s
               group by 1 order by count(*) desc, symbol limit 2""",
            (start, end),
        )
    ]
    expected = query(built_platform, TRADE_SQL.format(symbols="and symbol = any(%s)"), (start, end, symbols))
    rows, _ = walk(
        client,
        "/v1/trades",
        auth("member"),
        {"symbol": ",".join(symbols), "start": iso(start), "end": iso(end)},
    )
    assert [as_trade_tuple(row) for row in rows] == expected
    assert {row["symbol"] for row in rows} == set(symbols)


def test_iso_and_integer_nanosecond_parameters_give_the_same_page(client, auth, days):
    start, end = datetime.combine(days[-1], time(10, 30), UTC), datetime.combine(days[-1], time(11), UTC)
    headers = auth("pro")
    by_iso = client.get("/v1/trades", headers=headers, params={"start": iso(start), "end": iso(end)})
    by_ns = client.get("/v1/trades", headers=headers, params={"start": ns(start), "end": ns(end)})
    assert by_iso.status_code == by_ns.status_code == 200
    assert by_iso.json()["count"] > 0
    assert by_iso.json() == by_ns.json()


@pytest.mark.parametrize("interval", ["1m", "5m", "1h", "1d"])
def test_ohlcv_bars_equal_the_mart(client, auth, built_platform, days, interval):
    start, end = (
        datetime.combine(days[0], time(), UTC),
        datetime.combine(days[-1] + timedelta(days=1), time(), UTC),
    )
    rows, _ = walk(
        client,
        "/v1/ohlcv",
        auth("pro"),
        {"interval": interval, "start": iso(start), "end": iso(end), "limit": 10_000},
    )
    expected = query(
        built_platform,
        f"""select symbol, bar_start_at, open_ghs_per_t::float8, high_ghs_per_t::float8, low_ghs_per_t::float8,
                  close_ghs_per_t::float8, vwap_ghs_per_t::float8, volume_t::float8, value_ghs::float8, trade_count
           from marts.fct_ohlcv_{interval} where bar_start_at >= %s and bar_start_at < %s
           order by bar_start_at, symbol""",
        (start, end),
    )
    assert expected
    got = []
    for row in rows:
        bar_start_at = datetime.fromisoformat(row.pop("bar_start_at"))
        assert row.pop("ts_ns") == ns(bar_start_at)
        got.append((row.pop("symbol"), bar_start_at, *row.values()))
    assert got == expected


def test_daily_summary_has_the_settlement_price_and_its_method(client, auth, built_platform, days):
    rows, _ = walk(
        client,
        "/v1/summary/daily",
        auth("pro"),
        {"start": days[0].isoformat(), "end": (days[-1] + timedelta(days=1)).isoformat(), "limit": 7},
    )
    expected = query(
        built_platform,
        """select trade_date, symbol, settlement_price_ghs_per_t::float8, settlement_price_method, trade_count
           from marts.fct_daily_market_summary where trade_date between %s and %s order by trade_date, symbol""",
        (days[0], days[-1]),
    )
    got = [
        (
            date.fromisoformat(row["trade_date"]),
            row["symbol"],
            row["settlement_price_ghs_per_t"],
            row["settlement_price_method"],
            row["trade_count"],
        )
        for row in rows
    ]
    assert got == expected
    assert {row["settlement_price_method"] for row in rows} <= {"closing_vwap", "close"}


def frame_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows comparable across formats: instants and dates as UTC timestamps, nulls as None."""
    frame = frame.copy()
    for column in TIME_COLUMNS & set(frame.columns):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return [
        tuple(None if pd.isna(value) else value for value in row) for row in frame.itertuples(index=False)
    ]


@pytest.mark.parametrize(
    ("path", "params", "columns"),
    [
        ("/v1/trades", {}, history.TRADE_SCHEMA),
        ("/v1/ohlcv", {"interval": "5m"}, history.BAR_SCHEMA),
        ("/v1/summary/daily", {}, history.SUMMARY_SCHEMA),
    ],
)
def test_csv_and_parquet_carry_the_json_rows_columns_and_cursor(client, auth, days, path, params, columns):
    headers = auth("member")
    params = params | {"start": days[0].isoformat(), "end": days[-1].isoformat(), "limit": 20}
    as_json = client.get(path, headers=headers, params=params)
    as_csv = client.get(path, headers=headers, params=params | {"format": "csv"})
    as_parquet = client.get(path, headers=headers, params=params | {"format": "parquet"})
    assert as_json.status_code == as_csv.status_code == as_parquet.status_code == 200, as_json.text
    names = [column.name for column in columns]
    body = as_json.json()
    assert body["count"] == 20 and list(body["data"][0]) == names

    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_parquet.headers["content-type"] == "application/vnd.apache.parquet"
    csv_frame = pd.read_csv(io.StringIO(as_csv.text), keep_default_na=True)
    parquet_frame = pd.read_parquet(io.BytesIO(as_parquet.content))
    assert list(csv_frame.columns) == list(parquet_frame.columns) == names
    json_rows = frame_rows(pd.DataFrame(body["data"], columns=names))
    assert frame_rows(csv_frame) == json_rows
    assert frame_rows(parquet_frame) == json_rows

    schema = {column.name: str(column.type) for column in columns}
    assert all(
        schema[name] == "timestamp[us, tz=UTC]" for name in names if name in {"executed_at", "bar_start_at"}
    )
    import pyarrow.parquet as pq

    assert {field.name: str(field.type) for field in pq.read_schema(io.BytesIO(as_parquet.content))} == schema
    for response in (as_csv, as_parquet):
        assert response.headers["x-next-cursor"] == body["next_cursor"]
        assert response.headers["link"].endswith('; rel="next"') and "cursor=" in response.headers["link"]


def test_trades_have_the_shared_trade_columns_in_every_format():
    assert tuple(column.name for column in history.TRADE_SCHEMA) == TRADE_COLUMNS


def test_the_link_header_leads_to_the_next_page(client, auth, days):
    headers = auth("pro")
    params = {"start": days[0].isoformat(), "limit": 3}
    first = client.get("/v1/trades", headers=headers, params=params)
    url = first.headers["link"].split(">")[0].lstrip("<")
    second = client.get(url, headers=headers)
    by_cursor = client.get(
        "/v1/trades", headers=headers, params=params | {"cursor": first.json()["next_cursor"]}
    )
    assert second.json()["data"] == by_cursor.json()["data"]
    assert second.json()["data"][0]["trade_id"] != first.json()["data"][-1]["trade_id"]


def test_an_empty_window_is_an_empty_page(client, auth):
    response = client.get(
        "/v1/trades",
        headers=auth("pro"),
        params={"start": "2020-01-01", "end": "2020-01-02", "format": "parquet"},
    )
    assert response.status_code == 200 and "x-next-cursor" not in response.headers
    assert len(pd.read_parquet(io.BytesIO(response.content))) == 0


def test_a_free_key_never_receives_a_trade_executed_in_the_last_15_minutes(
    client, auth, built_platform, days, stand_at
):
    # stand 5 minutes after the last day's middle trade: it and its neighbours are then recent
    (middle,) = query(
        built_platform,
        """select executed_at from marts.fct_trades where trade_date = %(day)s order by executed_at
           offset (select count(*) / 2 from marts.fct_trades where trade_date = %(day)s) limit 1""",
        {"day": days[-1]},
    )[0]
    now = middle + timedelta(minutes=5)
    visible_until = now - TIERS["free"].delay
    hidden = query(
        built_platform,
        "select count(*) from marts.fct_trades where executed_at >= %s and executed_at < %s",
        (visible_until, now),
    )[0][0]
    assert hidden > 0
    stand_at(now)
    start = datetime.combine(days[-1], time(), UTC)
    rows, _ = walk(client, "/v1/trades", auth("free"), {"start": iso(start)})
    assert rows and max(datetime.fromisoformat(row["executed_at"]) for row in rows) < visible_until
    assert [as_trade_tuple(row) for row in rows] == query(
        built_platform, TRADE_SQL.format(symbols=""), (start, visible_until)
    )
    # a member key at the same moment is real time
    member_rows, _ = walk(client, "/v1/trades", auth("member"), {"start": iso(start), "limit": 10_000})
    assert len(member_rows) == len(rows) + hidden
    # asking the free tier for the last 15 minutes is refused, not truncated
    refused = client.get(
        "/v1/trades",
        headers=auth("free"),
        params={"start": iso(start), "end": iso(now - timedelta(minutes=5))},
    )
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "outside_tier_window"


def test_a_free_key_sees_a_bar_only_once_its_interval_ended_15_minutes_ago(
    client, auth, built_platform, days, stand_at
):
    # stand 40 minutes into the last day's last hourly bar: it started before the free tier's
    # edge (now - 15 min) but has not ended by then
    (last_bar,) = query(
        built_platform, "select max(bar_start_at) from marts.fct_ohlcv_1h where bar_date = %s", (days[-1],)
    )[0]
    now = last_bar + timedelta(minutes=40)
    stand_at(now)
    start = datetime.combine(days[-1], time(), UTC)
    params = {"interval": "1h", "start": iso(start)}
    free = client.get("/v1/ohlcv", headers=auth("free"), params=params).json()["data"]
    member = client.get("/v1/ohlcv", headers=auth("member"), params=params).json()["data"]
    bars = query(
        built_platform,
        "select bar_start_at, bar_end_at from marts.fct_ohlcv_1h where bar_date = %s order by 1",
        (days[-1],),
    )
    visible_until = now - TIERS["free"].delay
    assert [row["bar_start_at"] for row in free] == [iso(s) for s, e in bars if e <= visible_until]
    assert [row["bar_start_at"] for row in member] == [iso(s) for s, e in bars]
    assert iso(last_bar) in {row["bar_start_at"] for row in member} - {row["bar_start_at"] for row in free}
    # the day's daily bar is not over either
    daily = client.get(
        "/v1/ohlcv", headers=auth("free"), params={"interval": "1d", "start": days[-2].isoformat()}
    ).json()["data"]
    assert {row["bar_start_at"][:10] for row in daily} == {days[-2].isoformat()}


def test_a_free_key_sees_a_day_once_it_is_over_and_15_minutes_passed(client, auth, days, stand_at):
    params = {"start": days[-2].isoformat()}
    stand_at(datetime.combine(days[-1] + timedelta(days=1), time(0, 10), UTC))  # 10 min after the last day
    free_page = client.get("/v1/summary/daily", headers=auth("free"), params=params).json()
    pro = client.get("/v1/summary/daily", headers=auth("pro"), params=params).json()["data"]
    assert {row["trade_date"] for row in free_page["data"]} == {days[-2].isoformat()}
    assert free_page["end"] == iso(datetime.combine(days[-1], time(), UTC))  # the window as applied
    assert {row["trade_date"] for row in pro} == {days[-2].isoformat(), days[-1].isoformat()}
    too_late = client.get(
        "/v1/summary/daily",
        headers=auth("free"),
        params=params | {"end": (days[-1] + timedelta(days=1)).isoformat()},
    )
    assert too_late.status_code == 403 and too_late.json()["error"]["reason"] == "outside_tier_window"
    stand_at(datetime.combine(days[-1] + timedelta(days=1), time(0, 15), UTC))
    free = client.get("/v1/summary/daily", headers=auth("free"), params=params).json()["data"]
    assert {row["trade_date"] for row in free} == {days[-2].isoformat(), days[-1].isoformat()}


def test_free_history_reaches_back_30_days(client, auth, built_platform):
    old = client.get("/v1/trades", headers=auth("free"), params={"start": "2024-07-01", "end": "2024-07-02"})
    assert old.status_code == 403 and old.json()["error"]["reason"] == "outside_tier_window"
    assert "history_starts" in old.json()["error"]["detail"]
    pro = client.get("/v1/trades", headers=auth("pro"), params={"start": "2024-07-01", "end": "2024-07-02"})
    (stored,) = query(
        built_platform, "select count(*) from marts.fct_trades where trade_date = '2024-07-01'"
    )[0]  # the CME day, when the reference data was imported
    assert pro.status_code == 200 and pro.json()["count"] == stored


def test_a_limit_past_the_tier_is_refused_not_lowered(client, auth):
    params = {"start": (clock.now() - timedelta(days=5)).date().isoformat()}
    free = client.get(
        "/v1/trades", headers=auth("free"), params=params | {"limit": TIERS["free"].max_page_size + 1}
    )
    assert free.status_code == 422 and free.json()["error"]["reason"] == "limit_too_large"
    assert free.json()["error"]["detail"]["max_page_size"] == TIERS["free"].max_page_size
    member = client.get(
        "/v1/trades", headers=auth("member"), params=params | {"limit": TIERS["free"].max_page_size + 1}
    )
    assert member.status_code == 200
    beyond_every_tier = client.get(
        "/v1/ohlcv", headers=auth("pro"), params=params | {"interval": "1m", "limit": 10**6}
    )
    assert beyond_every_tier.status_code == 422


def test_an_unknown_symbol_is_404_naming_it(client, auth):
    response = client.get(
        "/v1/ohlcv",
        headers=auth(),
        params={"symbol": "GEJWM1,NOPE9", "interval": "1h", "start": "2026-01-01"},
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["reason"] == "unknown_symbol" and error["detail"] == {"unknown_symbols": ["NOPE9"]}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/trades", {}),  # no start
        ("/v1/trades", {"start": "yesterday"}),
        ("/v1/trades", {"start": "2026-11-02T10:00:00Z", "end": "2026-11-02T10:00:00Z"}),  # start >= end
        ("/v1/trades", {"start": "2026-11-03", "end": "2026-11-02"}),
        ("/v1/trades", {"start": "2026-11-02", "cursor": "not-a-cursor"}),
        (
            "/v1/trades",
            {"start": "2026-11-02", "cursor": encode_cursor({"ts_ns": 1, "symbol": "X"})},
        ),  # an ohlcv cursor
        ("/v1/trades", {"start": "2026-11-02", "cursor": encode_cursor({"ts_ns": "x", "trade_id": "T"})}),
        ("/v1/trades", {"start": "2026-11-02", "cursor": encode_cursor({"ts_ns": 10**30, "trade_id": "T"})}),
        ("/v1/trades", {"start": "2026-11-02", "limit": 0}),
        ("/v1/trades", {"start": "2026-11-02", "format": "xml"}),
        ("/v1/trades", {"start": "2026-11-02", "symbol": "GEJWM1\x00"}),
        ("/v1/trades", {"start": "2026-11-02", "symbol": " , "}),
        ("/v1/ohlcv", {"start": "2026-11-02", "interval": "2m"}),
        ("/v1/ohlcv", {"start": "2026-11-02"}),  # no interval
        ("/v1/summary/daily", {"start": "2026-11-02T10:00"}),  # a day, not an instant
        (
            "/v1/summary/daily",
            {"start": "2026-11-02", "cursor": encode_cursor({"trade_date": "x", "symbol": "G"})},
        ),
    ],
)
def test_malformed_requests_are_422_with_a_message(client, auth, path, params):
    response = client.get(path, headers=auth("pro"), params=params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["status"] == 422 and error["message"]


@pytest.mark.parametrize("path", ["/v1/trades", "/v1/ohlcv", "/v1/summary/daily"])
def test_history_needs_a_key(client, path):
    response = client.get(path, params={"start": "2026-11-02", "interval": "1m"})
    assert response.status_code == 401 and response.json()["error"]["reason"] == "missing_key"


def test_history_reads_are_in_the_audit_log(client, api_app, make_key, built_platform, days):
    key = make_key("member")
    client.get(
        "/v1/ohlcv",
        headers={"Authorization": f"Bearer {key}"},
        params={"interval": "1d", "start": days[0].isoformat()},
    )
    api_app.state.meter.flush()
    (row,) = query(
        built_platform,
        "select dataset, rows, parameters->>'format' from api.audit_log where key_id = %s and action = 'read'",
        (key.split("_")[1],),
    )
    assert row[0] == "marts.fct_ohlcv_1d" and row[1] > 0 and row[2] == "json"
