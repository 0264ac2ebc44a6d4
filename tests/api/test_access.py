"""Keys, roles, rate limits, the error shape, metering and the audit log."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import ratelimit
from api.main import create_app
from gcx import database
from gcx.access import keys
from gcx.access.entitlements import TIERS
from tests.api.conftest import bearer


def warehouse_rows(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


def test_health_needs_no_key(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_key"),
        ({"Authorization": "Bearer nonsense"}, "invalid_key"),
        ({"Authorization": "Bearer gcx_000000000000_wrongsecret"}, "invalid_key"),
    ],
)
def test_a_data_route_without_a_valid_key_is_401_with_a_reason(client, headers, reason):
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    body = response.json()["error"]
    assert body["status"] == 401 and body["reason"] == reason and body["message"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_right_id_with_a_wrong_secret_is_refused(client, make_key):
    key_id = make_key().split("_")[1]
    response = client.get("/v1/me", headers=bearer(f"gcx_{key_id}_not-the-secret"))
    assert response.status_code == 401 and response.json()["error"]["reason"] == "invalid_key"


def test_a_revoked_key_is_refused(client, make_key, built_platform):
    key = make_key()
    with database.connect("warehouse", settings=built_platform) as conn:
        assert keys.revoke_key(conn, key.split("_")[1])
    response = client.get("/v1/me", headers=bearer(key))
    assert response.status_code == 401 and response.json()["error"]["reason"] == "revoked_key"


def test_keys_are_stored_hashed(make_key, built_platform):
    key = make_key()
    key_id, secret = key.split("_", 2)[1:]
    (stored,) = warehouse_rows(
        built_platform, "select secret_sha256 from api.keys where key_id = %s", (key_id,)
    )[0]
    assert bytes(stored) == hashlib.sha256(secret.encode()).digest()  # the digest, never the secret


def test_rate_limit_is_429_with_retry_after_and_ratelimit_headers(client, make_key):
    headers = bearer(make_key("free"))
    limit = TIERS["free"].requests_per_minute
    for n in range(limit):
        response = client.get("/v1/me", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-limit"] == str(limit)
        assert response.headers["ratelimit-remaining"] == str(limit - n - 1)
    refused = client.get("/v1/me", headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["reason"] == "rate_limited"
    # the whole limit sits in this window: it must end, then slide out far enough for one more
    assert 1 <= int(refused.headers["retry-after"]) <= 2 * ratelimit.WINDOW_S
    assert refused.headers["ratelimit-remaining"] == "0"


def test_the_rate_limit_is_one_count_per_key_across_api_processes(client, make_key, built_platform):
    """Two apps on the same warehouse (as `gcx serve --workers 2` runs) count against one window."""
    headers = bearer(make_key("free"))
    limit = TIERS["free"].requests_per_minute
    with TestClient(create_app(built_platform)) as other_process:
        for n in range(limit):
            answering = client if n % 2 else other_process
            assert answering.get("/v1/me", headers=headers).status_code == 200
        assert other_process.get("/v1/me", headers=headers).status_code == 429
        assert client.get("/v1/me", headers=headers).status_code == 429


def test_a_rate_limit_starts_afresh_two_minutes_on(client, make_key, built_platform):
    key_id = make_key("free").split("_")[1]
    limit = TIERS["free"].requests_per_minute
    with database.connect("warehouse", settings=built_platform) as conn:
        assert ratelimit.take(conn, key_id, limit).remaining == limit - 1
        conn.execute(
            "update api.rate_windows set started_at = started_at - interval '121 seconds' where key_id = %s",
            (key_id,),
        )
        renewed = ratelimit.take(conn, key_id, limit)
    assert renewed.remaining == limit - 1 and renewed.reset_s == ratelimit.WINDOW_S


@pytest.mark.attack("twice the rate limit across a window boundary")
def test_a_full_minute_just_past_leaves_no_second_burst(client, make_key, built_platform):
    """A key that spent its limit in the minute that ended a second ago gets the one request that
    second slid out, not a fresh limit (a fixed window would allow `limit` more at once)."""
    key_id = make_key("free").split("_")[1]
    limit = TIERS["free"].requests_per_minute
    with database.connect("warehouse", settings=built_platform) as conn:
        ratelimit.take(conn, key_id, limit)
        conn.execute(
            "update api.rate_windows set started_at = statement_timestamp() - interval '61 seconds', used = %s"
            " where key_id = %s",
            (limit, key_id),
        )
        allowed = 0
        while not (quota := ratelimit.take(conn, key_id, limit)).exceeded:
            allowed += 1
    assert 1 <= allowed <= 2
    assert 1 <= quota.reset_s <= 3  # two more seconds of the old minute slide out for the next one


def test_every_request_is_metered_into_the_warehouse(client, api_app, make_key, built_platform):
    key = make_key("member", "analyst")
    key_id = key.split("_")[1]
    client.get("/v1/me", headers=bearer(key))
    client.get("/v1/me", headers={"Authorization": "Bearer gcx_x_y"})
    api_app.state.meter.flush()
    rows = warehouse_rows(
        built_platform,
        "select endpoint, status, tier, role, bytes > 0, latency_ms > 0 from api.request_log where key_id = %s",
        (key_id,),
    )
    assert rows == [("/v1/me", 200, "member", "analyst", True, True)]


def test_the_api_role_can_read_its_key_without_the_secret(client, make_key):
    response = client.get("/v1/me", headers=bearer(make_key("member", "analyst")))
    body = response.json()
    assert body["tier"] == "member" and body["role"] == "analyst"
    assert body["requests_per_minute"] == TIERS["member"].requests_per_minute


def test_key_creation_refuses_unknown_tiers_and_roles(built_platform):
    with (
        database.connect("warehouse", settings=built_platform) as conn,
        pytest.raises(ValueError, match="tier"),
    ):
        keys.create_key(conn, "x", "gold", "quant")
    with (
        database.connect("warehouse", settings=built_platform) as conn,
        pytest.raises(ValueError, match="role"),
    ):
        keys.create_key(conn, "x", "free", "trader")


def test_the_database_refuses_a_key_with_an_unknown_tier(built_platform):
    with (
        database.connect("warehouse", settings=built_platform) as conn,
        pytest.raises(psycopg.errors.CheckViolation),
    ):
        conn.execute(
            "insert into api.keys (key_id, secret_sha256, name, tier, role) values ('x', ''::bytea, 'x', 'gold', 'quant')"
        )


def test_cross_origin_browsers_are_not_let_in_by_default(client):
    response = client.options(
        "/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in response.headers


def test_configured_origins_are_let_in(built_platform):
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app(built_platform.model_copy(update={"api_cors_origins": ["https://research.example"]}))
    with TestClient(app) as other:
        response = other.options(
            "/v1/me",
            headers={"Origin": "https://research.example", "Access-Control-Request-Method": "GET"},
        )
    assert response.headers["access-control-allow-origin"] == "https://research.example"


@pytest.mark.parametrize(
    "path",
    ["/v1/surveillance/alerts", "/v1/reports", "/v1/datasets/large_trades", "/dashboards/api/compliance"],
)
def test_a_free_key_never_sees_compliance_data_whatever_its_role(client, auth, path):
    refused = client.get(path, headers=auth("free", "compliance"))
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "tier_not_allowed"
    assert refused.json()["error"]["detail"]["required_tier"] == "member"
    assert client.get(path, headers=auth("member", "quant")).json()["error"]["reason"] == "role_not_allowed"
