"""PostgreSQL's CSV COPY read by Arrow, typed as the warehouse declares its columns: the one mapping
of PostgreSQL types to Arrow and the one way to parse what COPY writes. Bulk exports (api/exports.py)
and retention's archives (gcx/governance/retention.py) both read the warehouse this way."""

from __future__ import annotations

import re

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")


def arrow_type(pg_type: str) -> pa.DataType:
    """The Arrow type of a PostgreSQL type as `format_type` prints it (anything unusual is text)."""
    exact = {
        "smallint": pa.int16(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "real": pa.float32(),
        "double precision": pa.float64(),
        "numeric": pa.float64(),  # no declared scale: a float, not a decimal that could not hold it
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp with time zone": pa.timestamp("us", tz="UTC"),
        "timestamp without time zone": pa.timestamp("us"),
    }
    if pg_type in exact:
        return exact[pg_type]
    numeric = NUMERIC.fullmatch(pg_type)
    if numeric and int(numeric.group(1)) <= 38:
        return pa.decimal128(int(numeric.group(1)), int(numeric.group(2)))
    return pa.string()


def set_copy_formats(conn: psycopg.Connection) -> None:
    """Within the current transaction, make COPY write instants in UTC and dates as ISO, which
    `copy_csv_options` parses."""
    conn.execute("set local timezone to 'UTC'")
    conn.execute("set local datestyle to 'ISO, YMD'")


def copy_csv_options(schema: pa.Schema) -> pa_csv.ConvertOptions:
    """How Arrow reads COPY's CSV into `schema`: PostgreSQL writes booleans as t/f and NULL as
    nothing (an empty string as "")."""
    return pa_csv.ConvertOptions(
        column_types={field.name: field.type for field in schema},
        true_values=["t"],
        false_values=["f"],
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
