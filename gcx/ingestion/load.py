"""Loading a lake partition into the warehouse's raw schema: valid rows to raw, the others to quarantine.

A partition is loaded in one transaction: its earlier rows are deleted from ``raw.<table>`` and
``raw.quarantine``, the lake file is validated batch by batch, valid rows are COPYed to raw and
the others to the quarantine with their reasons, and ``raw.ingestion_log`` records the counts.
Loading twice gives the same result as loading once, and a failed load leaves the previous one in
place. An advisory lock per (table, partition) serialises two runs of the same partition.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

from gcx.ingestion import lake
from gcx.ingestion.datasets import Dataset
from gcx.ingestion.extract import LINE
from gcx.ingestion.validate import READ_ERROR, SOURCE_ROW, Reference, find_duplicates, validate

BATCH_ROWS = 100_000
"""Rows validated and copied at a time: bounds memory whatever the partition's size."""
LINEAGE_COLUMNS = ("_partition_date", "_lake_file", "_source_row")
QUARANTINE_COLUMNS = (
    "source",
    "dataset",
    "partition_date",
    "source_file",
    "source_row",
    "record_key",
    "reason",
    "record",
)


@dataclass(frozen=True)
class LoadResult:
    """The counts of one partition's load, as written to raw.ingestion_log."""

    source_rows: int
    lake_rows: int
    raw_rows: int
    quarantined_rows: int
    lake_file: str
    """Relative to the lake."""


def load_partition(
    conn: psycopg.Connection, dataset: Dataset, day: date, lake_dir: Path, reference: Reference | None = None
) -> LoadResult:
    """Replace the partition `day` of `dataset` in raw and quarantine with the lake file's rows."""
    path = lake.partition_path(lake_dir, dataset.source, dataset.name, day)
    if not path.is_file():
        raise FileNotFoundError(
            f"no lake file for {dataset.table} on {day}: {path} (materialize its bronze asset first)"
        )
    described, parquet = lake.open_partition(path)
    lake_file = path.relative_to(lake_dir).as_posix()
    # where a quarantined row can be found: the landing file for drops, the lake file for the exchange
    source_file = described.origin if dataset.file_format else lake_file
    duplicate_of = _duplicates(parquet, dataset)
    raw_rows = quarantined_rows = 0
    with conn.transaction():
        conn.execute("set local time zone 'UTC'")
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"raw.{dataset.table}/{day}",))
        conn.execute(
            sql.SQL("delete from raw.{} where _partition_date = %s").format(sql.Identifier(dataset.table)),
            (day,),
        )
        conn.execute(
            "delete from raw.quarantine where source = %s and dataset = %s and partition_date = %s",
            (dataset.source, dataset.name, day),
        )
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
            verdict = validate(
                batch,
                dataset.columns,
                dataset.rules,
                reference,
                key=dataset.key,
                duplicate_of=duplicate_of,
                partition_day=day,
            )
            raw_rows += _copy_valid(conn, dataset, batch.filter(pa.array(verdict.valid)), day, lake_file)
            quarantined_rows += _copy_quarantined(conn, dataset, batch, verdict.reasons, day, source_file)
        result = LoadResult(
            source_rows=described.source_rows,
            lake_rows=described.rows,
            raw_rows=raw_rows,
            quarantined_rows=quarantined_rows,
            lake_file=lake_file,
        )
        conn.execute(
            """
            insert into raw.ingestion_log
                (source, dataset, partition_date, source_rows, lake_rows, raw_rows, quarantined_rows, lake_file)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (source, dataset, partition_date) do update set
                source_rows = excluded.source_rows, lake_rows = excluded.lake_rows,
                raw_rows = excluded.raw_rows, quarantined_rows = excluded.quarantined_rows,
                lake_file = excluded.lake_file, loaded_at = now()
            """,
            (
                dataset.source,
                dataset.name,
                day,
                result.source_rows,
                result.lake_rows,
                raw_rows,
                quarantined_rows,
                lake_file,
            ),
        )
    return result


def _duplicates(parquet: pq.ParquetFile, dataset: Dataset) -> dict[int, int]:
    """Later occurrences of a key anywhere in the partition (batches alone cannot see across batches)."""
    has_read_errors = READ_ERROR in parquet.schema_arrow.names  # lake files of exchange tables before 2026-11
    columns = [dataset.key, SOURCE_ROW] + ([READ_ERROR] if has_read_errors else [])
    table = parquet.read(columns=columns)
    if table.num_rows == 0:
        return {}
    keys = pd.Series(table.column(dataset.key).cast(pa.string()).to_pandas(), dtype=object)
    rows = pd.Series(table.column(SOURCE_ROW).to_numpy())
    readable = (
        pd.Series(np.asarray(table.column(READ_ERROR).is_null()))
        if has_read_errors
        else pd.Series(True, index=rows.index)
    )
    return find_duplicates(keys, rows, readable)


