"""Reading a partition from its source as Arrow batches, without losing or inventing a row.

Exchange tables are read with one ``COPY (select ...) TO STDOUT`` per partition inside a
repeatable-read transaction, spooled to a temporary file and parsed by Arrow's streaming CSV reader:
memory stays bounded whatever the partition's size, and a separate ``count(*)`` in the same snapshot
gives the source row count that reconciliation compares with the lake.

File drops are read line by line as bytes, so that a bad line (invalid UTF-8, an unclosed quote,
broken JSON, a wrong number of fields) is one row with a `_read_error` instead of an exception or
a shift of every following line. Each row keeps its physical line number and its exact bytes.
A CSV record is one physical line: the drop formats have no multi-line values, and reading an
unclosed quote across lines would swallow the records after it.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg import sql

from gcx.ingestion.datasets import Dataset
from gcx.ingestion.validate import READ_ERROR, SOURCE_ROW, Column

LINE = "_line"
"""Bronze column of file datasets: the line's exact bytes, without its line terminator."""

BATCH_ROWS = 50_000
COPY_BLOCK_BYTES = 8 << 20


@dataclass(frozen=True)
class Extract:
    """One partition read from its source: the rows as batches, and how many rows the source has."""

    source_rows: int
    """Counted independently of `batches` (count(*) in the same snapshot; physical lines of a file)."""
    batches: Iterator[pa.RecordBatch]
    origin: str
    """Where the rows came from, for the lake file's metadata and the quarantine's source_file."""


@contextmanager
def partition(
    dataset: Dataset,
    day: date,
    landing_dir: Path,
    exchange: psycopg.Connection | None = None,
    *,
    first_partition: bool = False,
) -> Iterator[Extract]:
    """The partition `day` of `dataset` from its source; `exchange` (autocommit) for exchange tables.

    The first partition of an exchange table also takes every earlier row: reference data
    (members registered years ago, the calendar's past) would otherwise fall before the first day
    and never be ingested.
    """
    if dataset.file_format is None:
        if exchange is None:
            raise ValueError(f"{dataset.table} is extracted from the exchange database: pass a connection")
        with exchange_partition(
            exchange,
            dataset.name,
            dataset.columns,
            dataset.partitioned_by,
            dataset.key,
            day,
            include_earlier=first_partition,
        ) as rows:
            yield rows
        return
    path = dataset.landing_file(landing_dir, day)
    yield drop_file(path, path.relative_to(landing_dir).as_posix(), dataset.columns, dataset.file_format)


def bronze_schema(dataset: Dataset) -> pa.Schema:
    """The lake file's schema: typed source columns (exchange) or text fields and the line (drops)."""
    if dataset.file_format is None:
        return exchange_schema(dataset.columns)
    return drop_file_schema(dataset.columns)


def exchange_schema(columns: Sequence[Column]) -> pa.Schema:
    """Bronze schema of an exchange table: its columns with their source types, and the read error
    of a row holding a value those types cannot (see `_unreadable_value`)."""
    return pa.schema(
        [pa.field(SOURCE_ROW, pa.int32(), nullable=False)]
        + [(c.name, c.type) for c in columns]
        + [(READ_ERROR, pa.string())]
    )


def drop_file_schema(columns: Sequence[Column]) -> pa.Schema:
    """Bronze schema of a file drop: every field as the text received, the read error, the line's bytes."""
    return pa.schema(
        [pa.field(SOURCE_ROW, pa.int32(), nullable=False)]
        + [(c.name, pa.string()) for c in columns]
        + [(READ_ERROR, pa.string()), pa.field(LINE, pa.binary(), nullable=False)]
    )


# ---------------------------------------------------------------------------------------------
# Exchange database


@contextmanager
def exchange_partition(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[Column],
    partition_column: str,
    key: str,
    day: date,
    *,
    include_earlier: bool = False,
) -> Iterator[Extract]:
    """The rows of `table` whose `partition_column` falls in the UTC day [day, day + 1) (or anywhere
    before day + 1 with `include_earlier`), in `key` order.

    `conn` must be in autocommit mode: the extract opens its own repeatable-read transaction.
    """
    end = day + timedelta(days=1)
    column = sql.Identifier(partition_column)
    where = sql.SQL("{column} < {end}").format(column=column, end=sql.Literal(end))
    span = f"before {end}"
    if not include_earlier:
        where = sql.SQL("{column} >= {start} and {where}").format(
            column=column, start=sql.Literal(day), where=where
        )
        span = f"in [{day}, {end})"
    readable = [_unreadable_value(c) for c in columns]
    problems = [problem for _, problem in readable if problem is not None]
    read_error = (
        sql.SQL("nullif(concat_ws('; ', {}), '')").format(sql.SQL(", ").join(problems))
        if problems
        else sql.SQL("null::text")
    )
    query = sql.SQL("select {columns}, {read_error} from {table} where {where} order by {key}").format(
        columns=sql.SQL(", ").join(value for value, _ in readable),
        read_error=read_error,
        table=sql.Identifier(table),
        where=where,
        key=sql.Identifier(key),
    )
    with tempfile.TemporaryFile() as spool:
        with conn.transaction():
            conn.execute("set transaction isolation level repeatable read")
            conn.execute("set local time zone 'UTC'")
            count = sql.SQL("select count(*) from {table} where {where}").format(
                table=sql.Identifier(table), where=where
            )
            source_rows = conn.execute(count).fetchone()[0]
            copy_out = sql.SQL("copy ({query}) to stdout with (format csv)").format(query=query)
            longest_row = 0
            with conn.cursor().copy(copy_out) as copy:
                for chunk in copy:  # one row per chunk
                    spool.write(chunk)
                    longest_row = max(longest_row, len(chunk))
        spool.seek(0)
        origin = f"exchange database: {table} where {partition_column} {span} (UTC)"
        # a block must hold a whole row: a huge value would otherwise fail the partition
        block_size = max(COPY_BLOCK_BYTES, 2 * longest_row)
        yield Extract(
            source_rows=source_rows, batches=_copy_csv_batches(spool, columns, block_size), origin=origin
        )


