"""Reference routes: instruments as of a date and the trading calendar, against the built marts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from gcx import clock, database


def query(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


def test_instruments_as_of_today_are_the_listed_ones_with_their_reference_fields(
    client, auth, built_platform
):
    response = client.get("/v1/instruments", headers=auth("free"))
    assert response.status_code == 200, response.text
    body = response.json()
    today = clock.today()
    expected = query(
        built_platform,
        """select symbol from marts.dim_instruments
           where coalesce(listed_on <= %(d)s, true) and coalesce(delisted_on > %(d)s, true) order by symbol""",
        {"d": today},
    )
    assert body["as_of"] == today.isoformat()
    assert [row["symbol"] for row in body["data"]] == [row[0] for row in expected]
    assert body["count"] == len(expected) > 0
    gcx = next(row for row in body["data"] if row["venue"] == "GCX")
    assert set(gcx) == {
        "symbol", "venue", "commodity_code", "commodity_name", "colour", "grade", "warehouse_code",
        "warehouse_name", "warehouse_region", "tick_size_ghs", "lot_size_t", "listed_on", "delisted_on",
    }  # fmt: skip
    (tick, lot, region) = query(
        built_platform,
        "select tick_size_ghs::float8, lot_size_t::float8, warehouse_region from marts.dim_instruments where symbol = %s",
        (gcx["symbol"],),
    )[0]
    assert (gcx["tick_size_ghs"], gcx["lot_size_t"], gcx["warehouse_region"]) == (tick, lot, region)
    assert gcx["symbol"].startswith("G" + gcx["warehouse_code"])


def test_instruments_as_of_a_date_leave_out_those_not_yet_listed_or_already_delisted(
    client, auth, built_platform
):
    symbol, listed_on = query(
        built_platform,
        "select symbol, listed_on from marts.dim_instruments where listed_on is not null order by listed_on desc limit 1",
    )[0]
    headers = auth()

    def listed(as_of: date) -> set[str]:
        response = client.get("/v1/instruments", headers=headers, params={"as_of": as_of.isoformat()})
        assert response.status_code == 200, response.text
        return {row["symbol"] for row in response.json()["data"]}

    assert symbol in listed(listed_on)
    assert symbol not in listed(listed_on - timedelta(days=1))
    delisted = query(
        built_platform, "select symbol, delisted_on from marts.dim_instruments where delisted_on is not null"
    )
    for symbol, delisted_on in delisted[:1]:
        assert symbol not in listed(delisted_on)


def test_instruments_filter_by_symbol_and_by_commodity_code_or_name(client, auth, built_platform):
    headers = auth()
    symbols = [
        row[0]
        for row in query(
            built_platform,
            "select symbol from marts.dim_instruments where venue = 'GCX' order by symbol limit 2",
        )
    ]
    by_symbol = client.get("/v1/instruments", headers=headers, params={"symbol": ",".join(symbols)}).json()
    assert [row["symbol"] for row in by_symbol["data"]] == symbols
    code, name = query(
        built_platform,
        "select commodity_code, commodity_name from marts.dim_instruments where commodity_code = 'SB' limit 1",
    )[0]
    by_code = client.get("/v1/instruments", headers=headers, params={"commodity": code.lower()}).json()[
        "data"
    ]
    by_name = client.get("/v1/instruments", headers=headers, params={"commodity": name.upper()}).json()[
        "data"
    ]
    assert by_code and by_code == by_name
    assert {row["commodity_code"] for row in by_code} == {code}
    maize = client.get("/v1/instruments", headers=headers, params={"commodity": "maize"}).json()["data"]
    assert {row["commodity_code"] for row in maize} == {"WM", "YM"}  # white and yellow maize share the name
    both = client.get("/v1/instruments", headers=headers, params={"commodity": "WM,YM"}).json()["data"]
    assert both == maize


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"symbol": "GEJWM1,NOPE9"}, 404, "unknown_symbol"),
        ({"commodity": "cocoa"}, 404, "unknown_commodity"),
        ({"symbol": "GEJ\x00"}, 422, "invalid_request"),
        ({"as_of": "2026-13-01"}, 422, "invalid_request"),
    ],
)
def test_instrument_refusals(client, auth, params, status, reason):
    response = client.get("/v1/instruments", headers=auth(), params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["reason"] == reason


def test_calendar_lists_every_published_day_with_utc_sessions(client, auth, built_platform):
    first, last = query(
        built_platform, "select min(calendar_date), max(calendar_date) from marts.dim_calendar_days"
    )[0]
    start, end = first - timedelta(days=3), last + timedelta(days=5)  # reaches past both ends of it
    response = client.get(
        "/v1/calendar", headers=auth("free"), params={"start": start.isoformat(), "end": end.isoformat()}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = query(
        built_platform,
        """select calendar_date, is_trading_day, session_open_at, session_close_at, holiday_name
           from staging.stg_exchange__calendar_days where calendar_date >= %s and calendar_date < %s
           order by calendar_date""",
        (start, end),
    )
    got = [
        (
            date.fromisoformat(day["date"]),
            day["is_trading_day"],
            day["session_open_at"] and datetime.fromisoformat(day["session_open_at"]),
            day["session_close_at"] and datetime.fromisoformat(day["session_close_at"]),
            day["holiday_name"],
        )
        for day in body["data"]
    ]
    assert got == expected and body["count"] == len(expected)
    assert (body["published_from"], body["published_to"]) == (first.isoformat(), last.isoformat())
    assert [day["date"] for day in body["data"]] == [
        (first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)
    ]
    trading = [day for day in body["data"] if day["is_trading_day"]]
    assert trading and all(day["session_open_at"].endswith("Z") for day in trading)
    # the built platform's calendar covers a few days of one week: weekdays trade, weekends do not
    # (holidays come through the same columns: holiday_name, not trading, no session)
    for day in body["data"]:
        weekday = date.fromisoformat(day["date"]).weekday() < 5
        assert day["is_trading_day"] == (weekday and day["holiday_name"] is None)
        assert (day["session_open_at"] is None) == (not day["is_trading_day"])


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-11-10", "end": "2026-11-10"},
        {"start": "2026-11-10", "end": "2026-11-01"},
        {"start": "2000-01-01", "end": "2026-01-01"},
        {"start": "10 Nov"},
    ],
)
def test_calendar_refuses_bad_ranges(client, auth, params):
    response = client.get("/v1/calendar", headers=auth(), params=params)
    assert response.status_code == 422 and response.json()["error"]["reason"] == "invalid_request"


def test_calendar_defaults_to_the_month_ahead(client, auth):
    body = client.get("/v1/calendar", headers=auth()).json()
    today = clock.today()
    assert body["start"] == today.isoformat() and body["end"] == (today + timedelta(days=31)).isoformat()


@pytest.mark.parametrize("path", ["/v1/instruments", "/v1/calendar"])
def test_reference_needs_a_key(client, path):
    assert client.get(path).status_code == 401