def _copy_valid(
    conn: psycopg.Connection, dataset: Dataset, rows: pa.RecordBatch, day: date, lake_file: str
) -> int:
    """COPY valid rows into raw.<table>, with their lineage; file text is typed by PostgreSQL itself."""
    if rows.num_rows == 0:
        return 0
    names = [column.name for column in dataset.columns]
    table = pa.Table.from_batches([rows]).select(names)
    table = table.append_column("_partition_date", pa.array([day] * rows.num_rows, pa.date32()))
    table = table.append_column("_lake_file", pa.array([lake_file] * rows.num_rows, pa.string()))
    table = table.append_column("_source_row", rows.column(SOURCE_ROW))
    buffer = io.BytesIO()
    pa_csv.write_csv(_utc_as_naive(table), buffer, pa_csv.WriteOptions(include_header=False))
    statement = sql.SQL("copy raw.{table} ({columns}) from stdin with (format csv)").format(
        table=sql.Identifier(dataset.table),
        columns=sql.SQL(", ").join(map(sql.Identifier, [*names, *LINEAGE_COLUMNS])),
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getbuffer())
    return rows.num_rows


def _utc_as_naive(table: pa.Table) -> pa.Table:
    """UTC timestamps without their zone: Arrow writes them ten times faster, and the load's session
    time zone is UTC, so PostgreSQL reads the same instants."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = table.column(index).cast(pa.timestamp(field.type.unit))
            table = table.set_column(index, field.name, naive)
    return table


def _copy_quarantined(
    conn: psycopg.Connection,
    dataset: Dataset,
    batch: pa.RecordBatch,
    reasons: dict[int, str],
    day: date,
    source_file: str,
) -> int:
    """COPY the rows that failed into raw.quarantine, each with its reasons and the record as received."""
    if not reasons:
        return 0
    indices = sorted(reasons)
    failed = batch.take(pa.array(indices))
    if LINE in failed.schema.names:
        records = [line.decode("utf-8", "backslashreplace") for line in failed.column(LINE).to_pylist()]
    else:
        records = _json_objects(failed.select([column.name for column in dataset.columns]))
    count = len(indices)
    table = pa.table(
        {
            "source": pa.array([dataset.source] * count),
            "dataset": pa.array([dataset.name] * count),
            "partition_date": pa.array([day] * count, pa.date32()),
            "source_file": pa.array([source_file] * count),
            "source_row": failed.column(SOURCE_ROW),
            "record_key": _readable_keys(failed.column(dataset.key)),
            "reason": _without_nul(pa.array([reasons[index] for index in indices], pa.string())),
            "record": _without_nul(pa.array(records, pa.string())),
        }
    )
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
    columns = sql.SQL(", ").join(map(sql.Identifier, QUARANTINE_COLUMNS))
    with conn.cursor().copy(
        sql.SQL("copy raw.quarantine ({}) from stdin with (format csv)").format(columns)
    ) as copy:
        copy.write(buffer.getbuffer())
    return count


def _json_objects(table: pa.Table | pa.RecordBatch) -> list[str]:
    """Each row as a JSON object of its values as exact text (a decimal keeps its digits, a
    timestamp its UTC offset); vectorised, because a bad day can quarantine a million rows."""
    texts = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            naive = column.cast(pa.timestamp(field.type.unit)).cast(pa.string())
            column = pc.binary_join_element_wise(naive, "+00:00", "")
        elif not pa.types.is_string(field.type):
            column = column.cast(pa.string())
        texts.append(column)
    frame = pa.Table.from_arrays(texts, names=table.schema.names).to_pandas()
    # JSON escapes newlines inside values, so a line is a row (str.splitlines would also split on U+2028)
    return frame.to_json(orient="records", lines=True, force_ascii=False).split("\n")[: len(frame)]


def _readable_keys(keys: pa.Array) -> pa.Array:
    """The record ids as text, null where the id itself could not be read (it held bytes that are
    not UTF-8, shown as U+FFFD): a garbled id would name no record, and dbt's orphan checks count
    unreadable ids as what they are."""
    text = _without_nul(pc.cast(keys, pa.string()))
    return pc.if_else(pc.match_substring(text, "\ufffd"), pa.scalar(None, pa.string()), text)


def _without_nul(text: pa.Array) -> pa.Array:
    """PostgreSQL text cannot hold NUL: quarantined text shows it as the escape \\x00 instead."""
    return pc.replace_substring(text, "\x00", "\\x00")
