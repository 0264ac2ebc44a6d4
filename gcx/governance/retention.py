"""How long each warehouse dataset stays in the warehouse, and what happens after.

`POLICIES` is the one place that says it, dataset by dataset, with `SCHEMA_DEFAULTS` for every other
table of a schema (`policy_for` answers for any table). Three actions:

- `archive`: partitions older than `keep_days` move from the warehouse to the lake, one Parquet file
  per partition, and stay exportable (`GET /v1/datasets/{id}/export` reads them back);
- `expire`: rows older than `keep_days` are deleted, because a complete copy lives elsewhere (the
  live feed's hot trades: every trade also reaches raw and marts.fct_trades); the component that
  owns the table enforces it (`enforced_by`);
- `keep`: kept in the warehouse for good (`reason` says why).

What may be archived is constrained by dbt (docs/governance.md): a table model is rebuilt from its
inputs at every build, so archiving one of its inputs (raw) would silently drop history from it, and
archiving the table model itself would not stick (the next build brings the rows back). Only
incremental models whose incremental unit is the partition (the OHLCV bars, replaced per `bar_date`)
keep archived partitions archived; tests check every `archive` policy against the dbt manifest.

Archive layout: ``<GCX_HOME>/lake/archive/<schema>/<table>/date=YYYY-MM-DD/part-0.parquet``, typed as
the warehouse declares the columns; `governance.archived_partitions` records each partition (rows,
bytes, absolute path). One partition is archived in one transaction: the table is locked against
writers, the rows are written to a temporary file whose row count is checked against the warehouse
and against the rows deleted, and the file is renamed into place just before the commit. When the
warehouse holds rows of an archived partition again (a dbt full refresh, a late correction), the
warehouse's rows are the newer truth: readers use them instead of the file, and the next run
archives them again (replacing the file).
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

from gcx import clock, database
from gcx.postgres_arrow import arrow_type, copy_csv_options, set_copy_formats
from gcx.settings import Settings

Action = Literal["archive", "expire", "keep"]
ARCHIVE_FOLDER = "archive"
PARTITION_KEY = b"gcx.partition_date"
RELATION_KEY = b"gcx.relation"


@dataclass(frozen=True)
class RetentionPolicy:
    schema: str
    table: str
    """A table name, or "*" for a schema's default."""
    action: Action
    reason: str
    keep_days: int | None = None
    """Days a partition stays in the warehouse (archive, expire); None: for good."""
    partition_column: str | None = None
    """archive: the date column partitions are cut on (the UTC day of the dataset's time axis)."""
    enforced_by: str | None = None
    """expire: the code that deletes the old rows."""

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    def cutoff(self, today: date) -> date:
        """Partitions dated before this day are due."""
        assert self.keep_days is not None
        return today - timedelta(days=self.keep_days)


