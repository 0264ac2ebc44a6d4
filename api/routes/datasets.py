"""The dataset catalog and bulk exports.

`GET /v1/datasets` lists every dataset the caller may know of (compliance marts are listed to all,
with the roles they need; restricted marts, which hold clear PII, only to compliance and admin);
`GET /v1/datasets/{id}` adds the condition of every day of its coverage and sample rows;
`GET|HEAD /v1/datasets/{id}/export` serves a CSV or Parquet file whose size and row count are known
before the first byte (pro tier). What the entries say is built in api/catalog/, the files in
api/exports.py.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.catalog.build import Catalog, sample_rows, visible_facts
from api.catalog.models import Dataset, DayQuality
from api.deps import BulkExportDep, ConnDep, NowDep, PrincipalDep, check_tier
from api.errors import AUTHENTICATED_RESPONSES, NOT_FOUND_RESPONSE, ApiError
from api.export_quota import count_export, export_slot
from api.exports import MEDIA_TYPES, ExportFormat, ExportQuery, prepare_export
from api.metering import note_access
from api.params import TIMESTAMP_HELP, SymbolsQuery, parse_symbols, tier_window
from api.routes.reference import require_known_symbols
from gcx.access.entitlements import tier_at_least
from gcx.access.keys import Principal

router = APIRouter(prefix="/v1", tags=["datasets"])

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROW_COUNT_HEADER = "X-Row-Count"


class DatasetField(BaseModel):
    name: str
    type: str = Field(description="The warehouse type, e.g. `numeric(14,4)`, `timestamp with time zone`.")
    unit: str | None = Field(
        description="From the column's name: GHS/t, GHS, t (tonnes), UTC instant, UTC date, ms..."
    )
    description: str | None
    pii: Literal["none", "masked", "clear"] = Field(
        description="`masked`: a salted hash of personal data (`*_hash`); `clear`: personal data in clear "
        "(restricted datasets only, compliance and admin roles)."
    )


class LineageNode(BaseModel):
    asset_key: list[str] = Field(description="The Dagster asset key, `[schema, table]`.")
    dataset_id: str | None = Field(description="Its id in this catalog, when it is a dataset here.")


class Lineage(BaseModel):
    asset_key: list[str] = Field(description="This dataset's Dagster asset key, `[schema, model]`.")
    upstream: list[LineageNode] = Field(description="What it is built from (dbt depends_on).")
    downstream: list[LineageNode] = Field(description="What is built from it.")


class Access(BaseModel):
    tier_needed: str = Field(description="The lowest tier that may read it (samples, detail).")
    roles_allowed: list[str]
    export_tier_needed: str = Field("pro", description="Bulk export needs the pro tier (and the roles).")
    readable: bool = Field(description="Whether this key may read it.")


class Coverage(BaseModel):
    time_column: str | None = Field(description="The time axis; null for a dataset without one.")
    first_at: datetime | None
    last_at: datetime | None = Field(description="On the free tier, the last instant it may see.")


class Freshness(BaseModel):
    last_loaded_at: datetime | None = Field(
        description="Latest load of the source rows it holds (`_loaded_at`)."
    )
    last_built_at: datetime | None = Field(description="Last materialization by Dagster.")
    age_s: float | None = Field(description="Seconds since last_loaded_at (else last_built_at).")


class Quality(BaseModel):
    checks_passed: int = Field(description="Per-day checks passed over the coverage, plus dbt tests passed.")
    checks_total: int
    score: float | None = Field(description="checks_passed / checks_total.")
    days_available: int
    days_degraded: int
    days_missing: int = Field(description="Days of the coverage no check looked at.")
    dbt_tests_passed: int = Field(description="The dbt tests on it, as last evaluated in Dagster.")
    dbt_tests_total: int


class DayCondition(BaseModel):
    date: date
    condition: Literal["available", "degraded", "missing"] = Field(
        description="available: every check passed; degraded: one failed; missing: no check result that day."
    )
    checks_passed: int
    checks_total: int


class ModelState(BaseModel):
    name: str = Field(description="The registered model (MLflow) that writes the dataset.")
    champion_version: str | None = Field(description="The version that scores; null before any was promoted.")
    note: str | None = Field(
        description="What the last training run decided and why, e.g. '1 day(s) of features < 2 needed (...): "
        "kept champion v4'; null before the first run."
    )
    decided_at: datetime | None


class DatasetSummary(BaseModel):
    id: str = Field(description="Stable id, e.g. `trades`, `ohlcv_1m`, `daily_summary`, `large_trades`.")
    title: str
    description: str = Field(description="The dbt model's description.")
    owner: str | None = Field(description="dbt group owner (`team:...`), as in Dagster.")
    access: Access
    row_count: int | None = Field(description="Rows the key may see; null when it may not read the dataset.")
    coverage: Coverage | None
    freshness: Freshness
    quality: Quality
    fields: list[DatasetField]
    lineage: Lineage
    model: ModelState | None = Field(
        None, description="For the datasets a model writes (surveillance alerts, member risk scores)."
    )


class DatasetList(BaseModel):
    data: list[DatasetSummary]
    count: int


class DatasetDetail(DatasetSummary):
    days: list[DayCondition] = Field(description="The condition of every day of the coverage, oldest first.")
    sample: list[dict[str, Any]] = Field(
        description="The newest rows the key may see (up to 10; its tier's delay and history apply; clear PII masked)."
    )


DatasetIdPath = Annotated[
    str,
    Path(
        description="A dataset id from GET /v1/datasets.",
        examples=["trades", "ohlcv_1m"],
        pattern=r"^[a-z0-9_]{1,64}$",
    ),
]

_catalog_lock = threading.Lock()


def catalog_of(request: Request) -> Catalog:
    """The app's catalog (one per app, built on first use)."""
    with _catalog_lock:
        if getattr(request.app.state, "catalog", None) is None:
            request.app.state.catalog = Catalog(request.app.state.settings)
        return request.app.state.catalog