def _unreadable_value(column: Column) -> tuple[sql.Composable, sql.Composable | None]:
    """The column as extracted, and the reason for a value its bronze type cannot hold (None if none can
    be). PostgreSQL has values Arrow has not: infinite or BC instants and dates, years past 9999, a
    numeric NaN. Such a value is extracted as null, and the row gets the reason as its read error,
    so it goes to quarantine with the value shown, instead of failing the whole partition.
    """
    name = sql.Identifier(column.name)
    if pa.types.is_timestamp(column.type):
        holds = sql.SQL("{} between '0001-01-01 00:00:00+00' and '9999-12-31 23:59:59.999999+00'").format(
            name
        )
        must = "be a timestamp in years 1-9999"
    elif pa.types.is_date(column.type):
        holds = sql.SQL("{} between '0001-01-01' and '9999-12-31'").format(name)
        must = "be a date in years 1-9999"
    elif pa.types.is_decimal(column.type):
        holds = sql.SQL("{} <> 'NaN'").format(name)
        must = "be a number"
    else:
        return name, None
    value = sql.SQL("case when {holds} then {name} end as {name}").format(holds=holds, name=name)
    problem = sql.SQL(
        "case when not ({holds}) then {prefix} || quote_literal({name}::text) || ')' end"
    ).format(holds=holds, prefix=sql.Literal(f"{column.name}: must {must} (got "), name=name)
    return value, problem


