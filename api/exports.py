"""Bulk exports of a catalog dataset as CSV or Parquet, written once to a file so that their size and
row count are known before the download starts (`Content-Length`, `X-Row-Count`, and `HEAD`).

    <GCX_HOME>/exports/<dataset>/<sha256 of the query>.csv|.parquet   the export
    <GCX_HOME>/exports/<dataset>/<sha256 of the query>.json           its row count and parameters

A file is written under a temporary name and renamed into place (a reader never sees half of it);
the same export asked again within `REUSE_S` (a HEAD then its GET) is served from the same file, and
files older than that are removed when the next export of the dataset is written.

CSV is PostgreSQL's own `COPY (select ...) TO STDOUT WITH CSV HEADER`, streamed to the file in
chunks. Parquet is made from that same COPY, piped into Arrow's streaming CSV reader and written a
block at a time with the column types the warehouse declares (numeric(p, s) as decimal, instants as
UTC microseconds): memory stays bounded by the block size whatever the export's length, and Arrow's
C++ parser keeps up with the COPY (faster than converting rows in Python, or parsing binary COPY). Rows are in the dataset's stable order (time axis, then its key).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

from api.catalog.models import Dataset
from gcx.files import write_atomically
from gcx.governance.retention import copy_parquet_into
from gcx.postgres_arrow import arrow_type, copy_csv_options, set_copy_formats

REUSE_S = 300.0
"""How long an export file is served again for the same query (a HEAD, then its GET)."""
COPY_CHUNK_BYTES = 1 << 20
ARROW_BLOCK_BYTES = 16 << 20
"""Arrow reads the CSV this many bytes at a time: the Parquet writer's memory bound."""


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.parquet: "application/vnd.apache.parquet",
}


@dataclass(frozen=True)
class ExportFile:
    path: Path
    rows: int
    size: int
    media_type: str
    filename: str


@dataclass(frozen=True)
class ExportQuery:
    """What is exported: a dataset's columns, in its stable order, within a window and symbols."""

    dataset: Dataset
    start: datetime | None = None
    """Inclusive; None: from the first row."""
    end: datetime | None = None
    """Exclusive; None: to the last row."""
    symbols: list[str] | None = None
    key_id: str | None = None
    """Only this API key's rows (the dataset's key column); None: every row."""

    def statement(self) -> sql.Composed:
        conditions: list[sql.Composable] = []
        if self.start is not None or self.end is not None:
            time_axis: sql.Composable = sql.Identifier(self.dataset.time_column)
            if not self.dataset.is_time_instant:  # a day is in [start, end) when its 00:00 UTC is
                time_axis = sql.SQL("({}::timestamp at time zone 'UTC')").format(time_axis)
            if self.start is not None:
                conditions.append(sql.SQL("{} >= %(start)s").format(time_axis))
            if self.end is not None:
                conditions.append(sql.SQL("{} < %(end)s").format(time_axis))
        if self.symbols is not None:
            conditions.append(
                sql.SQL("{} = any(%(symbols)s)").format(sql.Identifier(self.dataset.symbol_column))
            )
        if self.key_id is not None:
            conditions.append(sql.SQL("{} = %(key_id)s").format(sql.Identifier(self.dataset.key_column)))
        return sql.SQL("select {columns} from {relation}{where} order by {order}").format(
            columns=sql.SQL(", ").join(sql.Identifier(name) for name in self.dataset.column_names),
            relation=self.dataset.relation,
            where=sql.SQL(" where ") + sql.SQL(" and ").join(conditions) if conditions else sql.SQL(""),
            order=sql.SQL(", ").join(sql.Identifier(name) for name in self.dataset.order_by),
        )

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.start is not None:
            params["start"] = self.start
        if self.end is not None:
            params["end"] = self.end
        if self.symbols is not None:
            params["symbols"] = self.symbols
        if self.key_id is not None:
            params["key_id"] = self.key_id
        return params

    def describe(self) -> dict[str, Any]:
        """The parameters as recorded in the audit log and hashed into the file name."""
        return {
            "dataset": self.dataset.id,
            "relation": f"{self.dataset.schema}.{self.dataset.table}",
            "columns": self.dataset.column_names,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "symbols": sorted(self.symbols) if self.symbols is not None else None,
            "key_id": self.key_id,
        }


def prepare_export(
    conn: psycopg.Connection, exports_dir: Path, query: ExportQuery, output: ExportFormat
) -> ExportFile:
    """The export file for the query, written now unless an identical one is recent enough."""
    parameters = query.describe() | {"format": output.value}
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:32]
    folder = exports_dir / query.dataset.id
    path, meta_path = folder / f"{digest}.{output.value}", folder / f"{digest}.json"
    meta = _read_meta(meta_path)
    if meta is None or not path.is_file() or time.time() - path.stat().st_mtime > REUSE_S:
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale(folder)
        temporary = folder / f".{digest}.{uuid.uuid4().hex}.tmp"
        try:
            rows = (
                write_csv(conn, query, temporary)
                if output is ExportFormat.csv
                else write_parquet(conn, query, temporary)
            )
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        meta = {"rows": rows, "parameters": parameters}
        write_atomically(meta_path, json.dumps(meta).encode())
    stamp = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y%m%dT%H%M%S")
    return ExportFile(
        path=path,
        rows=meta["rows"],
        size=path.stat().st_size,
        media_type=MEDIA_TYPES[output],
        filename=f"gcx_{query.dataset.id}_{stamp}.{output.value}",
    )


