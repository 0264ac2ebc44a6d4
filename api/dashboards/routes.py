"""Routes under /dashboards: the pages (HTML), their JSON data endpoints (/dashboards/api/...), the
login form and the static files. The page and the tests read the same data endpoints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

from api.dashboards import compliance, executive, filters, health, pages, sessions, trading, users
from api.dashboards.access import (
    ComplianceViewerDep,
    ExecutiveViewerDep,
    HealthViewerDep,
    TradingViewerDep,
    UsersViewerDep,
    authenticate_viewer,
    check_role,
)
from api.dashboards.models import Dashboard
from api.dashboards.static_files import CACHE_SECONDS, static_file
from api.deps import ConnDep, SettingsDep, bearer, check_tier, refusal
from api.errors import AUTHENTICATED_RESPONSES, ApiError
from api.metering import note_access
from gcx.access.entitlements import DASHBOARD_ROLES
from gcx.access.keys import KeyRejected, authenticate

# The session table is created by the app's lifespan (api/main.py) as the schema's owner: the pool's
# role (gcx_api, gcx/governance/roles.py) may not run DDL.
router = APIRouter(prefix="/dashboards", tags=["dashboards"])

StartQuery = Annotated[date | None, Query(description=filters.START_HELP, examples=["2026-10-01"])]
EndQuery = Annotated[date | None, Query(description=filters.END_HELP, examples=["2026-11-01"])]
CommodityQuery = Annotated[str | None, Query(description=filters.COMMODITY_HELP, examples=["WM"])]
SymbolQuery = Annotated[str | None, Query(description=filters.SYMBOL_HELP, examples=["GEJWM1"])]


# ---- data endpoints -------------------------------------------------------------------------------


def _served(request: Request, dashboard: Dashboard, parameters: dict) -> Dashboard:
    note_access(request, f"dashboard:{dashboard.name}", dashboard.rows_read, parameters)
    return dashboard


@router.get("/api/executive", response_model=Dashboard, responses=AUTHENTICATED_RESPONSES)
def executive_data(
    request: Request,
    principal: ExecutiveViewerDep,
    conn: ConnDep,
    start: StartQuery = None,
    end: EndQuery = None,
    grain: Annotated[
        Literal["day", "week", "month", "quarter"],
        Query(description="Period of the KPIs, charts and tiles.", examples=["week"]),
    ] = "day",
    commodity: CommodityQuery = None,
) -> Dashboard:
    """KPIs per period (marts.fct_executive_kpis) with the change against the period before, volume per
    commodity (marts.fct_executive_commodity_volumes; `commodity` narrows it), and the day, week,
    month and quarter to date. Periods shown are those starting in [start, end)."""
    days = filters.day_range(principal, start, end)
    code = filters.commodity_code(commodity)
    history_start = filters.visible_days(principal).start
    dashboard = executive.build(conn, days, grain, code, history_start)
    return _served(
        request,
        dashboard,
        {"start": str(days.start), "end": str(days.end), "grain": grain, "commodity": code},
    )


@router.get("/api/trading", response_model=Dashboard, responses=AUTHENTICATED_RESPONSES)
def trading_data(
    request: Request,
    principal: TradingViewerDep,
    conn: ConnDep,
    start: StartQuery = None,
    end: EndQuery = None,
    commodity: CommodityQuery = None,
    symbol: SymbolQuery = None,
) -> Dashboard:
    """GCX volume, value and VWAP per day, commodity and symbol (marts.fct_daily_market_summary); OHLC
    candles of the first requested symbol, else the most traded (hourly up to 7 days, else daily);
    the most active members by traded value (marts.fct_trades)."""
    days = filters.day_range(principal, start, end)
    code = filters.commodity_code(commodity)
    known = {record["symbol"] for record in trading.home_symbols(conn)}
    symbols = filters.symbols(symbol, known)
    dashboard = trading.build(conn, days, code, symbols)
    return _served(
        request,
        dashboard,
        {"start": str(days.start), "end": str(days.end), "commodity": code, "symbols": symbols},
    )


@router.get("/api/compliance", response_model=Dashboard, responses=AUTHENTICATED_RESPONSES)
def compliance_data(
    request: Request,
    principal: ComplianceViewerDep,
    conn: ConnDep,
    start: StartQuery = None,
    end: EndQuery = None,
    commodity: CommodityQuery = None,
    symbol: SymbolQuery = None,
) -> Dashboard:
    """Compliance and admin roles only. Surveillance alerts (compliance.surveillance_alerts; a notice
    says when the model has not run yet), position-limit breaches, KYC status, sanctions hits and
    large trades. `commodity` narrows alerts, breaches and large trades; `symbol` alerts and large
    trades."""
    days = filters.day_range(principal, start, end)
    code = filters.commodity_code(commodity)
    known = {record["symbol"] for record in trading.home_symbols(conn)}
    symbols = filters.symbols(symbol, known)
    dashboard = compliance.build(conn, days, code, symbols)
    return _served(
        request,
        dashboard,
        {"start": str(days.start), "end": str(days.end), "commodity": code, "symbols": symbols},
    )


@router.get("/api/users", response_model=Dashboard, responses=AUTHENTICATED_RESPONSES)
def users_data(
    request: Request, principal: UsersViewerDep, conn: ConnDep, start: StartQuery = None, end: EndQuery = None
) -> Dashboard:
    """DAU/WAU/MAU, retention cohorts, subscriptions and MRR per plan, API usage of the platform's users."""
    days = filters.day_range(principal, start, end)
    return _served(request, users.build(conn, days), {"start": str(days.start), "end": str(days.end)})