_READ_WHOLE = (
    "incremental per day, but the marts built from it (settlements, compliance, executive) read it "
    "whole: archived days would vanish from them"
)
POLICIES: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        "marts",
        "fct_ohlcv_1m",
        "archive",
        "the largest mart (a row per instrument and traded minute); incremental per bar_date, so an "
        "archived day stays archived; exports read it back",
        keep_days=365,
        partition_column="bar_date",
    ),
    RetentionPolicy(
        "marts",
        "fct_ohlcv_5m",
        "archive",
        "incremental per bar_date like the 1-minute bars; five times smaller, kept twice as long",
        keep_days=730,
        partition_column="bar_date",
    ),
    RetentionPolicy(
        "marts", "fct_ohlcv_1h", "keep", "small (a row per instrument and traded hour): kept whole"
    ),
    RetentionPolicy("marts", "fct_ohlcv_1d", "keep", "small (a row per instrument and day): kept whole"),
    RetentionPolicy("marts", "fct_trades", "keep", _READ_WHOLE),
    RetentionPolicy("marts", "fct_orders", "keep", _READ_WHOLE),
    RetentionPolicy(
        "hot",
        "trades",
        "expire",
        "the live feed's trades of the last days; every trade also reaches raw and marts.fct_trades "
        "through the exchange source, which keep them",
        keep_days=7,
        enforced_by="the live feed consumer (gcx.live_feed.hot.prune, HOT_RETENTION)",
    ),
    RetentionPolicy(
        "api",
        "request_log",
        "keep",
        "marts.fct_api_requests_daily is a table model rebuilt from the whole log: archiving the log "
        "would erase that history; archivable once the mart is incremental per request_date",
    ),
    RetentionPolicy("api", "audit_log", "keep", "the append-only record of every data access: kept for good"),
    RetentionPolicy(
        "raw",
        "quarantine",
        "keep",
        "every rejected row with its reason: the reconciliation counts it per partition",
    ),
    RetentionPolicy(
        "raw", "ingestion_log", "keep", "one row per partition load: what reconciliation compares"
    ),
)
SCHEMA_DEFAULTS: dict[str, RetentionPolicy] = {
    policy.schema: policy
    for policy in (
        RetentionPolicy(
            "raw",
            "*",
            "keep",
            "every dbt table model downstream (trades, orders, compliance marts) is rebuilt from raw: "
            "archiving raw would silently drop their history, and the regulator's marts need all of it; "
            "the lake's bronze files also keep every source row",
        ),
        RetentionPolicy("marts", "*", "keep", "table models rebuilt from raw at every build"),
        RetentionPolicy(
            "compliance", "*", "keep", "regulatory records: kept for good (rebuilt from raw at every build)"
        ),
        RetentionPolicy("restricted", "*", "keep", "rebuilt from raw at every build; erasure: gcx privacy"),
        RetentionPolicy("snapshots", "*", "keep", "history is what a snapshot is for"),
        RetentionPolicy("quality", "*", "keep", "check results per day: the datasets' quality history"),
        RetentionPolicy("ops", "*", "keep", "pipeline failures: small, the incident history"),
        RetentionPolicy(
            "api", "*", "keep", "keys, dashboard sessions, the audit chain's head: small (sessions expire)"
        ),
        RetentionPolicy("hot", "*", "keep", "the live feed consumer's checkpoints: a row per consumer"),
        RetentionPolicy("governance", "*", "keep", "the record of archived partitions"),
        RetentionPolicy("meta", "*", "keep", "the warehouse's schema versions: a row per DDL file applied"),
        RetentionPolicy(
            "private", "*", "keep", "the installation's PII key: one row, replaced when the key changes"
        ),
        RetentionPolicy("ml", "*", "keep", "feature tables, replaced whole by each training run"),
        RetentionPolicy("staging", "*", "keep", "views: nothing stored"),
        RetentionPolicy("intermediate", "*", "keep", "views: nothing stored"),
    )
}
POLICIES_BY_RELATION = {policy.relation: policy for policy in POLICIES}


def policy_for(schema: str, table: str) -> RetentionPolicy | None:
    """The dataset's policy, else its schema's default; None when neither says anything."""
    return POLICIES_BY_RELATION.get(f"{schema}.{table}") or SCHEMA_DEFAULTS.get(schema)


def archive_path(lake_dir: Path, schema: str, table: str, day: date) -> Path:
    return lake_dir / ARCHIVE_FOLDER / schema / table / f"date={day.isoformat()}" / "part-0.parquet"


@dataclass(frozen=True)
class ArchivedPartition:
    schema: str
    table: str
    day: date
    rows: int
    bytes: int
    path: Path


class ArchiveError(RuntimeError):
    """A partition's counts did not agree: nothing was deleted."""


def due_partitions(conn: psycopg.Connection, policy: RetentionPolicy, today: date) -> list[date]:
    """The warehouse's partitions of an `archive` policy older than its retention, oldest first."""
    return [
        row[0]
        for row in conn.execute(
            sql.SQL("select distinct {column} from {relation} where {column} < %s order by 1").format(
                column=sql.Identifier(policy.partition_column),
                relation=sql.Identifier(policy.schema, policy.table),
            ),
            (policy.cutoff(today),),
        )
    ]