def find_dataset(
    request: Request, conn: psycopg.Connection, dataset_id: str, principal: Principal
) -> Dataset:
    datasets = catalog_of(request).get(conn)
    dataset = datasets.get(dataset_id)
    if dataset is None:
        raise ApiError(
            404,
            "unknown_dataset",
            f"no dataset {dataset_id!r}; GET /v1/datasets lists them",
            {"dataset": dataset_id},
        )
    if not dataset.readable_by(principal.role):
        raise ApiError(
            403,
            "role_not_allowed",
            f"dataset {dataset_id} is for the {', '.join(sorted(dataset.roles))} roles (this key is {principal.role})",
            {"role": principal.role, "allowed_roles": sorted(dataset.roles)},
        )
    return dataset


def require_tier(dataset: Dataset, principal: Principal) -> None:
    check_tier(principal, dataset.tier, f"dataset {dataset.id}")


def summary(
    dataset: Dataset, principal: Principal, conn: psycopg.Connection, now: datetime
) -> dict[str, Any]:
    readable = dataset.readable_by(principal.role) and tier_at_least(principal.tier, dataset.tier)
    row_count, last_at = visible_facts(dataset, conn, principal.tier.name, now) if readable else (None, None)
    days = visible_days(dataset, last_at)
    day_checks = sum(day.checks_total for day in days), sum(day.checks_passed for day in days)
    checks_total, checks_passed = (
        day_checks[0] + dataset.dbt_tests_total,
        day_checks[1] + dataset.dbt_tests_passed,
    )
    freshest = dataset.last_loaded_at or dataset.last_built_at
    return {
        "id": dataset.id,
        "title": dataset.title,
        "description": dataset.description,
        "owner": dataset.owner,
        "access": {"tier_needed": dataset.tier, "roles_allowed": sorted(dataset.roles), "readable": readable},
        "row_count": row_count,
        "coverage": {"time_column": dataset.time_column, "first_at": dataset.first_at, "last_at": last_at}
        if readable
        else None,
        "freshness": {
            "last_loaded_at": dataset.last_loaded_at,
            "last_built_at": dataset.last_built_at,
            "age_s": (now - freshest).total_seconds() if freshest else None,
        },
        "quality": {
            "checks_passed": checks_passed,
            "checks_total": checks_total,
            "score": round(checks_passed / checks_total, 4) if checks_total else None,
            "days_available": sum(day.condition == "available" for day in days),
            "days_degraded": sum(day.condition == "degraded" for day in days),
            "days_missing": sum(day.condition == "missing" for day in days),
            "dbt_tests_passed": dataset.dbt_tests_passed,
            "dbt_tests_total": dataset.dbt_tests_total,
        },
        "model": dataset.model,
        "fields": [vars(column) for column in dataset.columns],
        "lineage": {
            "asset_key": list(dataset.asset_key),
            "upstream": [
                {"asset_key": list(n.asset_key), "dataset_id": n.dataset_id} for n in dataset.upstream
            ],
            "downstream": [
                {"asset_key": list(n.asset_key), "dataset_id": n.dataset_id} for n in dataset.downstream
            ],
        },
    }