def _copy_csv_batches(
    spool: Any, columns: Sequence[Column], block_size: int = COPY_BLOCK_BYTES
) -> Iterator[pa.RecordBatch]:
    """Arrow batches from PostgreSQL's CSV COPY output, typed as the source columns, numbered from 1."""
    if not spool.read(1):
        return
    spool.seek(0)
    reader = pa_csv.open_csv(
        spool,
        read_options=pa_csv.ReadOptions(
            column_names=[c.name for c in columns] + [READ_ERROR], block_size=block_size
        ),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types={c.name: c.type for c in columns} | {READ_ERROR: pa.string()},
            # COPY writes NULL as an unquoted empty field and an empty string as ""
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    schema = exchange_schema(columns)
    first_row = 1
    for batch in reader:
        rows = pa.array(range(first_row, first_row + batch.num_rows), pa.int32())
        yield pa.RecordBatch.from_arrays([rows, *batch.columns], schema=schema)
        first_row += batch.num_rows


# ---------------------------------------------------------------------------------------------
# File drops


def drop_file(path: Path, origin: str, columns: Sequence[Column], file_format: str) -> Extract:
    """Read a landing file (CSV with a header, or JSON lines); a missing file is a partition with no rows."""
    if not path.is_file():
        return Extract(source_rows=0, batches=iter(()), origin=f"{origin} (no file)")
    lines = count_lines(path) - _header_lines(path, columns, file_format)
    return Extract(
        source_rows=max(lines, 0), batches=read_drop_lines(path, columns, file_format), origin=origin
    )


def _header_lines(path: Path, columns: Sequence[Column], file_format: str) -> int:
    """1 for a CSV file's readable header; 0 for JSON lines, or for a header that cannot be read, which
    is then a row of its own (in quarantine): a file whose header is wrong (or whose lines end in CR
    only, so that it is all one line) would otherwise vanish without a trace."""
    if file_format != "csv":
        return 0
    with path.open("rb") as file:
        _, error = _csv_header(file.readline(), [c.name for c in columns])
    return 0 if error else 1


def count_lines(path: Path) -> int:
    """Physical lines of a file: its newlines, plus one if the last line has none."""
    count = 0
    last = b"\n"
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (0 if last == b"\n" else 1)


def read_drop_lines(path: Path, columns: Sequence[Column], file_format: str) -> Iterator[pa.RecordBatch]:
    """One row per physical line after the header, whatever the line holds; never raises on content."""
    names = [c.name for c in columns]
    text_columns = {c.name for c in columns if pa.types.is_string(c.type)}
    schema = drop_file_schema(columns)
    batch = _BatchBuilder(schema, names)
    with path.open("rb") as file:
        header_error: str | None = None
        positions = list(range(len(names)))
        first_line = 1
        if file_format == "csv":
            header = file.readline()
            positions, header_error = _csv_header(header, names)
            first_line = 2
            if header_error and header:
                batch.add(1, None, header_error, header.removesuffix(b"\n").removesuffix(b"\r"))
        for line_number, raw in enumerate(file, start=first_line):
            line = raw.removesuffix(b"\n").removesuffix(b"\r")
            if header_error:
                batch.add(line_number, None, header_error, line)
            elif file_format == "csv":
                batch.add(line_number, *_csv_record(line, positions), line)
            else:
                # a UTF-8 byte order mark opens the file, not the record (as in a CSV header)
                text = line.removeprefix(b"\xef\xbb\xbf") if line_number == 1 else line
                batch.add(line_number, *_json_record(text, names, text_columns), line)
            if batch.full:
                yield batch.build()
    if batch.rows:
        yield batch.build()


class _BatchBuilder:
    """Collects rows of a drop file column by column and builds Arrow batches of BATCH_ROWS rows."""

    def __init__(self, schema: pa.Schema, names: Sequence[str]):
        self.schema = schema
        self.names = names
        self._reset()

    def _reset(self) -> None:
        self.rows = 0
        self.source_rows: list[int] = []
        self.fields: list[list[str | None]] = [[] for _ in self.names]
        self.errors: list[str | None] = []
        self.lines: list[bytes] = []

    @property
    def full(self) -> bool:
        return self.rows >= BATCH_ROWS

    def add(
        self, line_number: int, record: Sequence[str | None] | None, error: str | None, line: bytes
    ) -> None:
        self.rows += 1
        self.source_rows.append(line_number)
        for values, value in zip(self.fields, record or [None] * len(self.names), strict=True):
            values.append(value)
        self.errors.append(error)
        self.lines.append(line)

    def build(self) -> pa.RecordBatch:
        arrays = [self.source_rows, *self.fields, self.errors, self.lines]
        batch = pa.RecordBatch.from_arrays(
            [pa.array(values, field.type) for values, field in zip(arrays, self.schema, strict=True)],
            schema=self.schema,
        )
        self._reset()
        return batch


def _decode(line: bytes) -> tuple[str, str | None]:
    """The line as text, and the error if it is not valid UTF-8 (the text then has U+FFFD in place)."""
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad = line[exc.start : exc.start + 1].hex()
        return line.decode(
            "utf-8", "replace"
        ), f"line: must be valid UTF-8 (got byte 0x{bad} at position {exc.start + 1})"


def _csv_header(raw: bytes, names: Sequence[str]) -> tuple[list[int], str | None]:
    """Where each expected column is in the file, or why the header does not allow reading it."""
    text, error = _decode(raw.rstrip(b"\n").removesuffix(b"\r").removeprefix(b"\xef\xbb\xbf"))
    try:
        got = next(csv.reader([text], strict=True), [])
    except csv.Error:
        got = []
    if error is None and sorted(got) == sorted(names):
        return [got.index(name) for name in names], None
    shown = text if len(text) <= 200 else text[:197] + "..."
    return [], f"file: header must name the columns {', '.join(names)} (got {shown!r})"


def _csv_record(line: bytes, positions: Sequence[int]) -> tuple[list[str | None] | None, str | None]:
    """The record's fields in column order (empty fields are null), or None and why it cannot be read."""
    text, error = _decode(line)
    try:
        fields = next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        return None, error or f"line: must be well-formed CSV ({exc})"
    if len(fields) != len(positions):
        return None, error or f"line: must have {len(positions)} fields (got {len(fields)})"
    return [fields[i] or None for i in positions], error


def _json_record(
    line: bytes, names: Sequence[str], text_columns: set[str]
) -> tuple[list[str | None] | None, str | None]:
    """The record's fields as text (JSON strings as they are, other values as JSON), or why not readable.

    An empty string in a column that is not text means absent, as an empty CSV field does.
    """
    text, error = _decode(line)
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python's stack
        return None, error or f"line: must be valid JSON ({exc})"
    if not isinstance(record, dict):
        return None, error or f"line: must be a JSON object (got {type(record).__name__})"
    fields = [_json_text(record.get(name)) for name in names]
    fields = [
        None if value == "" and name not in text_columns else value
        for name, value in zip(names, fields, strict=True)
    ]
    if not all(_encodable(value) for value in fields):
        return None, error or "line: must be valid UTF-8 (got a lone surrogate \\u escape)"
    missing = [name for name in names if name not in record]
    unexpected = sorted(set(record) - set(names))
    if missing:
        error = error or f"line: must have every field (missing {', '.join(missing)})"
    elif unexpected:
        error = (
            error or f"line: must have only the fields {', '.join(names)} (got also {', '.join(unexpected)})"
        )
    return fields, error


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _encodable(value: str | None) -> bool:
    try:
        value is None or value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
