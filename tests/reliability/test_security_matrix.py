"""API security matrix (issue 7, item 3): every route of the app x every principal (no key, and each of
the 3 tiers x 5 roles), and every dataset of the catalog (its entry with sample rows, and its export)
x every principal, against the access policy written below.

The policy is stated here, as the README and the issue state it, not computed from gcx/access/entitlements.py
or api/catalog/: a change of what the code allows fails this test until the policy is changed too.
A route or a dataset the policy does not name fails the test, so a new one cannot go unclassified.

On top of the status and the reason of every answer: a free key never receives a row newer than 15
minutes (the time axis of every sample, at a `now` just after the newest trade), and no body sent to
a quant, analyst or executive holds the clear e-mail, phone, name or national id of anyone in the
restricted marts, while a compliance officer's export of those marts does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import ledger
import pytest
from api_security import Keys, Principal, app_routes, filled_body, owner_rows
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import deps
from gcx.settings import Settings
from tests.api.conftest import LiveServer

TIERS = ("free", "member", "pro")
ROLES = ("quant", "analyst", "compliance", "executive", "admin")
PRINCIPALS: list[Principal] = [None, *((tier, role) for tier in TIERS for role in ROLES)]

EVERY_ROLE = frozenset(ROLES)
COMPLIANCE_ROLES = frozenset({"compliance", "admin"})
"""Compliance data (datasets, alerts, risk, reports) and clear PII: the README's "compliance or admin role"."""
DASHBOARD_ROLES = frozenset({"executive", "compliance", "admin"})
EVERY_TIER = frozenset(TIERS)
PAID_TIERS = frozenset({"member", "pro"})
"""The issue: "a free key never sees real-time or compliance data"."""
PRO = frozenset({"pro"})
FREE_DELAY = timedelta(minutes=15)
PII_BLIND_ROLES = frozenset({"quant", "analyst", "executive"})


# ---------------------------------------------------------------------------------------------
# The policy: routes


@dataclass(frozen=True)
class Rule:
    """Who may call a route, and one request that succeeds for them. `{...}` in `request` and `body`
    are filled from the platform's facts (a day with trades, a member id, a report's name)."""

    request: str
    key: bool = True
    """False: public, no key needed (health, docs, the dashboards' login, their static files)."""
    tiers: frozenset[str] = EVERY_TIER
    roles: frozenset[str] = EVERY_ROLE
    ok: int = 200
    body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    page: bool = False
    """An HTML page: without a key it redirects to the login form; a refusal is a readable 403 page."""
    streams: bool = False
    """Server-Sent Events: an allowed request is checked on a real server (it never ends)."""


PUBLIC = {"key": False}
DAY = "start={day}&end={next_day}"

