"""Member settlement risk (compliance and admin only): the daily scores, and online scoring with the
champion model (loaded once per process by its `champion` alias, reloaded when promoted)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

import pandas as pd
import psycopg
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from api.deps import ComplianceDep, ConnDep, NowDep, SettingsDep
from api.errors import AUTHENTICATED_RESPONSES, BAD_BODY_RESPONSE, NOT_FOUND_RESPONSE, ApiError
from api.metering import note_access
from api.routes.surveillance import not_scored_yet

router = APIRouter(prefix="/v1/risk", tags=["risk"])

MAX_MEMBERS_PER_REQUEST = 500
MEMBER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
HISTORY_SCORES = 30


class RiskFactor(BaseModel):
    feature: str
    value: Any = None
    why: str | None = None


class RiskScore(BaseModel):
    member_id: str
    score_date: date = Field(description="The day the features describe (UTC); the horizon starts after it.")
    horizon_days: int
    probability_settlement_fail: float | None = Field(
        description="Probability that, of the member's settlement obligations due in the horizon_days after"
        " score_date, one fails (is still unpaid 5 days after its deadline) or at least two are paid late."
        " Only members active at the end of score_date are scored: a suspended or terminated member keeps"
        " its last score, from before its suspension. Fitted by log loss; calibration is measured on"
        " held-out days (ml/README.md), not guaranteed. Null while no model version has learned from"
        " known outcomes (risk_band insufficient_history)."
    )
    risk_band: str = Field(
        description="low (< 0.10), medium (< 0.30), high, or insufficient_history: too little settlement"
        " history for a probability yet (GET /v1/datasets/member_risk_scores says why, under `model`)."
    )
    model_name: str
    model_version: str
    top_factors: list[RiskFactor]
    scored_at: datetime


class MemberRisk(BaseModel):
    member_id: str
    latest: RiskScore
    history: list[RiskScore] = Field(description=f"The last {HISTORY_SCORES} daily scores, newest first.")


class MemberToScore(BaseModel):
    member_id: str = Field(min_length=1, max_length=64, pattern=MEMBER_ID_PATTERN)
    features: dict[str, float] | None = Field(
        None,
        description="Feature values to score instead of the member's latest stored features (what-if):"
        " every member-risk feature, numbers >= 0, rates in [0, 1]. Omit to score the stored features.",
    )


class ScoreRequest(BaseModel):
    members: list[MemberToScore] = Field(min_length=1, max_length=MAX_MEMBERS_PER_REQUEST)


class ScoreResponse(BaseModel):
    data: list[RiskScore]


SCORE_COLUMNS = (
    "member_id, score_date, horizon_days, probability_settlement_fail, risk_band, model_name,"
    " model_version, top_factors, scored_at"
)


def _score(row: tuple) -> RiskScore:
    return RiskScore(**dict(zip([c.strip() for c in SCORE_COLUMNS.split(",")], row, strict=True)))


@router.get(
    "/members/{member_id}",
    response_model=MemberRisk,
    responses={**AUTHENTICATED_RESPONSES, **NOT_FOUND_RESPONSE},
)
def member_risk(
    request: Request,
    principal: ComplianceDep,
    conn: ConnDep,
    member_id: Annotated[
        str,
        Path(max_length=64, pattern=MEMBER_ID_PATTERN, description="The exchange member id, e.g. MBR0007."),
    ],
) -> MemberRisk:
    """A member's latest daily risk score and its recent history."""
    try:
        rows = conn.execute(
            f"select {SCORE_COLUMNS} from compliance.member_risk_scores where member_id = %s"
            " order by score_date desc limit %s",
            (member_id, HISTORY_SCORES),
        ).fetchall()
    except psycopg.errors.UndefinedTable as missing:
        raise not_scored_yet("member risk scores") from missing
    if not rows:
        raise ApiError(404, "unknown_member", f"no risk score for member {member_id!r}")
    history = [_score(row) for row in rows]
    note_access(request, "compliance.member_risk_scores", len(history), {"member_id": member_id})
    return MemberRisk(member_id=member_id, latest=history[0], history=history)


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses={**AUTHENTICATED_RESPONSES, **NOT_FOUND_RESPONSE, **BAD_BODY_RESPONSE},
)
def score(
    request: Request,
    principal: ComplianceDep,
    conn: ConnDep,
    settings: SettingsDep,
    now: NowDep,
    body: ScoreRequest,
) -> ScoreResponse:
    """Score members now with the champion model: their latest stored features, or the feature values
    given (what-if). The same model and code as the daily scores (insufficient_history while no
    version has been promoted)."""
    from ml.features import MEMBER_RISK_FEATURES
    from ml.names import MEMBER_RISK_MODEL
    from ml.predict import load_scorer, score_members
    from ml.quality import member_risk_feature_problems

    stored = _stored_features(conn, [m.member_id for m in body.members if m.features is None])
    today = now.date()
    rows = []
    for member in body.members:
        if member.features is None:
            if member.member_id not in stored:
                raise ApiError(404, "unknown_member", f"no stored features for member {member.member_id!r}")
            rows.append(stored[member.member_id])
        else:
            missing = sorted(set(MEMBER_RISK_FEATURES) - set(member.features))
            extra = sorted(set(member.features) - set(MEMBER_RISK_FEATURES))
            if missing or extra:
                raise ApiError(
                    422,
                    "invalid_request",
                    f"member {member.member_id}: features must be exactly {', '.join(MEMBER_RISK_FEATURES)}",
                    {"missing": missing, "unknown": extra},
                )
            rows.append({"member_id": member.member_id, "as_of_date": today, **member.features})
    frame = pd.DataFrame(rows, columns=["member_id", "as_of_date", *MEMBER_RISK_FEATURES])
    frame[MEMBER_RISK_FEATURES] = frame[MEMBER_RISK_FEATURES].astype(float)
    problems = member_risk_feature_problems(frame)
    if problems:
        raise ApiError(422, "invalid_request", "; ".join(problems), problems)
    scored = score_members(load_scorer(MEMBER_RISK_MODEL, settings), frame)
    note_access(request, "model:" + MEMBER_RISK_MODEL, len(scored), {"members": len(scored)}, action="score")
    return ScoreResponse(
        data=[
            RiskScore(
                member_id=row.member_id,
                score_date=pd.Timestamp(row.score_date).date(),
                horizon_days=int(row.horizon_days),
                probability_settlement_fail=None
                if math.isnan(row.probability_settlement_fail)
                else float(row.probability_settlement_fail),
                risk_band=row.risk_band,
                model_name=row.model_name,
                model_version=str(row.model_version),
                top_factors=row.top_factors,
                scored_at=row.scored_at,
            )
            for row in scored.itertuples(index=False)
        ]
    )


def _stored_features(conn: psycopg.Connection, member_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each member's latest row of ml.member_risk_features."""
    if not member_ids:
        return {}
    try:
        cursor = conn.execute(
            "select distinct on (member_id) * from ml.member_risk_features where member_id = any(%s)"
            " order by member_id, as_of_date desc",
            (member_ids,),
        )
    except psycopg.errors.UndefinedTable as missing:
        raise not_scored_yet("member risk features") from missing
    names = [column.name for column in cursor.description]
    records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {record["member_id"]: record for record in records}