def visible_days(dataset: Dataset, last_at: datetime | None) -> list[DayQuality]:
    """The day conditions up to the last instant the key may see (all of them for a dataset without a
    time axis)."""
    if dataset.time_column is None:
        return dataset.days
    if last_at is None:
        return []
    return [day for day in dataset.days if day.day <= last_at.astimezone(UTC).date()]


@router.get("/datasets", response_model=DatasetList, responses=AUTHENTICATED_RESPONSES)
def list_datasets(request: Request, principal: PrincipalDep, conn: ConnDep, now: NowDep) -> dict[str, Any]:
    """Every dataset this key may know of: trading marts (trades, OHLCV bars, daily summary,
    instruments, orders, settlements...), the live trades, platform and executive marts, and the
    compliance marts (listed to every role with the roles they need; readable by compliance and
    admin only). Each with owner, access, schema, coverage, freshness, row count, quality and
    lineage; the per-day condition and sample rows are in GET /v1/datasets/{id}."""
    datasets = catalog_of(request).get(conn)
    entries = [
        summary(dataset, principal, conn, now)
        for dataset in datasets.values()
        if dataset.listed_to(principal.role)
    ]
    note_access(request, "catalog", len(entries))
    return {"data": entries, "count": len(entries)}


@router.get(
    "/datasets/{dataset_id}",
    response_model=DatasetDetail,
    responses={**AUTHENTICATED_RESPONSES, **NOT_FOUND_RESPONSE},
)
def get_dataset(
    request: Request, principal: PrincipalDep, conn: ConnDep, now: NowDep, dataset_id: DatasetIdPath
) -> dict[str, Any]:
    """One dataset's full entry: the condition of every day of its coverage (`missing` when no
    check looked at a day) and up to 10 sample rows within the key's tier window."""
    dataset = find_dataset(request, conn, dataset_id, principal)
    require_tier(dataset, principal)
    entry = summary(dataset, principal, conn, now)
    sample = sample_rows(dataset, conn, principal, now)
    entry["days"] = [
        {
            "date": d.day,
            "condition": d.condition,
            "checks_passed": d.checks_passed,
            "checks_total": d.checks_total,
        }
        for d in visible_days(dataset, entry["coverage"]["last_at"])
    ]
    entry["sample"] = sample
    note_access(request, dataset.id, len(sample), {"sample": True})
    return entry


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The export file: CSV with a header (PostgreSQL's COPY) or Parquet (typed as the "
        "warehouse declares: decimals, UTC microsecond instants), in the dataset's stable order.",
        "content": {
            MEDIA_TYPES[ExportFormat.csv]: {"schema": {"type": "string"}},
            MEDIA_TYPES[ExportFormat.parquet]: {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {
            "Content-Length": {"description": "The file's size in bytes.", "schema": {"type": "integer"}},
            ROW_COUNT_HEADER: {
                "description": "Rows in the file (header line not counted).",
                "schema": {"type": "integer"},
            },
        },
    },
    **AUTHENTICATED_RESPONSES,
    **NOT_FOUND_RESPONSE,
}


def export_file(
    request: Request,
    principal: Principal,
    conn: psycopg.Connection,
    now: datetime,
    dataset_id: str,
    start: str | None,
    end: str | None,
    symbol: str | None,
    output: ExportFormat,
) -> tuple[FileResponse, ExportQuery, int]:
    dataset = find_dataset(request, conn, dataset_id, principal)
    require_tier(dataset, principal)
    query = ExportQuery(dataset, key_id=dataset.only_key(principal))
    asks_window = start is not None or end is not None
    if asks_window and dataset.time_column is None:
        raise ApiError(422, "invalid_request", f"dataset {dataset.id} has no time axis: omit start and end")
    tier = principal.tier
    if dataset.time_column is not None and (asks_window or tier.delay or tier.history is not None):
        oldest = tier.history_starts(now) or EPOCH
        window = tier_window(principal, start or oldest.isoformat(), end, now)  # as history: refused, not cut
        open_ended = end is None and not tier.delay  # to the last row, whenever the file is made
        query = replace(query, start=window.start, end=None if open_ended else window.end)
    symbols = parse_symbols(symbol)
    if symbols is not None:
        if dataset.symbol_column is None:
            raise ApiError(422, "invalid_request", f"dataset {dataset.id} has no symbol column: omit symbol")
        require_known_symbols(conn, symbols)
        query = replace(query, symbols=symbols)
    with export_slot(conn, principal):
        count_export(conn, principal, now)
        try:
            exported = prepare_export(
                conn, request.app.state.settings.home.resolve() / "exports", query, output
            )
        except OSError as error:  # the exports folder is full or not writable: nothing was served
            raise ApiError(
                503,
                "export_unavailable",
                f"the export could not be written ({error.strerror or error}); retry later",
                headers={"Retry-After": "60"},
            ) from error
    response = FileResponse(
        exported.path,
        media_type=exported.media_type,
        filename=exported.filename,
        headers={ROW_COUNT_HEADER: str(exported.rows)},
    )
    return response, query, exported.rows


StartQuery = Annotated[
    str | None,
    Query(
        description=f"Window start, inclusive (on the dataset's time axis). {TIMESTAMP_HELP} Default: its first row.",
        examples=["2026-11-18T00:00:00Z"],
    ),
]
EndQuery = Annotated[
    str | None,
    Query(
        description=f"Window end, exclusive. {TIMESTAMP_HELP} Default: its last row.",
        examples=["2026-11-19T00:00:00Z"],
    ),
]
FormatQuery = Annotated[
    ExportFormat, Query(alias="format", description="csv (default) or parquet.", examples=["parquet"])
]


@router.get("/datasets/{dataset_id}/export", response_class=FileResponse, responses=EXPORT_RESPONSES)
def export_dataset(
    request: Request,
    principal: BulkExportDep,
    conn: ConnDep,
    now: NowDep,
    dataset_id: DatasetIdPath,
    start: StartQuery = None,
    end: EndQuery = None,
    symbol: SymbolsQuery = None,
    output: FormatQuery = ExportFormat.csv,
) -> FileResponse:
    """A bulk export of the dataset's rows in [start, end) (pro tier; compliance datasets also need the
    compliance or admin role): its size (`Content-Length`) and rows (`X-Row-Count`) are sent before the
    body, and `HEAD` gives them without it. The file is written once and served again for the same
    query for 5 minutes. A pro key may make 200 export requests (GET or HEAD) per UTC day and have 2
    exports written at once; beyond either, 429 with `retry_after_s`."""
    response, query, rows = export_file(request, principal, conn, now, dataset_id, start, end, symbol, output)
    note_access(request, dataset_id, rows, query.describe() | {"format": output.value}, action="export")
    return response


@router.head("/datasets/{dataset_id}/export", response_class=FileResponse, responses=EXPORT_RESPONSES)
def export_dataset_headers(
    request: Request,
    principal: BulkExportDep,
    conn: ConnDep,
    now: NowDep,
    dataset_id: DatasetIdPath,
    start: StartQuery = None,
    end: EndQuery = None,
    symbol: SymbolsQuery = None,
    output: FormatQuery = ExportFormat.csv,
) -> FileResponse:
    """The headers GET would send (`Content-Length`, `X-Row-Count`), without the body: the export is
    prepared, and the GET that follows with the same parameters is served from it."""
    response, _, _ = export_file(request, principal, conn, now, dataset_id, start, end, symbol, output)
    return response
