"""SQL-injection and path-traversal probes (issue 7, item 3): every query, path and header parameter of
every route, and the member ids of the scoring body, get a set of classic payloads, one parameter at a
time, on a request that otherwise succeeds (checked first, so a refusal is about the payload).

What each parameter may answer is decided below, per parameter:
- `REFUSED`: a typed or patterned parameter (a date, an enum, a cursor, symbols, a dataset id...):
  every payload is a 4xx;
- `INSTANT`: ISO-8601 or integer nanoseconds: a 4xx, except for the payloads that are integers in
  range (`-1` is 1969-12-31T23:59:59.999999999Z), which a pro key may ask for (2xx);
- `FREE_TEXT`: a parameter that takes any short text and filters by it (an alert's symbol or
  member, the login form's return path): a 4xx, or a 2xx whose result is that of a value that
  matches nothing (no alert; the login form returning to the dashboards' index).
Never a 5xx; no answer carries PostgreSQL's or Python's error text; an HTML answer never reflects a
payload unescaped. Afterwards the database is intact: the tables exist, api.keys has the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import ledger
from api_security import Keys, app_routes, filled_body, owner_rows
from fastapi.testclient import TestClient

from tests.api.conftest import LiveServer

PAYLOADS = (
    "' OR 1=1--",
    "' OR '1'='1",
    "'; drop table api.keys;--",
    "1) union select key_id, secret_sha256, null from api.keys--",
    '" OR ""="',
    "1; select pg_sleep(5)--",
    "%00",
    "\x00",
    "abc\x00' OR 1=1--",
    "../../etc/passwd",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%27%20OR%201%3D1--",
    "<script>alert(1)</script>",
    "A" * 10_000,
    "\u03a9\u2248\u00e7 \U0001d518\U0001d52b \u202e\ufeff",  # Greek, maths, astral, bidi, BOM
    "-1",
    "9" * 40,
    "1e309",
    "$(reboot)",
)
"""Quoting breakouts, stacked queries, UNION, NUL bytes (raw and encoded), traversal (raw, encoded,
double-encoded), script, 10,000 characters, astral and bidi unicode, numbers out of range."""

LEAKS = re.compile(
    r"syntax error|LINE \d+:|SQLSTATE|Traceback|psycopg|pg_catalog|relation \"|invalid input syntax"
    r"|unterminated quoted|current transaction is aborted",
    re.IGNORECASE,
)
"""What PostgreSQL's, psycopg's and Python's errors look like (none is in a payload)."""

IN_RANGE_INTEGER = re.compile(r"-?\d{1,18}")
"""An integer nanosecond count a datetime can hold (PAYLOADS' 40 nines are out of range: 422)."""
REFUSED = "refused"
INSTANT = "instant"
FREE_TEXT = "free text"
BODY_MEMBER = "body.members.member_id"
DAY = {"start": "{day}", "end": "{next_day}"}


@dataclass(frozen=True)
class Operation:
    """A request to the route that succeeds (`path` and `query` filled from the platform's facts), and
    what each parameter may answer (with, for free text, the check that the answer found nothing)."""

    path: str
    parameters: dict[str, str]
    query: dict[str, str] | None = None
    body: dict[str, Any] | None = None
    found_nothing: Callable[[httpx.Response], bool] | None = None


def no_alerts(response: httpx.Response) -> bool:
    return response.json()["data"] == []


def back_to_the_index(response: httpx.Response) -> bool:
    return 'value="/dashboards/"' in response.text


