"""The dependencies routes declare: settings, a pooled warehouse connection, and the caller.

    @router.get("/v1/things")
    def things(principal: PrincipalDep, conn: ConnDep) -> ...

`PrincipalDep` authenticates the `Authorization: Bearer <key>` header and counts the request
against the key's rate limit; `require_roles(...)` and `require_bulk_export` narrow it further.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from api import ratelimit
from api.errors import ApiError
from gcx import clock
from gcx.access.entitlements import COMPLIANCE_ROLES, COMPLIANCE_TIER, tier_at_least
from gcx.access.keys import KeyRejected, Principal, authenticate
from gcx.settings import Settings

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` one in its threadpool, and
# that hop costs more than what it does.


async def request_time() -> datetime:
    """The instant a request is answered at: what the tier's delay and history count from. A
    dependency, so tests can stand at a moment inside the data (the fixture's data ends yesterday)."""
    return clock.now()


NowDep = Annotated[datetime, Depends(request_time)]


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_conn(request: Request) -> Iterator[psycopg.Connection]:
    """A warehouse connection from the app's pool, returned to it after the response."""
    with request.app.state.pool.connection() as conn:
        yield conn


ConnDep = Annotated[psycopg.Connection, Depends(get_conn)]

bearer = HTTPBearer(auto_error=False, description="An API key from `gcx keys create`.")


def authenticate_request(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    with request.app.state.pool.connection() as conn:
        if credentials is None:
            message = "this route needs an API key: send `Authorization: Bearer <key>` (create one with `gcx keys create`)"
            raise refusal(request, conn, unauthenticated("missing_key", message))
        try:
            principal = authenticate(conn, credentials.credentials)
        except KeyRejected as rejected:
            raise refusal(request, conn, unauthenticated(rejected.reason, rejected.message)) from None
        admit(request, principal, conn)
    return principal


def unauthenticated(reason: str, message: str) -> ApiError:
    """The 401 of a request without a valid key (or session)."""
    return ApiError(401, reason, message, headers={"WWW-Authenticate": "Bearer"})


def client_address(request: HTTPConnection) -> str:
    """Who sent the request: the peer's address, or behind a proxy listed in GCX_TRUSTED_PROXIES the
    last address its X-Forwarded-For names that is not one of those proxies (the one they saw)."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.settings.trusted_proxies
    if peer not in trusted:
        return peer
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    return next((address for address in reversed(forwarded) if address and address not in trusted), peer)


def refusal(request: HTTPConnection, conn: psycopg.Connection, error: ApiError) -> ApiError:
    """What to answer a request that failed to authenticate: `error`, counted against its client
    address; once the address has failed `failed_auth_per_minute` times in the minute, a 429 instead."""
    limit = request.app.state.settings.failed_auth_per_minute
    quota = ratelimit.take(conn, ratelimit.address_window(client_address(request)), limit)
    if not quota.exceeded:
        return error
    return ApiError(
        429,
        "too_many_failed_attempts",
        f"{limit} requests without a valid key per minute from one address; retry in {quota.reset_s} s",
        {"limit": limit, "retry_after_s": quota.reset_s},
        headers=quota.headers(),
    )


def admit(request: HTTPConnection, principal: Principal, conn: psycopg.Connection) -> None:
    """Make `principal` the request's caller: metering sees its key, and the request counts against
    the key's rate limit (429 with Retry-After once it is spent). Every way of authenticating (Bearer
    key, dashboard session, WebSocket) ends here, on the connection it authenticated with."""
    request.state.principal = principal
    quota = ratelimit.take(conn, principal.key_id, principal.tier.requests_per_minute)
    request.state.quota = quota
    if quota.exceeded:
        raise rate_limited(principal, quota)


def rate_limited(principal: Principal, quota: ratelimit.Quota) -> ApiError:
    """The 429 of a spent rate limit, for an HTTP request or a WebSocket message alike."""
    return ApiError(
        429,
        "rate_limited",
        f"the {principal.tier.name} tier allows {quota.limit} requests per minute; retry in {quota.reset_s} s",
        {"limit": quota.limit, "retry_after_s": quota.reset_s},
        headers=quota.headers(),
    )


PrincipalDep = Annotated[Principal, Depends(authenticate_request)]


def require_roles(*roles: str):
    """A dependency admitting only the given roles (403 `role_not_allowed` for the others)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ApiError(
                403,
                "role_not_allowed",
                f"the {principal.role} role may not use this; it needs one of: {', '.join(roles)}",
                {"role": principal.role, "allowed_roles": list(roles)},
            )
        return principal

    return check


def check_tier(principal: Principal, required: str, what: str) -> Principal:
    """403 `tier_not_allowed` unless the principal's tier is `required` or above."""
    if not tier_at_least(principal.tier, required):
        raise ApiError(
            403,
            "tier_not_allowed",
            f"{what} needs the {required} tier or above (this key is {principal.tier.name})",
            {"tier": principal.tier.name, "required_tier": required},
        )
    return principal


def require_compliance(
    principal: Annotated[Principal, Depends(require_roles(*sorted(COMPLIANCE_ROLES)))],
) -> Principal:
    return check_tier(principal, COMPLIANCE_TIER, "compliance data")


ComplianceDep = Annotated[Principal, Depends(require_compliance)]
"""Compliance data and unmasked PII: the compliance and admin roles, on a paid tier."""


def require_bulk_export(principal: PrincipalDep) -> Principal:
    if not principal.tier.bulk_export:
        raise ApiError(
            403,
            "tier_not_allowed",
            f"bulk export needs the pro tier (this key is {principal.tier.name})",
            {"tier": principal.tier.name, "required_tier": "pro"},
        )
    return principal


BulkExportDep = Annotated[Principal, Depends(require_bulk_export)]
