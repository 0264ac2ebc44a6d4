"""Who may open which dashboard: the same API keys as the data API, presented either as
`Authorization: Bearer <key>` (scripts, the data endpoints) or through a login session cookie
(browsers; see sessions.py). Dashboards need a role in DASHBOARD_ROLES; each dashboard's page and
data need the roles and tier pages.DASHBOARDS gives it (the tier of the marts it reads: executive,
user and health figures are member data, compliance needs a compliance role on the member tier).
Every dashboard request counts against the key's rate limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.dashboards import sessions
from api.dashboards.pages import DASHBOARDS
from api.deps import admit, authenticate_request, bearer, check_tier, refusal, unauthenticated
from api.errors import ApiError
from gcx.access.entitlements import DASHBOARD_ROLES
from gcx.access.keys import Principal


def authenticate_viewer(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller from a Bearer key, else from the session cookie; 401 when neither is valid (429 once
    the client address has failed too often, as for the data API)."""
    if credentials is not None:
        return authenticate_request(request, credentials)
    session_id = request.cookies.get(sessions.COOKIE_NAME)
    with request.app.state.pool.connection() as conn:
        if not session_id:
            message = "dashboards need an API key: log in at /dashboards/login or send `Authorization: Bearer <key>`"
            raise refusal(request, conn, unauthenticated("missing_key", message))
        principal = sessions.session_principal(conn, session_id)
        if principal is None:
            message = (
                "the dashboard session has expired or its key was revoked: log in again at /dashboards/login"
            )
            raise refusal(request, conn, unauthenticated("session_expired", message))
        admit(request, principal, conn)
    return principal


def check_role(principal: Principal, allowed: frozenset[str], what: str) -> Principal:
    if principal.role not in allowed:
        roles = sorted(allowed)
        raise ApiError(
            403,
            "role_not_allowed",
            f"the {principal.role} role may not open {what}; it needs one of: {', '.join(roles)}",
            {"role": principal.role, "allowed_roles": roles},
        )
    return principal


def dashboard_viewer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    return check_role(authenticate_viewer(request, credentials), DASHBOARD_ROLES, "the dashboards")


def dashboard_reader(name: str) -> object:
    """The caller of dashboard `name`'s data endpoint, held to the same roles and tier as its page."""
    info = DASHBOARDS[name]
    what = f"the {info.title.lower()} dashboard"

    def reader(principal: Annotated[Principal, Depends(dashboard_viewer)]) -> Principal:
        return check_tier(check_role(principal, info.roles, what), info.tier, what)

    return Annotated[Principal, Depends(reader)]


ExecutiveViewerDep = dashboard_reader("executive")
TradingViewerDep = dashboard_reader("trading")
ComplianceViewerDep = dashboard_reader("compliance")
UsersViewerDep = dashboard_reader("users")
HealthViewerDep = dashboard_reader("health")
