"""Who may open which dashboard: the login form and its session cookie, Bearer keys on the data
endpoints, roles, tiers, bad filters, the static files and the security headers (in process)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.dashboards import sessions
from gcx import clock, database
from gcx.access import keys
from tests.api.conftest import bearer

DASHBOARDS = ("executive", "trading", "compliance", "users", "health")


@pytest.fixture
def browser_client(client, api_app) -> TestClient:
    """A client with its own cookie jar that does not follow redirects (the app is already running)."""
    return TestClient(api_app, follow_redirects=False)


def log_in(browser_client: TestClient, key: str, next_path: str = "/dashboards/"):
    return browser_client.post("/dashboards/login", data={"key": key, "next": next_path})


def test_pages_send_a_visitor_without_a_session_to_the_login_form(browser_client):
    response = browser_client.get("/dashboards/trading?commodity=WM")
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboards/login?next=/dashboards/trading%3Fcommodity%3DWM"
    form = browser_client.get("/dashboards/login?next=/dashboards/trading")
    assert (
        form.status_code == 200 and 'name="key"' in form.text and 'value="/dashboards/trading"' in form.text
    )


@pytest.mark.parametrize("name", DASHBOARDS)
def test_data_endpoints_without_a_key_are_401_in_the_one_error_shape(browser_client, name):
    response = browser_client.get(f"/dashboards/api/{name}")
    assert response.status_code == 401
    assert response.json()["error"]["reason"] == "missing_key"


def test_login_sets_an_httponly_strict_session_cookie_that_is_not_the_key(browser_client, make_key):
    key = make_key("pro", "executive")
    response = log_in(browser_client, key, "/dashboards/executive")
    assert response.status_code == 303 and response.headers["location"] == "/dashboards/executive"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboards" in cookie
    session_id = browser_client.cookies[sessions.COOKIE_NAME]
    assert key not in cookie and key.split("_", 2)[2] not in session_id
    page = browser_client.get("/dashboards/executive")
    assert page.status_code == 200 and 'data-endpoint="/dashboards/api/executive"' in page.text
    assert browser_client.get("/dashboards/api/executive").status_code == 200


@pytest.mark.attack("a revoked key's dashboard session")
def test_logout_and_revocation_end_the_session(browser_client, make_key, built_platform):
    key = make_key("pro", "admin")
    log_in(browser_client, key)
    assert browser_client.get("/dashboards/api/users").status_code == 200
    with database.connect("warehouse", settings=built_platform) as conn:
        keys.revoke_key(conn, key.split("_")[1])
    refused = browser_client.get("/dashboards/api/users")
    assert refused.status_code == 401 and refused.json()["error"]["reason"] == "session_expired"

    other = TestClient(browser_client.app, follow_redirects=False)
    log_in(other, make_key("pro", "admin"))
    other_session = other.cookies[sessions.COOKIE_NAME]
    logout = other.post("/dashboards/logout")
    assert logout.status_code == 303 and logout.headers["location"] == "/dashboards/login"
    assert "Max-Age=0" in logout.headers["set-cookie"] or "expires=" in logout.headers["set-cookie"].lower()
    with database.connect("warehouse", settings=built_platform) as conn:
        assert sessions.session_principal(conn, other_session) is None  # forgotten by the server too


def test_a_wrong_key_gets_the_form_again_with_the_reason(browser_client):
    response = log_in(browser_client, "gcx_000000000000_wrong")
    assert response.status_code == 401 and "unknown API key" in response.text
    assert sessions.COOKIE_NAME not in response.headers.get("set-cookie", "")


@pytest.mark.attack("an open redirect after login")
def test_login_never_redirects_to_another_site(browser_client, make_key):
    response = log_in(browser_client, make_key("pro", "executive"), "//evil.example/dashboards/")
    assert response.headers["location"] == "/dashboards/"


def test_a_quant_key_gets_403_as_json_on_data_and_a_readable_page_on_html(client, browser_client, make_key):
    key = make_key("pro", "quant")
    data = client.get("/dashboards/api/trading", headers=bearer(key))
    assert data.status_code == 403
    assert data.json()["error"]["reason"] == "role_not_allowed"
    assert data.json()["error"]["detail"]["allowed_roles"] == ["admin", "compliance", "executive"]
    page = client.get("/dashboards/trading", headers=bearer(key))
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "the quant role may not open" in page.text
    login = log_in(browser_client, key)
    assert login.status_code == 403 and "the quant role may not open the dashboards" in login.text
    assert "set-cookie" not in login.headers


def test_the_compliance_dashboard_is_for_compliance_and_admin_only(client, make_key):
    executive = bearer(make_key("pro", "executive"))
    refused = client.get("/dashboards/api/compliance", headers=executive)
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "role_not_allowed"
    assert client.get("/dashboards/compliance", headers=executive).status_code == 403
    index = client.get("/dashboards/", headers=executive)
    assert (
        'href="/dashboards/compliance"' not in index.text
        and "needs the admin or compliance role" in index.text
    )
    for role in ("compliance", "admin"):
        assert (
            client.get("/dashboards/api/compliance", headers=bearer(make_key("pro", role))).status_code == 200
        )


@pytest.mark.attack("a free executive key reads the member marts through the dashboards")
@pytest.mark.parametrize("name", ["executive", "users", "health"])
def test_dashboards_of_member_data_refuse_a_free_key(client, make_key, name):
    free = bearer(make_key("free", "executive"))
    data = client.get(f"/dashboards/api/{name}", headers=free)
    assert data.status_code == 403 and data.json()["error"]["reason"] == "tier_not_allowed"
    page = client.get(f"/dashboards/{name}", headers=free)
    assert page.status_code == 403 and "needs the member tier" in page.text
    assert f'href="/dashboards/{name}"' not in client.get("/dashboards/", headers=free).text
    assert (
        client.get(f"/dashboards/api/{name}", headers=bearer(make_key("member", "executive"))).status_code
        == 200
    )


def test_the_free_tier_sees_no_day_that_is_not_15_minutes_old_and_30_days_at_most(client, make_key):
    free = bearer(make_key("free", "executive"))
    now = clock.now()
    default = client.get("/dashboards/api/trading", headers=free).json()["filters"]
    assert default["end"] == (now - timedelta(minutes=15)).date().isoformat()
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    future = client.get(f"/dashboards/api/trading?end={tomorrow}", headers=free)
    assert future.status_code == 403 and future.json()["error"]["reason"] == "outside_tier_window"
    old = (now - timedelta(days=60)).date().isoformat()
    too_old = client.get(f"/dashboards/api/trading?start={old}", headers=free)
    assert too_old.status_code == 403 and "30 days" in too_old.json()["error"]["message"]
    member_default = client.get("/dashboards/api/trading", headers=bearer(make_key("member", "executive")))
    assert member_default.json()["filters"]["end"] == tomorrow


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("commodity=GOLD", "commodity: unknown code"),
        ("symbol=NOPE1", "symbol: unknown symbol(s) NOPE1"),
        ("start=2026-02-30", "query.start"),
        ("start=2026-11-10&end=2026-11-10", "must be before end"),
        ("grain=year", "query.grain"),
    ],
)
def test_bad_filters_are_422_with_the_reason(client, make_key, query, message):
    endpoint = "executive" if "grain" in query else "trading"
    response = client.get(f"/dashboards/api/{endpoint}?{query}", headers=bearer(make_key("pro", "admin")))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["reason"] == "invalid_request"
    assert message in response.json()["error"]["message"]


def test_pages_forbid_inline_scripts_and_serve_plotly_from_the_platform(client, make_key):
    page = client.get("/dashboards/executive", headers=bearer(make_key("pro", "executive")))
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in page.text and 'src="/dashboards/static/plotly.min.js"' in page.text
    plotly = client.get("/dashboards/static/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200 and plotly.headers["content-encoding"] == "gzip"
    assert plotly.headers["content-type"].startswith("text/javascript") and len(plotly.content) > 3_000_000
    again = client.get("/dashboards/static/plotly.min.js", headers={"If-None-Match": plotly.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/dashboards/static/..%2Fsessions.py").status_code == 404


def test_every_data_request_is_audited_with_its_dataset(client, api_app, make_key, built_platform):
    key = make_key("pro", "executive")
    assert client.get("/dashboards/api/trading?commodity=WM", headers=bearer(key)).status_code == 200
    api_app.state.meter.flush()
    with database.connect("warehouse", settings=built_platform) as conn:
        dataset, rows, commodity = conn.execute(
            "select dataset, rows, parameters->>'commodity' from api.audit_log where key_id = %s and action = 'read'",
            (key.split("_")[1],),
        ).fetchone()
    assert (dataset, commodity) == ("dashboard:trading", "WM") and rows > 0


@pytest.mark.attack("login CSRF from another site")
def test_a_login_form_posted_from_another_site_is_refused(browser_client, make_key):
    """Login CSRF: a page elsewhere must not log the visitor in under the attacker's key."""
    forged = browser_client.post(
        "/dashboards/login",
        data={"key": make_key("pro", "executive"), "next": "/dashboards/"},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status_code == 403 and sessions.COOKIE_NAME not in forged.cookies
    same_site = browser_client.post(
        "/dashboards/login",
        data={"key": make_key("pro", "executive"), "next": "/dashboards/"},
        headers={"Origin": "http://testserver"},
    )
    assert same_site.status_code == 303 and sessions.COOKIE_NAME in same_site.cookies


@pytest.mark.attack("an unattended dashboard session")
def test_a_session_left_idle_for_30_minutes_ends(browser_client, make_key, built_platform):
    key = make_key("pro", "executive")
    assert log_in(browser_client, key).status_code == 303
    assert browser_client.get("/dashboards/executive").status_code == 200
    with database.connect("warehouse", settings=built_platform) as conn:
        conn.execute(
            "update api.dashboard_sessions set last_seen_at = now() - %s where key_id = %s",
            (sessions.SESSION_IDLE + timedelta(minutes=1), key.split("_")[1]),
        )
    idle = browser_client.get("/dashboards/executive")
    assert idle.status_code == 303 and idle.headers["location"].startswith("/dashboards/login")
