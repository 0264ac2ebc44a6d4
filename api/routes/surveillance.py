"""Market-surveillance alerts (compliance and admin only), as the daily scoring wrote them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from api.deps import ComplianceDep, ConnDep
from api.errors import AUTHENTICATED_RESPONSES, ApiError
from api.metering import note_access
from api.params import decode_cursor, split_page

router = APIRouter(prefix="/v1", tags=["surveillance"])

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000
Pattern = Literal[
    "wash_trade", "circular_trading", "spoofing", "marking_the_close", "pump_and_dump", "anomaly"
]


class AlertReason(BaseModel):
    feature: str
    value: Any = None
    why: str | None = None


class Alert(BaseModel):
    alert_id: str = Field(description="Stable for the same detection (day, symbol, pattern, members).")
    alert_date: date = Field(description="The trading day the alert is about (UTC).")
    pattern: str = Field(
        description="wash_trade, circular_trading, spoofing, marking_the_close, pump_and_dump or anomaly."
    )
    symbol: str | None
    member_ids: list[str]
    trade_ids: list[str]
    order_ids: list[str]
    score: float = Field(description="0..1: how strongly the detector(s) flag it.")
    detector: str = Field(description="rule, model, rule+model or anomaly.")
    model_name: str | None
    model_version: str | None
    reasons: list[AlertReason] = Field(description="The features that drove the alert, with their values.")
    explanation: str = Field(description="One sentence for the compliance officer.")
    scored_at: datetime


class AlertPage(BaseModel):
    data: list[Alert]
    count: int
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page; null: no more.")


def not_scored_yet(what: str) -> ApiError:
    return ApiError(
        503,
        "not_scored_yet",
        f"{what} are not available: the models have not been trained and run yet"
        " (`gcx materialize --job ml_job`)",
        headers={"Retry-After": "3600"},
    )


@router.get(
    "/surveillance/alerts",
    response_model=AlertPage,
    responses=AUTHENTICATED_RESPONSES,
)
def surveillance_alerts(
    request: Request,
    principal: ComplianceDep,
    conn: ConnDep,
    start: Annotated[date | None, Query(description="First alert day (UTC), inclusive.")] = None,
    end: Annotated[date | None, Query(description="Last alert day (UTC), exclusive.")] = None,
    pattern: Annotated[Pattern | None, Query(description="Only alerts of this pattern.")] = None,
    symbol: Annotated[str | None, Query(max_length=32, description="Only alerts on this symbol.")] = None,
    member_id: Annotated[
        str | None, Query(max_length=64, description="Only alerts involving this member.")
    ] = None,
    min_score: Annotated[float, Query(ge=0, le=1, description="Only alerts scoring at least this.")] = 0.0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Alerts per page (default {DEFAULT_LIMIT}).")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=256, description="`next_cursor` of the previous page.")
    ] = None,
) -> AlertPage:
    """Alerts newest day first, highest score first within a day, in a stable order (then alert_id)."""
    if start is not None and end is not None and start >= end:
        raise ApiError(422, "invalid_request", "start must be before end: days are [start, end)")
    position = decode_cursor(cursor, {"day", "score", "id"}) if cursor else None
    try:
        rows = conn.execute(
            """
            select alert_id, alert_date, pattern, symbol, member_ids, trade_ids, order_ids, score, detector,
                   model_name, model_version, reasons, explanation, scored_at
            from compliance.surveillance_alerts
            where (%(start)s::date is null or alert_date >= %(start)s)
              and (%(end)s::date is null or alert_date < %(end)s)
              and (%(pattern)s::text is null or pattern = %(pattern)s)
              and (%(symbol)s::text is null or symbol = %(symbol)s)
              and (%(member)s::text is null or %(member)s = any(member_ids))
              and score >= %(min_score)s
              and (%(day)s::date is null
                   or alert_date < %(day)s::date
                   or (alert_date = %(day)s::date
                       and (score < %(score)s or (score = %(score)s and alert_id > %(id)s))))
            order by alert_date desc, score desc, alert_id
            limit %(limit)s
            """,
            {
                "start": start,
                "end": end,
                "pattern": pattern,
                "symbol": symbol,
                "member": member_id,
                "min_score": min_score,
                "day": position["day"] if position else None,
                "score": position["score"] if position else None,
                "id": position["id"] if position else None,
                "limit": limit + 1,
            },
        ).fetchall()
    except psycopg.errors.UndefinedTable as missing:
        raise not_scored_yet("surveillance alerts") from missing
    rows, next_cursor = split_page(
        rows, limit, lambda last: {"day": last[1].isoformat(), "score": last[7], "id": last[0]}
    )
    alerts = [
        Alert(
            alert_id=row[0],
            alert_date=row[1],
            pattern=row[2],
            symbol=row[3],
            member_ids=row[4] or [],
            trade_ids=row[5] or [],
            order_ids=row[6] or [],
            score=row[7],
            detector=row[8],
            model_name=row[9],
            model_version=row[10],
            reasons=row[11] or [],
            explanation=row[12],
            scored_at=row[13],
        )
        for row in rows
    ]
    note_access(
        request,
        "compliance.surveillance_alerts",
        len(alerts),
        {"start": str(start), "end": str(end), "pattern": pattern, "symbol": symbol, "member_id": member_id},
    )
    return AlertPage(data=alerts, count=len(alerts), next_cursor=next_cursor)
