"""What the API security tests share (test_security_matrix.py, test_injection_probes.py): the routes an
app serves, keys of every tier and role, and reads of the warehouse as its owner."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route

from gcx import database
from gcx.access import keys
from gcx.reports import archive
from gcx.settings import Settings

Principal = tuple[str, str] | None
"""(tier, role), or None for a request without a key."""


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, OpenAPI or not (docs, pages, the WebSocket as
    method WEBSOCKET); HEAD only where it is a route of its own (Starlette adds it to every GET).

    FastAPI keeps an included router as a node of its own (`original_router`) whose routes carry their
    full path (the app includes its routers without a prefix: checked). Every OpenAPI operation must be
    found, so a change in how FastAPI keeps its routes fails here instead of shrinking the matrix."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                assert route.include_context.prefix == "", "a router included with a prefix"
                walk(route.original_router.routes)
            elif isinstance(route, APIWebSocketRoute):
                found.add(("WEBSOCKET", route.path))
            elif isinstance(route, APIRoute | Route):
                methods = route.methods or set()
                found.update((method, route.path) for method in methods if method != "HEAD")
                if methods == {"HEAD"}:
                    found.add(("HEAD", route.path))
            else:
                raise AssertionError(f"a route of an unknown kind: {route!r}")

    walk(app.routes)
    operations = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert operations <= found, f"OpenAPI operations the route walk missed: {operations - found}"
    return found


class Keys:
    """A key per principal, replaced by a fresh one every `uses_per_key` requests: well under the free
    tier's 60 a minute (these tests check access and input handling, not rate limits)."""

    def __init__(self, settings: Settings, uses_per_key: int = 40):
        self.settings = settings
        self.uses_per_key = uses_per_key
        self.keys: dict[tuple[str, str], tuple[str, int]] = {}
        self.created = 0

    def headers(self, principal: Principal) -> dict[str, str]:
        if principal is None:
            return {}
        key, uses = self.keys.get(principal, ("", self.uses_per_key))
        if uses >= self.uses_per_key:
            with database.connect("warehouse", settings=self.settings) as conn:
                key, uses = keys.create_key(conn, "security tests", *principal), 0
            self.created += 1
        self.keys[principal] = (key, uses + 1)
        return {"Authorization": f"Bearer {key}"}


def owner_rows(settings: Settings, statement: str, params: Any = ()) -> list[tuple]:
    """Rows read as the warehouse's owner (what the API must agree with, or must not have changed)."""
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(statement, params).fetchall()


def filled_body(body: dict[str, Any] | None, facts: dict[str, str]) -> dict[str, Any] | None:
    """A route's JSON body with "{member_id}" filled from the platform's facts."""
    return json.loads(json.dumps(body).replace("{member_id}", facts["member_id"])) if body else None


@contextmanager
def request_facts(settings: Settings) -> Iterator[dict[str, str]]:
    """Values that make each route's request succeed on the shared scored platform: its last GCX
    trading day, a scored member, a dataset, a report. The report is a file placed in the archive
    for a day long before the data (the route serves any archived file; building a real one takes a
    report run) and removed afterwards."""
    ((day,),) = owner_rows(settings, "select max(trade_date) from marts.fct_trades where venue = 'GCX'")
    ((member_id,),) = owner_rows(settings, "select min(member_id) from compliance.member_risk_scores")
    ((symbol,),) = owner_rows(settings, "select min(symbol) from marts.fct_trades where venue = 'GCX'")
    period = archive.period_of("daily", date(2000, 1, 3))
    folder = archive.report_dir(settings, period)
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / archive.file_name(period, "pdf")
    pdf.write_bytes(b"%PDF-1.4\n% API security tests\n")
    try:
        yield {
            "day": day.isoformat(),
            "next_day": (day + timedelta(days=1)).isoformat(),
            "day_end": f"{day.isoformat()}T12:00:00Z",
            "member_id": member_id,
            "symbol": symbol,
            "dataset_id": "ohlcv_1h",
            "kind": "daily",
            "period": period.name,
            "file": pdf.name,
            "report": f"daily/{period.name}/{pdf.name}",
            "name": "dashboards.js",
        }
    finally:
        shutil.rmtree(folder)