@router.get("/api/health", response_model=Dashboard, responses=AUTHENTICATED_RESPONSES)
def health_data(
    request: Request,
    principal: HealthViewerDep,
    conn: ConnDep,
    settings: SettingsDep,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Dashboard:
    """Pipeline runs (Dagster's run storage), dataset freshness and check results (quality), failed
    runs (ops.pipeline_failures), API latency and errors (api.request_log)."""
    days = filters.day_range(principal, start, end)
    return _served(
        request, health.build(conn, settings, days), {"start": str(days.start), "end": str(days.end)}
    )


# ---- pages ----------------------------------------------------------------------------------------


def _page_viewer(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    roles: frozenset[str],
    tier: str,
    what: str,
):
    """The caller of a page, or the response to send instead: the login form when not logged in,
    a readable 403 page when the role (or tier) may not see it."""
    try:
        principal = authenticate_viewer(request, credentials)
    except ApiError as error:
        if error.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return None, RedirectResponse(f"/dashboards/login?next={quote(target)}", status_code=303)
        return None, pages.message_page("Try again shortly", error.message, error.status)
    try:
        check_tier(check_role(principal, roles, what), tier, what)
    except ApiError as error:
        return None, pages.message_page("Not allowed", error.message, 403, principal)
    return principal, None


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@router.get("/", include_in_schema=False)
def index(request: Request, credentials: BearerDep) -> Response:
    principal, refusal = _page_viewer(request, credentials, DASHBOARD_ROLES, "free", "the dashboards")
    return refusal or pages.index_page(principal)


def _dashboard_route(info: pages.DashboardInfo) -> None:
    def page(request: Request, credentials: BearerDep) -> Response:
        principal, refusal = _page_viewer(
            request, credentials, info.roles, info.tier, f"the {info.title.lower()} dashboard"
        )
        return refusal or pages.dashboard_page(info, principal)

    page.__name__ = f"{info.name}_page"
    router.add_api_route(f"/{info.name}", page, methods=["GET"], include_in_schema=False)


for _info in pages.DASHBOARDS.values():
    _dashboard_route(_info)


def _safe_next(next_path: str) -> str:
    """Only a dashboard path of this site (no open redirect to another host)."""
    if next_path.startswith("/dashboards/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return "/dashboards/"


@router.get("/login", include_in_schema=False)
def login_form(next: str = "/dashboards/") -> Response:
    return pages.login_page(_safe_next(next))


@router.post("/login", include_in_schema=False)
def login(
    request: Request, key: Annotated[str, Form()], next: Annotated[str, Form()] = "/dashboards/"
) -> Response:
    """Check the key, open a session and set its cookie (HttpOnly, SameSite=Strict; Secure over https).
    A form posted from another site is refused (login CSRF: logging a victim into the attacker's key)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
        return pages.message_page("Not allowed", "the login form must be sent from this site", 403)
    target = _safe_next(next)
    with request.app.state.pool.connection() as conn:
        try:
            principal = authenticate(conn, key.strip())
        except KeyRejected as rejected:
            refused = refusal(request, conn, ApiError(401, rejected.reason, rejected.message))
            page = pages.login_page(target, refused.message, refused.status)
            page.headers.update(refused.headers)
            return page
        try:
            check_role(principal, DASHBOARD_ROLES, "the dashboards")
        except ApiError as error:
            return pages.message_page("Not allowed", error.message, 403)
        session_id = sessions.open_session(conn, principal)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        sessions.COOKIE_NAME,
        session_id,
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
        path="/dashboards",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request) -> Response:
    session_id = request.cookies.get(sessions.COOKIE_NAME)
    if session_id:
        with request.app.state.pool.connection() as conn:
            sessions.close_session(conn, session_id)
    response = RedirectResponse("/dashboards/login", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/dashboards", httponly=True, samesite="strict")
    return response


@router.get("/static/{name}", include_in_schema=False)
def static(name: str, request: Request) -> Response:
    found = static_file(name)
    if found is None:
        raise ApiError(404, "not_found", f"no static file {name!r}")
    headers = {
        "ETag": found.etag,
        "Cache-Control": f"public, max-age={CACHE_SECONDS}",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            found.gzipped, media_type=found.media_type, headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(found.body, media_type=found.media_type, headers=headers)
