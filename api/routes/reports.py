"""The compliance reports archive (compliance and admin only): the listing and the files."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.deps import ComplianceDep, SettingsDep
from api.errors import AUTHENTICATED_RESPONSES, NOT_FOUND_RESPONSE, ApiError
from api.metering import note_access
from gcx.reports import archive

router = APIRouter(prefix="/v1/reports", tags=["reports"])

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
}


class Report(BaseModel):
    name: str = Field(description="<kind>/<period>/<file>: download it at /v1/reports/<name>.")
    kind: str = Field(description="daily, weekly, monthly or quarterly.")
    period: str = Field(description="e.g. 2026-11-18, 2026-W47, 2026-11, 2026-Q4.")
    period_start: date
    period_end: date
    format: str = Field(description="pdf, xlsx, or csv (a zip of one CSV per section).")
    size_bytes: int
    created_at: datetime
    url: str


class ReportList(BaseModel):
    data: list[Report]
    count: int


@router.get("", response_model=ReportList, responses=AUTHENTICATED_RESPONSES)
def list_reports(
    request: Request,
    principal: ComplianceDep,
    settings: SettingsDep,
    kind: Annotated[
        Literal["daily", "weekly", "monthly", "quarterly"] | None,
        Query(description="Only reports of this kind."),
    ] = None,
    start: Annotated[date | None, Query(description="Only periods ending on or after this day.")] = None,
    end: Annotated[date | None, Query(description="Only periods starting before this day.")] = None,
) -> ReportList:
    """Every archived report, newest period first (daily end-of-day reports; weekly, monthly and
    quarterly summaries), each as PDF, XLSX and zipped CSV."""
    reports = [
        Report(
            name=found.name,
            kind=found.kind,
            period=found.period,
            period_start=found.period_start,
            period_end=found.period_end,
            format=found.format,
            size_bytes=found.size_bytes,
            created_at=found.created_at,
            url=f"/v1/reports/{found.name}",
        )
        for found in archive.list_reports(settings)
        if (kind is None or found.kind == kind)
        and (start is None or found.period_end >= start)
        and (end is None or found.period_start < end)
    ]
    note_access(request, "reports", len(reports), {"kind": kind, "start": str(start), "end": str(end)})
    return ReportList(data=reports, count=len(reports))


@router.get(
    "/{kind}/{period}/{file}",
    response_class=FileResponse,
    responses={
        200: {"description": "The report file.", "content": {media: {} for media in MEDIA_TYPES.values()}},
        **AUTHENTICATED_RESPONSES,
        **NOT_FOUND_RESPONSE,
    },
)
def download_report(
    request: Request,
    principal: ComplianceDep,
    settings: SettingsDep,
    kind: Annotated[str, Path(max_length=16, description="daily, weekly, monthly or quarterly.")],
    period: Annotated[str, Path(max_length=16, description="The period, e.g. 2026-11-18 or 2026-W47.")],
    file: Annotated[str, Path(max_length=128, description="The file name from the listing.")],
) -> FileResponse:
    """One archived report file (names come from the listing; anything else is 404)."""
    name = f"{kind}/{period}/{file}"
    try:
        path = archive.report_path(settings, name)
    except (archive.ReportNameError, FileNotFoundError) as missing:
        raise ApiError(404, "not_found", f"no report {name!r}: see GET /v1/reports") from missing
    report_format = "csv" if path.name.endswith(".zip") else path.suffix.lstrip(".")
    note_access(request, "reports", 1, {"name": name}, action="export")
    return FileResponse(
        path, media_type=MEDIA_TYPES.get(report_format, "application/octet-stream"), filename=path.name
    )