HISTORY = {"start": INSTANT, "end": INSTANT, "symbol": REFUSED, "limit": REFUSED, "cursor": REFUSED}
HISTORY_QUERY = {"start": "{day}", "end": "{day_end}", "limit": "5"}
DASHBOARD = {"start": REFUSED, "end": REFUSED}

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation("/health", {}),
    ("GET", "/v1/me"): Operation("/v1/me", {}),
    ("GET", "/v1/instruments"): Operation(
        "/v1/instruments", {"as_of": REFUSED, "symbol": REFUSED, "commodity": REFUSED}
    ),
    ("GET", "/v1/calendar"): Operation("/v1/calendar", {"start": REFUSED, "end": REFUSED}, DAY),
    ("GET", "/v1/trades"): Operation("/v1/trades", {**HISTORY, "format": REFUSED}, HISTORY_QUERY),
    ("GET", "/v1/ohlcv"): Operation(
        "/v1/ohlcv", {**HISTORY, "interval": REFUSED, "format": REFUSED}, {**HISTORY_QUERY, "interval": "1h"}
    ),
    ("GET", "/v1/summary/daily"): Operation(
        "/v1/summary/daily", {**HISTORY, "start": REFUSED, "end": REFUSED, "format": REFUSED}, DAY
    ),
    ("GET", "/v1/trades/tail"): Operation(
        "/v1/trades/tail", {"symbol": REFUSED, "after": REFUSED, "limit": REFUSED}
    ),
    ("GET", "/v1/stream/trades"): Operation(
        "/v1/stream/trades", {"symbol": REFUSED, "after": REFUSED, "Last-Event-ID": REFUSED}
    ),
    ("GET", "/v1/datasets"): Operation("/v1/datasets", {}),
    ("GET", "/v1/datasets/{dataset_id}"): Operation("/v1/datasets/{dataset_id}", {"dataset_id": REFUSED}),
    ("GET", "/v1/datasets/{dataset_id}/export"): Operation(
        "/v1/datasets/{dataset_id}/export",
        {"dataset_id": REFUSED, "start": INSTANT, "end": INSTANT, "symbol": REFUSED, "format": REFUSED},
        {"start": "{day}", "end": "{day_end}"},
    ),
    ("HEAD", "/v1/datasets/{dataset_id}/export"): Operation(
        "/v1/datasets/{dataset_id}/export",
        {"dataset_id": REFUSED, "start": INSTANT, "end": INSTANT, "symbol": REFUSED, "format": REFUSED},
        {"start": "{day}", "end": "{day_end}"},
    ),
    ("GET", "/v1/surveillance/alerts"): Operation(
        "/v1/surveillance/alerts",
        {
            "start": REFUSED,
            "end": REFUSED,
            "pattern": REFUSED,
            "symbol": FREE_TEXT,
            "member_id": FREE_TEXT,
            "min_score": REFUSED,
            "limit": REFUSED,
            "cursor": REFUSED,
        },
        {"limit": "5"},
        found_nothing=no_alerts,
    ),
    ("GET", "/v1/risk/members/{member_id}"): Operation(
        "/v1/risk/members/{member_id}", {"member_id": REFUSED}
    ),
    ("POST", "/v1/risk/score"): Operation(
        "/v1/risk/score", {BODY_MEMBER: REFUSED}, body={"members": [{"member_id": "{member_id}"}]}
    ),
    ("GET", "/v1/reports"): Operation("/v1/reports", {"kind": REFUSED, "start": REFUSED, "end": REFUSED}),
    ("GET", "/v1/reports/{kind}/{period}/{file}"): Operation(
        "/v1/reports/{kind}/{period}/{file}", {"kind": REFUSED, "period": REFUSED, "file": REFUSED}
    ),
    ("GET", "/dashboards/api/executive"): Operation(
        "/dashboards/api/executive", {**DASHBOARD, "grain": REFUSED, "commodity": REFUSED}, DAY
    ),
    ("GET", "/dashboards/api/trading"): Operation(
        "/dashboards/api/trading", {**DASHBOARD, "commodity": REFUSED, "symbol": REFUSED}, DAY
    ),
    ("GET", "/dashboards/api/compliance"): Operation(
        "/dashboards/api/compliance", {**DASHBOARD, "commodity": REFUSED, "symbol": REFUSED}, DAY
    ),
    ("GET", "/dashboards/api/users"): Operation("/dashboards/api/users", DASHBOARD, DAY),
    ("GET", "/dashboards/api/health"): Operation("/dashboards/api/health", DASHBOARD, DAY),
    # not in the OpenAPI document
    ("GET", "/dashboards/login"): Operation(
        "/dashboards/login", {"next": FREE_TEXT}, found_nothing=back_to_the_index
    ),
    ("GET", "/dashboards/static/{name}"): Operation("/dashboards/static/{name}", {"name": REFUSED}),
}
WITHOUT_PARAMETERS = {
    ("GET", path)
    for path in (
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/dashboards/",
        "/dashboards/executive",
        "/dashboards/trading",
        "/dashboards/compliance",
        "/dashboards/users",
        "/dashboards/health",
    )
} | {("POST", "/dashboards/logout"), ("POST", "/dashboards/login"), ("WEBSOCKET", "/v1/ws")}
"""Routes without query or path parameters (the login form's key and the WebSocket's messages are
not parameters: tests/api covers them)."""

INTACT = (
    "api.keys",
    "api.audit_log",
    "api.request_log",
    "marts.fct_trades",
    "marts.dim_instruments",
    "compliance.fct_large_trades",
    "restricted.dim_user_contacts",
)
"""Tables an injected statement would go for: each must still exist (and api.keys keep its rows)."""


@dataclass
class Probe:
    method: str
    url: str
    headers: dict[str, str]
    body: Any = None


def build(operation: Operation, method: str, facts: dict[str, str], parameter: str | None, payload: str):
    """The succeeding request of `operation`, with `parameter` (None: none) set to `payload`."""
    path = operation.path
    for name in re.findall(r"{(\w+)}", operation.path):
        value = quote(payload, safe="") if name == parameter else facts[name]
        path = path.replace(f"{{{name}}}", value)
    if parameter in ("dataset_id", "member_id", "kind", "period", "file", "name") and "/" in payload:
        path = path.replace(quote(payload, safe=""), payload)  # traversal as a client would send it raw
    query = {name: value.format(**facts) for name, value in (operation.query or {}).items()}
    headers: dict[str, str] = {}
    if parameter == "Last-Event-ID":
        headers["Last-Event-ID"] = payload
    elif parameter is not None and parameter != BODY_MEMBER and f"{{{parameter}}}" not in operation.path:
        query[parameter] = payload
    body = filled_body(operation.body, facts)
    if parameter == BODY_MEMBER:
        body = {"members": [{"member_id": payload}]}
    url = httpx.URL(path, params=query) if query else httpx.URL(path)
    return Probe(method, str(url), headers, body)