ROUTES: dict[tuple[str, str], Rule] = {
    # public: liveness, the OpenAPI document and its viewers, the dashboards' login and static files
    ("GET", "/health"): Rule("/health", **PUBLIC),
    ("GET", "/openapi.json"): Rule("/openapi.json", **PUBLIC),
    ("GET", "/docs"): Rule("/docs", **PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Rule("/docs/oauth2-redirect", **PUBLIC),
    ("GET", "/redoc"): Rule("/redoc", **PUBLIC),
    ("GET", "/dashboards/login"): Rule("/dashboards/login", **PUBLIC),
    ("POST", "/dashboards/login"): Rule("/dashboards/login", form={"key": "not-a-key"}, ok=401, **PUBLIC),
    ("POST", "/dashboards/logout"): Rule("/dashboards/logout", ok=303, **PUBLIC),
    ("GET", "/dashboards/static/{name}"): Rule("/dashboards/static/dashboards.js", **PUBLIC),
    # market data: any key, every tier and role (the tier narrows the window, tested below)
    ("GET", "/v1/me"): Rule("/v1/me"),
    ("GET", "/v1/instruments"): Rule("/v1/instruments"),
    ("GET", "/v1/calendar"): Rule("/v1/calendar?" + DAY),
    ("GET", "/v1/trades"): Rule("/v1/trades?start={day}&end={day_end}&limit=5"),
    ("GET", "/v1/ohlcv"): Rule("/v1/ohlcv?interval=1h&start={day}&end={day_end}&limit=5"),
    ("GET", "/v1/summary/daily"): Rule("/v1/summary/daily?" + DAY),
    ("GET", "/v1/trades/tail"): Rule("/v1/trades/tail?limit=5"),
    # one symbol: the free tier follows one at a time
    ("GET", "/v1/stream/trades"): Rule("/v1/stream/trades?symbol={symbol}", streams=True),
    ("WEBSOCKET", "/v1/ws"): Rule("/v1/ws"),
    ("GET", "/v1/datasets"): Rule("/v1/datasets"),
    # a trading dataset here; every dataset x principal is checked by the dataset matrix below
    ("GET", "/v1/datasets/{dataset_id}"): Rule("/v1/datasets/instruments"),
    ("GET", "/v1/datasets/{dataset_id}/export"): Rule("/v1/datasets/instruments/export", tiers=PRO),
    ("HEAD", "/v1/datasets/{dataset_id}/export"): Rule("/v1/datasets/instruments/export", tiers=PRO),
    # compliance: alerts, member risk, reports
    ("GET", "/v1/surveillance/alerts"): Rule(
        "/v1/surveillance/alerts?limit=5", tiers=PAID_TIERS, roles=COMPLIANCE_ROLES
    ),
    ("GET", "/v1/risk/members/{member_id}"): Rule(
        "/v1/risk/members/{member_id}", tiers=PAID_TIERS, roles=COMPLIANCE_ROLES
    ),
    ("POST", "/v1/risk/score"): Rule(
        "/v1/risk/score",
        tiers=PAID_TIERS,
        roles=COMPLIANCE_ROLES,
        body={"members": [{"member_id": "{member_id}"}]},
    ),
    ("GET", "/v1/reports"): Rule("/v1/reports", tiers=PAID_TIERS, roles=COMPLIANCE_ROLES),
    ("GET", "/v1/reports/{kind}/{period}/{file}"): Rule(
        "/v1/reports/{report}", tiers=PAID_TIERS, roles=COMPLIANCE_ROLES
    ),
    # dashboards: executive, compliance and admin roles (member data: paid tiers; trading: any tier);
    # the compliance dashboard: compliance and admin
    ("GET", "/dashboards/api/executive"): Rule(
        "/dashboards/api/executive?" + DAY, tiers=PAID_TIERS, roles=DASHBOARD_ROLES
    ),
    ("GET", "/dashboards/api/trading"): Rule("/dashboards/api/trading?" + DAY, roles=DASHBOARD_ROLES),
    ("GET", "/dashboards/api/users"): Rule(
        "/dashboards/api/users?" + DAY, tiers=PAID_TIERS, roles=DASHBOARD_ROLES
    ),
    ("GET", "/dashboards/api/health"): Rule(
        "/dashboards/api/health?" + DAY, tiers=PAID_TIERS, roles=DASHBOARD_ROLES
    ),
    ("GET", "/dashboards/api/compliance"): Rule(
        "/dashboards/api/compliance?" + DAY, tiers=PAID_TIERS, roles=COMPLIANCE_ROLES
    ),
    ("GET", "/dashboards/"): Rule("/dashboards/", roles=DASHBOARD_ROLES, page=True),
    ("GET", "/dashboards/executive"): Rule(
        "/dashboards/executive", tiers=PAID_TIERS, roles=DASHBOARD_ROLES, page=True
    ),
    ("GET", "/dashboards/trading"): Rule("/dashboards/trading", roles=DASHBOARD_ROLES, page=True),
    ("GET", "/dashboards/users"): Rule(
        "/dashboards/users", tiers=PAID_TIERS, roles=DASHBOARD_ROLES, page=True
    ),
    ("GET", "/dashboards/health"): Rule(
        "/dashboards/health", tiers=PAID_TIERS, roles=DASHBOARD_ROLES, page=True
    ),
    ("GET", "/dashboards/compliance"): Rule(
        "/dashboards/compliance", tiers=PAID_TIERS, roles=COMPLIANCE_ROLES, page=True
    ),
}


# ---------------------------------------------------------------------------------------------
# The policy: datasets (by the dbt folder of their mart, or the table the models write)


@dataclass(frozen=True)
class DatasetRule:
    tiers: frozenset[str]
    roles: frozenset[str]


TRADING = DatasetRule(EVERY_TIER, EVERY_ROLE)
"""Market data: every key (the free tier 15 minutes late and 30 days back)."""
BUSINESS = DatasetRule(PAID_TIERS, EVERY_ROLE)
"""Platform and executive marts: from the member tier (PII in them is hashed)."""
COMPLIANCE = DatasetRule(PAID_TIERS, COMPLIANCE_ROLES)
"""Compliance marts and model outputs: compliance and admin, never a free key."""
RESTRICTED = DatasetRule(PAID_TIERS, COMPLIANCE_ROLES)
"""Clear PII: compliance and admin only (and not even listed to the others)."""

DATASETS: dict[str, DatasetRule] = {
    **dict.fromkeys(
        [
            "trades",
            "orders",
            "settlements",
            "instruments",
            "members",
            "accounts",
            "calendar_days",
            "daily_summary",
            "ohlcv_1m",
            "ohlcv_5m",
            "ohlcv_1h",
            "ohlcv_1d",
            "live_trades",
        ],
        TRADING,
    ),
    **dict.fromkeys(
        [
            "executive_kpis",
            "executive_commodity_volumes",
            "users",
            "active_users_daily",
            "retention_cohorts",
            "mrr_monthly",
            "api_usage_daily",
            "api_requests_daily",
        ],
        BUSINESS,
    ),
    **dict.fromkeys(
        [
            "large_trades",
            "position_limit_breaches",
            "kyc_subjects",
            "sanctions_hits",
            "regulatory_filings",
            "beneficial_owners",
            "compliance_daily",
            "surveillance_alerts",
            "member_risk_scores",
        ],
        COMPLIANCE,
    ),
    **dict.fromkeys(["member_contacts", "beneficial_owners_pii", "user_contacts"], RESTRICTED),
}
UNLISTED = {dataset_id for dataset_id, rule in DATASETS.items() if rule is RESTRICTED}
"""Not even named in GET /v1/datasets to a role that may not read them."""
TIME_AXES = {
    **dict.fromkeys(["trades", "live_trades"], "executed_at"),
    **{f"ohlcv_{interval}": "bar_start_at" for interval in ("1m", "5m", "1h", "1d")},
    "daily_summary": "trade_date",
}
"""The intraday datasets' time axes: the rows the free tier's delay is about."""


# ---------------------------------------------------------------------------------------------
# What an answer should be


@dataclass(frozen=True)
class Outcome:
    status: int
    reason: str | None = None
    """The error body's machine-readable reason (None: a success, or an HTML page)."""


def expected(rule: Rule, principal: Principal) -> Outcome:
    """The answer the policy promises `principal`: a role that may not call the route is refused
    for its role whatever its tier; an allowed role on too low a tier for its tier."""
    if not rule.key:
        return Outcome(rule.ok)
    if principal is None:
        return Outcome(303) if rule.page else Outcome(401, "missing_key")
    tier, role = principal
    if role not in rule.roles:
        return Outcome(403, None if rule.page else "role_not_allowed")
    if tier not in rule.tiers:
        return Outcome(403, None if rule.page else "tier_not_allowed")
    return Outcome(rule.ok)


def expected_dataset(rule: DatasetRule, principal: Principal, export: bool) -> Outcome:
    if principal is None:
        return Outcome(401, "missing_key")
    tier, role = principal
    if export and tier != "pro":
        return Outcome(403, "tier_not_allowed")  # bulk export is pro, whatever the dataset
    if role not in rule.roles:
        return Outcome(403, "role_not_allowed")
    if tier not in rule.tiers:
        return Outcome(403, "tier_not_allowed")
    return Outcome(200)


# ---------------------------------------------------------------------------------------------
# Fixtures


@dataclass
class Tally:
    """What the matrix sent, and every answer that broke the policy."""

    sent: int = 0
    mismatches: list[str] = field(default_factory=list)
    server_errors: int = 0

    def check(self, label: str, principal: Principal, want: Outcome, status: int, body: Any) -> None:
        self.sent += 1
        self.server_errors += status >= 500
        reason = body.get("error", {}).get("reason") if isinstance(body, dict) else None
        if status != want.status or (want.reason is not None and reason != want.reason):
            self.mismatches.append(
                f"{label} as {principal or 'no key'}: want {want.status} {want.reason or ''}, got {status} {reason or ''}"
            )


# ---------------------------------------------------------------------------------------------
# Routes and PII


EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@dataclass
class ClearPii:
    """Every clear e-mail and phone of the restricted marts, and the clear values of known people."""

    emails: set[str]
    phones: set[str]
    known: list[str]

    def leaked(self, text: str) -> list[str]:
        found = set(EMAIL.findall(text)) & self.emails
        found |= {value for value in self.known if value in text}
        found |= {phone for phone in self.phones if phone in text} if len(self.phones) < 5_000 else set()
        return sorted(found)


@pytest.fixture(scope="module")
def clear_pii(built_platform: Settings) -> ClearPii:
    emails, phones, known = set(), set(), []
    for table, email, phone, others in (
        ("dim_user_contacts", "email", "phone", ["full_name"]),
        ("dim_member_contacts", "contact_email", "contact_phone", []),
        ("dim_beneficial_owners_pii", "email", "phone", ["full_name", "national_id"]),
    ):
        rows = owner_rows(built_platform, f"select {email}, {phone} from restricted.{table}")
        emails |= {row[0] for row in rows if row[0] and "@" in row[0]}
        phones |= {row[1] for row in rows if row[1] and len(row[1]) >= 7}
        columns = ", ".join([email, phone, *others])
        person = owner_rows(
            built_platform, f"select {columns} from restricted.{table} where {email} like '%%@%%' limit 1"
        )
        assert person, f"restricted.{table} has nobody with a clear e-mail to look for"
        known += [value for value in person[0] if isinstance(value, str) and len(value) >= 5]
    return ClearPii(emails, phones, known)


def fill(template: str, facts: dict[str, str]) -> str:
    return template.format(**facts)


def call(client: TestClient, method: str, rule: Rule, facts: dict[str, str], headers: dict[str, str]):
    url = fill(rule.request, facts)
    if method == "POST":
        body = filled_body(rule.body, facts)
        return client.post(url, json=body, data=rule.form, headers=headers, follow_redirects=False)
    return client.request(method, url, headers=headers, follow_redirects=False)


def websocket_outcome(client: TestClient, headers: dict[str, str]) -> tuple[int, dict]:
    """The WebSocket's first answer as (status, body): 200 once authenticated, else its error."""
    with client.websocket_connect("/v1/ws", headers=headers) as socket:
        if not headers:  # a first message that is not an auth message
            socket.send_json({"action": "subscribe"})
        message = socket.receive_json()
    if "authenticated" in message:
        return 200, message
    return message["error"]["status"], message


def stream_outcome(server: LiveServer, path: str, headers: dict[str, str]) -> tuple[int, dict]:
    """An SSE request's status and (for a refusal) body, on a real server: the stream never ends."""
    with httpx.stream("GET", f"{server.url}{path}", headers=headers, timeout=30) as response:
        if response.status_code == 200:
            assert response.headers["content-type"].startswith("text/event-stream")
            return 200, {}
        return response.status_code, json.loads(response.read())


def parse(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def test_every_route_answers_every_principal_as_the_policy_says(
    api_app, client, live_server, built_platform, facts, clear_pii
) -> None:
    routes = app_routes(api_app)
    unclassified = sorted(routes - set(ROUTES))
    assert not unclassified, f"routes the policy does not classify (add them to ROUTES): {unclassified}"
    gone = sorted(set(ROUTES) - routes)
    assert not gone, f"routes in the policy that the app no longer has: {gone}"
    keys_ = Keys(built_platform)
    tally = Tally()
    leaks = []
    for (method, path), rule in sorted(ROUTES.items()):
        for principal in PRINCIPALS:
            want = expected(rule, principal)
            headers = keys_.headers(principal)
            label = f"{method} {path}"
            if method == "WEBSOCKET":
                status, body = websocket_outcome(client, headers)
            elif rule.streams and want.status == 200:
                status, body = stream_outcome(live_server, fill(rule.request, facts), headers)
            else:
                response = call(client, method, rule, facts, headers)
                status, body = response.status_code, parse(response)
                if principal is not None and principal[1] in PII_BLIND_ROLES:
                    leaks += [f"{label} as {principal}: {v}" for v in clear_pii.leaked(response.text)]
                if rule.page and status == 303 and principal is None:
                    assert response.headers["location"].startswith("/dashboards/login"), label
            if method == "HEAD":  # no body, so no reason to read: the status says it
                want = Outcome(want.status)
            tally.check(label, principal, want, status, body)
    ledger.requests(
        "security matrix: routes x principals",
        tally.sent,
        len(tally.mismatches) + tally.server_errors,
        detail=f"{len(ROUTES)} routes x {len(PRINCIPALS)} principals (no key, 3 tiers x 5 roles); "
        f"{len(tally.mismatches)} answers against the policy, {tally.server_errors} server errors",
    )
    assert not leaks, "clear PII sent to a role that may not see it:\n" + "\n".join(leaks)
    assert not tally.mismatches, f"{len(tally.mismatches)} answers against the policy:\n" + "\n".join(
        tally.mismatches
    )


# ---------------------------------------------------------------------------------------------
# Datasets


@pytest.fixture(scope="module")
def stand_after_the_last_trade(api_app: FastAPI, built_platform: Settings) -> Iterator[datetime]:
    """`now` 5 minutes after the newest trade: the free tier's last 15 minutes hold real trades."""
    ((last,),) = owner_rows(
        built_platform, "select max(executed_at) from marts.fct_trades where venue = 'GCX'"
    )
    now = last + timedelta(minutes=5)
    api_app.dependency_overrides[deps.request_time] = lambda: now
    yield now
    api_app.dependency_overrides.pop(deps.request_time, None)


def newest_allowed(value: str, horizon: datetime, column: str) -> bool:
    """Whether a sample value of the time axis is one the free tier may see at `horizon`."""
    if len(value) == 10:  # a day: visible once it is over
        return date.fromisoformat(value) < horizon.date()
    instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return instant <= horizon if column == "bar_end_at" else instant < horizon


def test_every_dataset_answers_every_principal_as_the_policy_says(
    api_app, client, built_platform, stand_after_the_last_trade, clear_pii
) -> None:
    now = stand_after_the_last_trade
    horizon = now - FREE_DELAY
    keys_ = Keys(built_platform)
    listed = client.get("/v1/datasets", headers=keys_.headers(("pro", "admin"))).json()["data"]
    catalog = {entry["id"] for entry in listed}
    unclassified = sorted(catalog - set(DATASETS))
    assert not unclassified, f"datasets the policy does not classify (add them to DATASETS): {unclassified}"
    assert set(DATASETS) <= catalog, f"datasets missing from the catalog: {sorted(set(DATASETS) - catalog)}"

    tally = Tally()
    leaks, delay_breaches, listing_breaches = [], [], []
    newest_trade_to_pro = datetime.min.replace(tzinfo=UTC)
    for principal in PRINCIPALS:
        headers = keys_.headers(principal)
        if principal is not None:
            names = {e["id"] for e in client.get("/v1/datasets", headers=headers).json()["data"]}
            tally.sent += 1
            for dataset_id, rule in DATASETS.items():
                should_list = dataset_id not in UNLISTED or principal[1] in rule.roles
                if (dataset_id in names) != should_list:
                    listing_breaches.append(f"{dataset_id} listed={dataset_id in names} to {principal}")
        for dataset_id, rule in sorted(DATASETS.items()):
            for what, url in (
                ("entry", f"/v1/datasets/{dataset_id}"),
                ("export", f"/v1/datasets/{dataset_id}/export"),
            ):
                headers = keys_.headers(principal)
                response = client.get(url, headers=headers)
                want = expected_dataset(rule, principal, export=what == "export")
                tally.check(f"{what} {dataset_id}", principal, want, response.status_code, parse(response))
                if principal is not None and principal[1] in PII_BLIND_ROLES:
                    leaks += [
                        f"{what} {dataset_id} as {principal}: {v}" for v in clear_pii.leaked(response.text)
                    ]
                if what == "entry" and response.status_code == 200 and principal is not None:
                    entry = response.json()
                    axis = entry["coverage"]["time_column"]
                    if dataset_id in TIME_AXES:
                        assert axis == TIME_AXES[dataset_id], dataset_id
                    columns = [axis, "bar_end_at"] if axis else []
                    for row in entry["sample"]:
                        for column in columns:
                            value = row.get(column)
                            if value is None:
                                continue
                            if principal[0] == "free" and not newest_allowed(value, horizon, column):
                                delay_breaches.append(f"{dataset_id} {column}={value} to {principal}")
                            if (dataset_id, column, principal[0]) == ("trades", "executed_at", "pro"):
                                newest_trade_to_pro = max(newest_trade_to_pro, datetime.fromisoformat(value))

    # the delay check could fail: a real-time key does get the last 15 minutes of trades
    assert newest_trade_to_pro >= horizon
    # and a compliance officer's export does hold the clear PII the others never get
    officer = keys_.headers(("pro", "compliance"))
    contacts = client.get("/v1/datasets/user_contacts/export", headers=officer)
    assert contacts.status_code == 200 and clear_pii.leaked(contacts.text), "no clear PII for compliance"

    ledger.requests(
        "security matrix: datasets x principals",
        tally.sent,
        len(tally.mismatches) + tally.server_errors,
        detail=f"{len(DATASETS)} datasets x {len(PRINCIPALS)} principals x (entry with samples, export); "
        f"{len(tally.mismatches)} answers against the policy, {len(leaks)} clear-PII leaks, "
        f"{len(delay_breaches)} free-tier rows newer than 15 min",
    )
    assert not leaks, "clear PII sent to a role that may not see it:\n" + "\n".join(leaks)
    assert not delay_breaches, "rows newer than 15 minutes sent to a free key:\n" + "\n".join(delay_breaches)
    assert not listing_breaches, "restricted datasets listed wrongly:\n" + "\n".join(listing_breaches)
    assert not tally.mismatches, f"{len(tally.mismatches)} answers against the policy:\n" + "\n".join(
        tally.mismatches
    )
