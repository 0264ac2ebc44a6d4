"""Who may open which dashboard: the same API keys as the data API, presented either as
`Authorization: Bearer <key>` (scripts, the data endpoints) or through a login session cookie
(browsers; see sessions.py). Dashboards need a role in DASHBOARD_ROLES; the compliance dashboard
needs a role in COMPLIANCE_ROLES. Every dashboard request counts against the key's rate limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.dashboards import sessions
from api.deps import admit, authenticate_request, bearer, check_tier
from api.errors import ApiError
from gcx.access.entitlements import COMPLIANCE_ROLES, COMPLIANCE_TIER, DASHBOARD_ROLES
from gcx.access.keys import Principal


def authenticate_viewer(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller from a Bearer key, else from the session cookie; 401 when neither is valid."""
    if credentials is not None:
        return authenticate_request(request, credentials)
    session_id = request.cookies.get(sessions.COOKIE_NAME)
    if not session_id:
        raise ApiError(
            401,
            "missing_key",
            "dashboards need an API key: log in at /dashboards/login or send `Authorization: Bearer <key>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with request.app.state.pool.connection() as conn:
        principal = sessions.session_principal(conn, session_id)
        if principal is None:
            raise ApiError(
                401,
                "session_expired",
                "the dashboard session has expired or its key was revoked: log in again at /dashboards/login",
                headers={"WWW-Authenticate": "Bearer"},
            )
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


def compliance_viewer(principal: Annotated[Principal, Depends(dashboard_viewer)]) -> Principal:
    check_role(principal, COMPLIANCE_ROLES, "the compliance dashboard")
    return check_tier(principal, COMPLIANCE_TIER, "the compliance dashboard")


ViewerDep = Annotated[Principal, Depends(dashboard_viewer)]
ComplianceViewerDep = Annotated[Principal, Depends(compliance_viewer)]