def send(client: TestClient, server: LiveServer, probe: Probe, auth: dict[str, str]) -> httpx.Response:
    headers = {**auth, **probe.headers}
    if probe.url.startswith("/v1/stream/"):  # an accepted stream never ends: a real server, status only
        with httpx.stream("GET", server.url + probe.url, headers=headers, timeout=30) as response:
            if response.status_code >= 300:
                response.read()
            return response
    return client.request(probe.method, probe.url, headers=headers, json=probe.body, follow_redirects=False)


def test_injection_and_traversal_payloads_are_refused_and_change_nothing(
    api_app, client, live_server, built_platform, facts
) -> None:
    declared = set(OPERATIONS) | WITHOUT_PARAMETERS
    routes = app_routes(api_app)
    assert not routes - declared, f"routes whose parameters are not classified: {sorted(routes - declared)}"
    assert not declared - routes, f"routes the app no longer has: {sorted(declared - routes)}"
    for path, item in api_app.openapi()["paths"].items():
        for method, spec in item.items():
            documented = {p["name"] for p in spec.get("parameters", [])}
            classified = set(OPERATIONS[(method.upper(), path)].parameters) - {BODY_MEMBER}
            assert documented == classified, (
                f"{method.upper()} {path}: documented {documented}, classified {classified}"
            )

    keys = Keys(built_platform, uses_per_key=1_000)
    principal = ("pro", "admin")  # through every gate: the payload is what the route judges
    keys_before = dict(owner_rows(built_platform, "select key_id, md5(k::text) from api.keys as k"))
    sent = refused = accepted = server_errors = unsendable = 0
    problems: list[str] = []
    for (method, path), operation in sorted(OPERATIONS.items()):
        baseline = send(
            client, live_server, build(operation, method, facts, None, ""), keys.headers(principal)
        )
        assert baseline.status_code < 300, f"{method} {path} fails without a payload: {baseline.text[:300]}"
        for parameter, kind in sorted(operation.parameters.items()):
            for payload in PAYLOADS:
                try:
                    probe = build(operation, method, facts, parameter, payload)
                    response = send(client, live_server, probe, keys.headers(principal))
                except (httpx.LocalProtocolError, UnicodeEncodeError):
                    unsendable += 1  # e.g. a NUL or non-Latin-1 header: no client can send it
                    continue
                sent += 1
                status = response.status_code
                text = "" if probe.url.startswith("/v1/stream/") and status < 300 else response.text
                where = f"{method} {path} {parameter}={payload[:40]!r}"
                if status >= 500:
                    server_errors += 1
                    problems.append(f"{where}: {status} {text[:300]}")
                elif 400 <= status < 500:
                    refused += 1
                elif (
                    kind == FREE_TEXT and operation.found_nothing and operation.found_nothing(response)
                ) or (kind == INSTANT and IN_RANGE_INTEGER.fullmatch(payload)):
                    accepted += 1
                else:
                    problems.append(f"{where}: {status}, not refused ({kind}) {text[:200]}")
                if leak := LEAKS.search(text):
                    problems.append(f"{where}: error text in the answer: {leak[0]!r} {text[:300]}")
                if "text/html" in response.headers.get("content-type", "") and "<script>alert" in text:
                    problems.append(f"{where}: the payload is reflected unescaped in HTML")

    missing = [
        relation
        for relation in INTACT
        if owner_rows(built_platform, "select to_regclass(%s)", (relation,))[0][0] is None
    ]
    keys_after = dict(owner_rows(built_platform, "select key_id, md5(k::text) from api.keys as k"))
    ledger.injection(
        "API parameters: SQL injection, traversal, NUL, huge, unicode",
        sent,
        refused,
        accepted,
        server_errors,
        detail=f"{sum(len(o.parameters) for o in OPERATIONS.values())} parameters of {len(OPERATIONS)} routes x "
        f"{len(PAYLOADS)} payloads ({unsendable} a client cannot send); accepted = free text that found nothing, or an integer-ns instant in range",
    )
    assert not missing, f"tables gone after the probes: {missing}"
    assert {key: keys_after.get(key) for key in keys_before} == keys_before, "api.keys rows changed"
    assert len(keys_after) == len(keys_before) + keys.created, "api.keys gained rows the test did not make"
    assert not problems, f"{len(problems)} probes answered wrongly:\n" + "\n".join(problems[:60])
    assert sent > 1_000 and refused > 0.9 * sent