def archive_partition(
    conn: psycopg.Connection, lake_dir: Path, policy: RetentionPolicy, day: date
) -> ArchivedPartition:
    """Move one partition from the warehouse to the lake's archive, in one transaction (see the module)."""
    relation = sql.Identifier(policy.schema, policy.table)
    column = sql.Identifier(policy.partition_column)
    path = archive_path(lake_dir, policy.schema, policy.table, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with conn.transaction():
            # writers wait (dbt's incremental delete+insert); readers do not
            conn.execute(sql.SQL("lock table {} in share row exclusive mode").format(relation))
            selected = sql.SQL("select * from {} where {} = {}").format(relation, column, sql.Literal(day))
            table = read_rows(conn, selected, relation_schema(conn, policy.schema, policy.table))
            metadata = {PARTITION_KEY: day.isoformat().encode(), RELATION_KEY: policy.relation.encode()}
            pq.write_table(table.replace_schema_metadata(metadata), temporary, compression="zstd")
            _fsync(temporary)
            written = pq.read_metadata(temporary).num_rows
            deleted = conn.execute(
                sql.SQL("delete from {} where {} = %s").format(relation, column), (day,)
            ).rowcount
            if not written == table.num_rows == deleted:
                raise ArchiveError(
                    f"{policy.relation} {day}: read {table.num_rows} rows, wrote {written}, "
                    f"deleted {deleted}: nothing archived"
                )
            size = temporary.stat().st_size
            conn.execute(
                """
                insert into governance.archived_partitions
                    (schema_name, table_name, partition_date, partition_column, rows, bytes, path)
                values (%s, %s, %s, %s, %s, %s, %s)
                on conflict (schema_name, table_name, partition_date) do update
                set rows = excluded.rows, bytes = excluded.bytes, path = excluded.path,
                    partition_column = excluded.partition_column, archived_at = now()
                """,
                (policy.schema, policy.table, day, policy.partition_column, written, size, str(path)),
            )
            os.replace(temporary, path)  # last before the commit: a failed commit leaves the rows in
            _fsync(path.parent)  # the warehouse, whose rows win over the file's
    finally:
        temporary.unlink(missing_ok=True)
    return ArchivedPartition(policy.schema, policy.table, day, written, size, path)


def apply_retention(
    settings: Settings,
    today: date | None = None,
    policies: tuple[RetentionPolicy, ...] = POLICIES,
) -> list[ArchivedPartition]:
    """Archive every partition past its `archive` policy's retention; what was archived."""
    today = today or clock.today()
    archived: list[ArchivedPartition] = []
    database.ensure_databases(settings)
    with database.connect("warehouse", autocommit=True, settings=settings) as conn:
        for policy in policies:
            if policy.action != "archive" or not _exists(conn, policy.schema, policy.table):
                continue
            for day in due_partitions(conn, policy, today):
                archived.append(archive_partition(conn, settings.lake_dir, policy, day))
    return archived


def restore_partition(conn: psycopg.Connection, schema: str, table: str, day: date) -> int:
    """Put an archived partition back into the warehouse and forget its file; the rows restored.

    For a dataset whose policy changed, or a partition wanted back in the warehouse."""
    with conn.transaction():
        row = conn.execute(
            "select partition_column, path from governance.archived_partitions"
            " where schema_name = %s and table_name = %s and partition_date = %s for update",
            (schema, table, day),
        ).fetchone()
        if row is None:
            raise ValueError(f"{schema}.{table} has no archived partition {day}")
        column, path = row
        relation = sql.Identifier(schema, table)
        conn.execute(sql.SQL("lock table {} in share row exclusive mode").format(relation))
        present = conn.execute(
            sql.SQL("select count(*) from {} where {} = %s").format(relation, sql.Identifier(column)), (day,)
        ).fetchone()[0]
        restored = 0 if present else copy_parquet_into(conn, relation, Path(path))
        conn.execute(
            "delete from governance.archived_partitions"
            " where schema_name = %s and table_name = %s and partition_date = %s",
            (schema, table, day),
        )
    Path(path).unlink(missing_ok=True)
    return restored


# ---------------------------------------------------------------------------------------------
# reading archived partitions back (exports)

# ---------------------------------------------------------------------------------------------
# Parquet <-> warehouse


def relation_schema(conn: psycopg.Connection, schema: str, table: str) -> pa.Schema:
    """The Arrow schema of a table, typed as PostgreSQL declares its columns."""
    rows = conn.execute(
        """
        select a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_attribute a
        where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped
        order by a.attnum
        """,
        (f'"{schema}"."{table}"',),
    ).fetchall()
    return pa.schema([pa.field(name, arrow_type(type_name)) for name, type_name in rows])


def read_rows(conn: psycopg.Connection, select: sql.Composable, schema: pa.Schema) -> pa.Table:
    """A query's rows as an Arrow table of `schema`, through PostgreSQL's CSV COPY and Arrow's parser."""
    buffer = io.BytesIO()
    set_copy_formats(conn)
    with conn.cursor().copy(sql.SQL("copy ({}) to stdout with (format csv, header)").format(select)) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    return pa_csv.read_csv(
        buffer,
        convert_options=copy_csv_options(schema),
    ).select(schema.names)


def copy_parquet_into(conn: psycopg.Connection, relation: sql.Composable, path: Path) -> int:
    """Append a Parquet file's rows to a table with the same columns; the rows copied.

    Arrow writes the CSV (every value quoted, NULL as nothing) and PostgreSQL parses it as its types."""
    table = pq.read_table(path)
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(quoting_style="all_valid"))
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in table.column_names)
    with conn.cursor() as cursor:
        with cursor.copy(
            sql.SQL("copy {} ({}) from stdin with (format csv, header)").format(relation, columns)
        ) as copy:
            copy.write(buffer.getbuffer())
        return cursor.rowcount


def _exists(conn: psycopg.Connection, schema: str, table: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (f'"{schema}"."{table}"',)).fetchone()[0]


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