def write_csv(conn: psycopg.Connection, query: ExportQuery, path: Path) -> int:
    """The query's rows as CSV with a header in `path`; the number of rows."""
    with path.open("wb") as sink:
        return copy_csv(conn, query, sink)


def copy_csv(conn: psycopg.Connection, query: ExportQuery, sink: BinaryIO) -> int:
    """COPY the query's rows to `sink` as CSV with a header, a chunk at a time; the number of rows."""
    with conn.transaction():
        set_copy_formats(conn)
        query = include_archived_partitions(conn, query)  # partitions retention moved to the lake
        statement = sql.SQL("copy ({}) to stdout with (format csv, header)").format(query.statement())
        with conn.cursor() as cursor:
            with cursor.copy(statement, query.params()) as copy:
                buffer = bytearray()
                for chunk in copy:
                    buffer += chunk
                    if len(buffer) >= COPY_CHUNK_BYTES:
                        sink.write(buffer)
                        buffer.clear()
                sink.write(buffer)
            return cursor.rowcount


def write_parquet(conn: psycopg.Connection, query: ExportQuery, path: Path) -> int:
    """The query's rows as Parquet in `path`, typed as the warehouse declares them; the number of rows.

    The COPY's CSV goes through a pipe to Arrow's streaming reader: the COPY (in a thread) and the
    parsing and writing (here) run at the same time, and neither holds more than a block."""
    schema = arrow_schema(query.dataset)
    read_end, write_end = os.pipe()
    failures: list[BaseException] = []

    def produce() -> None:
        try:
            with open(write_end, "wb") as sink:
                copy_csv(conn, query, sink)
        except BaseException as error:  # re-raised below, once the reader has stopped
            failures.append(error)

    producer = threading.Thread(target=produce, name="export-copy", daemon=True)
    producer.start()
    rows = 0
    try:
        with open(read_end, "rb") as source:  # closing it first stops a producer that is still writing
            reader = pa_csv.open_csv(
                source,
                read_options=pa_csv.ReadOptions(block_size=ARROW_BLOCK_BYTES),
                convert_options=copy_csv_options(schema),
            )
            # decimals of up to 18 digits stored as integers: read back the same, written 2-3x faster
            with pq.ParquetWriter(path, schema, store_decimal_as_integer=True) as writer:
                for batch in reader:
                    writer.write_batch(batch)
                    rows += batch.num_rows
    finally:
        producer.join()
    if failures:  # the COPY failed: what Arrow read may be a prefix of the rows
        raise failures[0]
    return rows


def arrow_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema([pa.field(column.name, arrow_type(column.type)) for column in dataset.columns])


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return None


def _remove_stale(folder: Path) -> None:
    """Exports (and abandoned temporary files) older than twice `REUSE_S`: a download that started
    before keeps its open file whatever happens to the name."""
    cutoff = time.time() - 2 * REUSE_S
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


EXPORT_SOURCE = "gcx_export_source"
ARCHIVED_ROWS = "gcx_archived_rows"


def include_archived_partitions(conn: psycopg.Connection, query: ExportQuery) -> ExportQuery:
    """The export query over the warehouse's rows plus the archived partitions its window reaches.

    Must run inside the export's transaction: the archived rows are loaded into a temporary table
    (dropped at commit) and the query reads a temporary view of both. Unchanged when nothing
    archived is reached (or nothing was ever archived)."""
    dataset = query.dataset
    if conn.execute("select to_regclass('governance.archived_partitions')").fetchone()[0] is None:
        return query
    archived = conn.execute(
        """
        select partition_date, partition_column, path from governance.archived_partitions
        where schema_name = %(schema)s and table_name = %(table)s
          and (%(first)s::date is null or partition_date >= %(first)s::date)
          and (%(last)s::date is null or partition_date <= %(last)s::date)
        order by partition_date
        """,
        {
            "schema": dataset.schema,
            "table": dataset.table,
            "first": query.start.astimezone(UTC).date() if query.start else None,
            "last": query.end.astimezone(UTC).date() if query.end else None,
        },
    ).fetchall()
    if not archived:
        return query
    relation = sql.Identifier(dataset.schema, dataset.table)
    column = sql.Identifier(archived[0][1])
    in_warehouse = {
        row[0]
        for row in conn.execute(
            sql.SQL("select distinct {} from {} where {} = any(%s)").format(column, relation, column),
            ([day for day, _, _ in archived],),
        )
    }
    files = [Path(path) for day, _, path in archived if day not in in_warehouse]  # the warehouse wins
    if not files:
        return query
    staged = sql.Identifier(ARCHIVED_ROWS)
    conn.execute(sql.SQL("create temporary table {} (like {}) on commit drop").format(staged, relation))
    for path in files:
        copy_parquet_into(conn, staged, path)
    conn.execute(
        sql.SQL("create temporary view {} as select * from {} union all select * from {}").format(
            sql.Identifier(EXPORT_SOURCE), relation, staged
        )
    )
    both = replace(dataset, schema="pg_temp", table=EXPORT_SOURCE)
    return replace(query, dataset=both)
