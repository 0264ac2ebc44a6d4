"""One client address may fail to authenticate `failed_auth_per_minute` times a minute (API and
dashboard login), then gets 429 with Retry-After; X-Forwarded-For counts only from a trusted proxy.

Each test gets an app with a limit of LIMIT and a client address of its own (the suite's other
requests come from the test client's address, with the limit raised: tests/conftest.py)."""

from __future__ import annotations

import itertools

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import bearer

LIMIT = 5
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))
"""TEST-NET-2 addresses, one per client: windows of one minute outlive a test."""


@pytest.fixture
def limited(built_platform):
    def client(address: str | None = None, **settings) -> TestClient:
        app = create_app(built_platform.model_copy(update={"failed_auth_per_minute": LIMIT, **settings}))
        return TestClient(app, client=(address or next(_addresses), 40000))

    return client


def wrong_key() -> dict[str, str]:
    return bearer("gcx_nosuchkey_0123456789abcdef0123456789abcdef")


@pytest.mark.attack("guessing API keys from one address")
def test_an_address_that_keeps_failing_gets_429_and_a_valid_key_still_works(limited, make_key):
    with limited() as client:
        for _ in range(LIMIT):
            assert client.get("/v1/me", headers=wrong_key()).status_code == 401
        refused = client.get("/v1/me")  # no key at all counts the same
        assert refused.status_code == 429
        assert refused.json()["error"]["reason"] == "too_many_failed_attempts"
        assert 1 <= int(refused.headers["retry-after"]) <= 120
        assert client.get("/v1/me", headers=bearer(make_key("free"))).status_code == 200


@pytest.mark.attack("guessing keys at the dashboard login")
def test_the_dashboard_login_is_limited_per_address(limited):
    with limited() as client:
        for _ in range(LIMIT):
            assert client.post("/dashboards/login", data={"key": "not-a-key"}).status_code == 401
        refused = client.post("/dashboards/login", data={"key": "not-a-key"})
        assert refused.status_code == 429 and "retry" in refused.text and refused.headers["retry-after"]


@pytest.mark.attack("dodging the address limit with a forged X-Forwarded-For")
def test_a_forged_x_forwarded_for_is_ignored_without_a_trusted_proxy(limited):
    with limited() as client:
        statuses = [
            client.get("/v1/me", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in range(LIMIT + 1)
        ]
    assert statuses == [401] * LIMIT + [429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_window(limited):
    proxy = next(_addresses)
    with limited(proxy, trusted_proxies=[proxy]) as client:
        first, second = next(_addresses), next(_addresses)
        for _ in range(LIMIT):
            client.get("/v1/me", headers={"X-Forwarded-For": f"{first}, {proxy}"})
        assert client.get("/v1/me", headers={"X-Forwarded-For": first}).status_code == 429
        # the client's own claim before the proxy's entry is not trusted: the proxy saw `first`
        assert client.get("/v1/me", headers={"X-Forwarded-For": f"{second}, {first}"}).status_code == 429
        assert client.get("/v1/me", headers={"X-Forwarded-For": second}).status_code == 401
