"""Metering and the audit log: every HTTP request becomes a row of `api.request_log` (key, endpoint,
status, rows, bytes, latency until the last byte), and every data access a row of `api.audit_log`.

Routes say what they returned with `note_access(request, dataset, rows, ...)`; the middleware
measures the rest. Rows are written in batches by a background thread so that metering never adds
a database round trip to a request; when the database is away they wait in memory (up to
`MAX_PENDING`) and are written when it is back. The platform marts read `api.request_log`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gcx import clock

if TYPE_CHECKING:
    from gcx.access.keys import Principal

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.25
MAX_PENDING = 200_000


@dataclass
class Access:
    """What a route returned, noted for the audit log and the metering."""

    dataset: str
    action: str = "read"
    rows: int = 0
    parameters: dict[str, Any] = field(default_factory=dict)


def note_access(
    request: Request,
    dataset: str,
    rows: int,
    parameters: dict[str, Any] | None = None,
    action: str = "read",
) -> None:
    """Record that this request read `rows` rows of `dataset` (routes call it once they know)."""
    request.state.access = Access(dataset, action, rows, parameters or {})


class MeterWriter:
    """Writes request and audit rows in the background, in batches."""

    def __init__(self, connect: Callable[[], psycopg.Connection]):
        self._connect = connect
        self._requests: queue.Queue[tuple] = queue.Queue()
        self._audits: queue.Queue[tuple] = queue.Queue()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="api-metering", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.flush()

    def record_request(self, row: tuple) -> None:
        if self._requests.qsize() < MAX_PENDING:
            self._requests.put(row)
        else:
            log.error("metering backlog full (%d rows): dropping a request row", MAX_PENDING)

    def record_audit(
        self,
        request_id: uuid.UUID | None,
        key_id: str | None,
        role: str | None,
        access: Access,
    ) -> None:
        # no time: the database stamps each audit row as it is written (009_audit_chain.sql); the
        # request's own time is api.request_log.requested_at, joined on request_id
        self._audits.put(
            (
                request_id,
                key_id,
                role,
                access.action,
                access.dataset,
                access.rows,
                Jsonb(access.parameters),
            )
        )

    def flush(self) -> None:
        """Write everything recorded so far (kept for the next try if the database is away)."""
        with self._flush_lock:
            requests, audits = _drain(self._requests), _drain(self._audits)
            if not requests and not audits:
                return
            try:
                with self._connect() as conn, conn.transaction():
                    with conn.cursor().copy(
                        "copy api.request_log (request_id, requested_at, key_id, tier, role, method, endpoint,"
                        " path, status, rows, bytes, latency_ms, client) from stdin"
                    ) as copy:
                        for row in requests:
                            copy.write_row(row)
                    if (
                        audits
                    ):  # one statement: the chain's head moves once per statement (009_audit_chain.sql)
                        conn.execute(
                            "insert into api.audit_log (request_id, key_id, role, action, dataset, rows, parameters)"
                            " select * from unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[],"
                            " %s::bigint[], %s::jsonb[])",
                            [list(column) for column in zip(*audits, strict=True)],
                        )
            except psycopg.Error as error:
                log.warning("metering not written yet (%s); will retry", error)
                for row in requests:
                    self._requests.put(row)
                for row in audits:
                    self._audits.put(row)

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_S):
            self.flush()


def _drain(q: queue.Queue) -> list:
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def request_row(
    request_id: uuid.UUID,
    requested_at: datetime,
    principal: Principal | None,
    method: str,
    endpoint: str,
    path: str,
    status: int,
    rows: int | None,
    sent: int,
    started: float,
    client: str | None,
) -> tuple:
    """A row of api.request_log; `started` is the request's time.perf_counter()."""
    return (
        request_id,
        requested_at,
        principal.key_id if principal else None,
        principal.tier.name if principal else None,
        principal.role if principal else None,
        method,
        endpoint,
        path,
        status,
        rows,
        sent,
        (time.perf_counter() - started) * 1000,
        client,
    )


class MeteringMiddleware:
    """Pure ASGI, so that streamed bodies (exports, SSE) are measured until their last byte."""

    def __init__(self, app: ASGIApp, writer: Callable[[], MeterWriter]):
        self.app = app
        self.writer = writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        requested_at = clock.now()
        request_id = uuid.uuid4()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status, sent = 500, 0

        async def measuring_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", str(request_id).encode()))
                quota = state.get("quota")
                if quota is not None:
                    existing = {name.lower() for name, _ in message["headers"]}
                    for name, value in quota.headers().items():
                        if name.lower().encode() not in existing:
                            message["headers"].append((name.lower().encode(), value.encode()))
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, measuring_send)
        finally:
            principal = state.get("principal")
            access: Access | None = state.get("access")
            route = scope.get("route")
            client = scope.get("client")
            writer = self.writer()
            writer.record_request(
                request_row(
                    request_id,
                    requested_at,
                    principal,
                    scope["method"],
                    getattr(route, "path", None) or "(unmatched)",
                    scope["path"],
                    status,
                    access.rows if access else None,
                    sent,
                    started,
                    client[0] if client else None,
                )
            )
            if access is not None:
                writer.record_audit(
                    request_id,
                    principal.key_id if principal else None,
                    principal.role if principal else None,
                    access,
                )
