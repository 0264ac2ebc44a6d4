"""Render one page of rows as JSON, CSV or Parquet: the same columns, in the same order, in each.

    BAR_COLUMNS = columns_of(Bar)   # or (Column("symbol", pa.string()), Column("bar_start_at", TIMESTAMP), ...)

    @router.get("/v1/bars", response_model=Page[Bar], responses={200: page_responses(), ...})
    def bars(request: Request, output: OutputFormat = OutputFormat.json, ...) -> Response:
        rows = conn.execute("select ...").fetchall()           # tuples, in column order
        return render_page(request, rows, BAR_COLUMNS, output, next_cursor=..., envelope={...})

Rows go straight from psycopg to the encoder: no per-row pydantic validation, so a page of 50,000
bars costs milliseconds, not seconds. The route's `response_model` still documents the JSON shape
(`{"data": [...], "count", "next_cursor", **envelope}`, the `Page` model of api/models.py); FastAPI
does not re-validate a `Response` a route returns.

What a row may hold: str, int, float, bool, None, `date`, and `datetime` (naive means UTC: select
`ts at time zone 'UTC'` and the result does not depend on the session's TimeZone). Cast `numeric`
columns to `float8` in SQL: Decimal is neither JSON nor cheap.

In every format the next page's cursor is in the `X-Next-Cursor` header and in
`Link: <url>; rel="next"` (absent on the last page); JSON also has it in the body (`next_cursor`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi import Request, Response
from pydantic import BaseModel

from api.params import OutputFormat

TIMESTAMP = pa.timestamp("us", tz="UTC")
"""Arrow type of every instant: microseconds (the warehouse's precision), UTC."""

MEDIA_TYPES = {
    OutputFormat.json: "application/json",
    OutputFormat.csv: "text/csv",  # Starlette adds "; charset=utf-8"
    OutputFormat.parquet: "application/vnd.apache.parquet",
}

NEXT_CURSOR_HEADER = "X-Next-Cursor"
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""ISO-8601 like the JSON (Arrow's %S carries the microseconds): 2026-11-20T10:00:00.000000Z."""

_JSON_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


@dataclass(frozen=True)
class Column:
    """One output column: its name and its Arrow type (the Parquet type; CSV and JSON follow it)."""

    name: str
    type: pa.DataType


_ARROW_TYPES: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    datetime: TIMESTAMP,
    date: pa.date32(),
}


def columns_of(model: type[BaseModel]) -> tuple[Column, ...]:
    """The columns of a response model, in its field order: the route's `response_model` and its
    CSV/Parquet columns are then one definition. `X | None` is X (nullable); a Literal of strings is
    a string."""
    return tuple(
        Column(name, _arrow_type(field.annotation, name)) for name, field in model.model_fields.items()
    )


def _arrow_type(annotation: Any, name: str) -> pa.DataType:
    if get_origin(annotation) in (Union, UnionType):
        (annotation,) = [arg for arg in get_args(annotation) if arg is not type(None)]
    if get_origin(annotation) is Literal:
        annotation = type(get_args(annotation)[0])
    if annotation not in _ARROW_TYPES:
        raise TypeError(f"field {name}: no column type for {annotation!r}")
    return _ARROW_TYPES[annotation]


def arrow_table(rows: Sequence[Sequence[Any]], columns: Sequence[Column]) -> pa.Table:
    """The rows (tuples in column order) as an Arrow table with the columns' types."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pa.table(
        [pa.array(column_values, column.type) for column_values, column in zip(values, columns, strict=True)],
        schema=pa.schema([pa.field(column.name, column.type) for column in columns]),
    )


def encode(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[Column],
    output: OutputFormat,
    envelope: dict[str, Any] | None = None,
) -> bytes:
    """The body of a page: JSON `{"data": [...], "count", **envelope}`, CSV with a header, or Parquet."""
    if output is OutputFormat.json:
        names = [column.name for column in columns]
        body = {"data": [dict(zip(names, row, strict=True)) for row in rows], "count": len(rows)}
        return orjson.dumps(body | (envelope or {}), default=_json_default, option=_JSON_OPTIONS)
    table = arrow_table(rows, columns)
    sink = io.BytesIO()
    if output is OutputFormat.csv:
        pa_csv.write_csv(_timestamps_as_iso(table), sink)
    else:
        pq.write_table(table, sink)
    return sink.getvalue()


def render_page(
    request: Request,
    rows: Sequence[Sequence[Any]],
    columns: Sequence[Column],
    output: OutputFormat,
    *,
    next_cursor: str | None,
    envelope: dict[str, Any] | None = None,
    filename: str = "data",
) -> Response:
    """The HTTP response for one page. `envelope` adds fields to the JSON body (e.g. the window's
    start and end); `next_cursor` goes in the body (JSON), the `X-Next-Cursor` header and `Link`."""
    headers: dict[str, str] = {}
    if next_cursor is not None:
        headers[NEXT_CURSOR_HEADER] = next_cursor
        headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
    if output is not OutputFormat.json:
        headers["Content-Disposition"] = f'attachment; filename="{filename}.{output.value}"'
    body = encode(rows, columns, output, {"next_cursor": next_cursor} | (envelope or {}))
    return Response(body, media_type=MEDIA_TYPES[output], headers=headers)


def page_responses(description: str = "One page of rows.") -> dict[int | str, dict[str, Any]]:
    """OpenAPI for a route answered by `render_page`: the CSV and Parquet content types and the
    paging headers (the JSON schema comes from the route's `response_model`). Use as
    `responses={200: page_responses(), **AUTHENTICATED_RESPONSES}`."""
    return {
        "description": (
            f"{description} JSON by default; `format=csv` or `format=parquet` give the same columns in "
            "the same order (Parquet typed: timestamps are UTC microseconds)."
        ),
        "content": {
            MEDIA_TYPES[OutputFormat.csv]: {"schema": {"type": "string"}},
            MEDIA_TYPES[OutputFormat.parquet]: {"schema": {"type": "string", "format": "binary"}},
        },
        "headers": {
            NEXT_CURSOR_HEADER: {
                "description": "The cursor of the next page (pass it as `cursor`); absent on the last page.",
                "schema": {"type": "string"},
            },
            "Link": {
                "description": 'The next page\'s URL: `<url>; rel="next"`; absent on the last page.',
                "schema": {"type": "string"},
            },
        },
    }


def _timestamps_as_iso(table: pa.Table) -> pa.Table:
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            iso = pc.strftime(table.column(index), format=CSV_TIMESTAMP_FORMAT)
            table = table.set_column(index, field.name, iso)
    return table


def _json_default(value: Any) -> Any:
    """What orjson cannot encode itself: Decimal (as a float)."""
    if hasattr(value, "as_integer_ratio"):
        return float(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")
