"""The dashboards' HTML: small templates (string.Template, every value escaped) around which
static/dashboards.js draws the figures of the data endpoints. No inline script anywhere, so the
pages carry a Content-Security-Policy with `script-src 'self'`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from string import Template

from fastapi.responses import HTMLResponse

from gcx.access.entitlements import COMPLIANCE_ROLES, COMPLIANCE_TIER, DASHBOARD_ROLES, tier_at_least
from gcx.access.keys import Principal

TEMPLATES_DIR = Path(__file__).with_name("templates")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""plotly.js sets style attributes on the SVG it draws, hence 'unsafe-inline' for styles only."""


@dataclass(frozen=True)
class DashboardInfo:
    name: str
    title: str
    description: str
    roles: frozenset[str]
    filters: tuple[str, ...]
    """Filter controls besides the date range: grain, commodity, symbol."""
    tier: str = "free"
    """The lowest tier that may open it."""

    def open_to(self, principal: Principal) -> bool:
        return principal.role in self.roles and tier_at_least(principal.tier, self.tier)

    def needs(self) -> str:
        tier = f" on the {self.tier} tier or above" if self.tier != "free" else ""
        return f"needs the {' or '.join(sorted(self.roles))} role{tier}"


MEMBER_DATA_TIER = "member"
"""The executive and platform marts (and the platform's own operations) are member data, as in the
catalog (api/catalog/models.py GROUP_TIERS): a free key opens the trading dashboard only."""

DASHBOARDS: dict[str, DashboardInfo] = {
    info.name: info
    for info in (
        DashboardInfo(
            "executive",
            "Executive",
            "Volume, value, members, revenue, users and compliance per day, week, month and quarter.",
            DASHBOARD_ROLES,
            ("grain", "commodity"),
            MEMBER_DATA_TIER,
        ),
        DashboardInfo(
            "trading",
            "Trading",
            "Volume, value and prices per commodity and symbol, OHLC candles, most active members.",
            DASHBOARD_ROLES,
            ("commodity", "symbol"),
        ),
        DashboardInfo(
            "compliance",
            "Compliance",
            "Surveillance alerts, position-limit breaches, KYC status, sanctions hits, large trades.",
            COMPLIANCE_ROLES,
            ("commodity", "symbol"),
            COMPLIANCE_TIER,
        ),
        DashboardInfo(
            "users",
            "User analytics",
            "Daily, weekly and monthly active users, retention cohorts, subscriptions and MRR, API usage.",
            DASHBOARD_ROLES,
            (),
            MEMBER_DATA_TIER,
        ),
        DashboardInfo(
            "health",
            "System health",
            "Pipeline runs, data freshness, check results, API latency and errors.",
            DASHBOARD_ROLES,
            (),
            MEMBER_DATA_TIER,
        ),
    )
}

FILTER_CONTROLS = {
    "grain": '<label>Period <select name="grain"></select></label>',
    "commodity": '<label>Commodity <select name="commodity"><option value="">All commodities</option></select></label>',
    "symbol": '<label>Symbol <select name="symbol"><option value="">All symbols</option></select></label>',
}


@lru_cache(maxsize=8)
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / name).read_text())


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status,
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-store"},
    )


def _layout(title: str, content: str, principal: Principal | None) -> str:
    if principal is None:
        nav = ""
    else:
        links = ['<a href="/dashboards/">All dashboards</a>'] + [
            f'<a href="/dashboards/{info.name}">{escape(info.title)}</a>'
            for info in DASHBOARDS.values()
            if info.open_to(principal)
        ]
        nav = (
            f"<nav>{' '.join(links)}</nav>"
            f'<span class="who">{escape(principal.name)} ({escape(principal.role)}, {escape(principal.tier.name)} tier)</span>'
            '<form method="post" action="/dashboards/logout"><button type="submit">Log out</button></form>'
        )
    return _template("layout.html").substitute(title=escape(title), header=nav, content=content)


def dashboard_page(info: DashboardInfo, principal: Principal) -> HTMLResponse:
    content = _template("dashboard.html").substitute(
        name=info.name,
        title=escape(info.title),
        description=escape(info.description),
        filters="\n".join(FILTER_CONTROLS[name] for name in info.filters),
    )
    return html(_layout(info.title, content, principal))


def index_page(principal: Principal) -> HTMLResponse:
    items = "\n".join(
        f'<li><a href="/dashboards/{info.name}">{escape(info.title)}</a> {escape(info.description)}</li>'
        if info.open_to(principal)
        else f'<li><span class="locked">{escape(info.title)}</span> ({escape(info.needs())})</li>'
        for info in DASHBOARDS.values()
    )
    return html(_layout("Dashboards", f'<h1>GCX dashboards</h1><ul class="index">{items}</ul>', principal))


def login_page(next_path: str, message: str = "", status: int = 200) -> HTMLResponse:
    content = _template("login.html").substitute(
        next=escape(next_path, quote=True),
        message=f'<p class="error" role="alert">{escape(message)}</p>' if message else "",
    )
    return html(_layout("Log in", content, None), status)


def message_page(title: str, message: str, status: int, principal: Principal | None = None) -> HTMLResponse:
    content = (
        f'<h1>{escape(title)}</h1><p class="error" role="alert">{escape(message)}</p>'
        '<p><a href="/dashboards/login">Log in with another key</a> · <a href="/dashboards/">All dashboards</a></p>'
    )
    return html(_layout(title, content, principal), status)
