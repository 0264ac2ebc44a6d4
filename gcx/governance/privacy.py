"""`gcx privacy erase --user ID`: a platform user's personal data, erased everywhere the platform keeps it.

Personal data (docs/sources.md, platform `users` drop): the user's **e-mail, full name and phone**
(`PERSONAL_FIELDS`), and their salted hashes in the marts (`*_hash`: pseudonymous, so personal too).
The rest of the user's record and activity stays: the user id (a random platform id, U0000001),
country, member firm, role, sign-up time, subscriptions, API usage and app sessions. Once the three
fields are gone nothing kept names, reaches or describes the person, and the platform's aggregates
(MRR, active users, cohorts) stay right. docs/governance.md discusses what remains.

Erasure **redacts fields and keeps rows**: every record keeps its place (line, row, `_source_row`),
so reconciliation (source lines = lake rows = raw rows + quarantined rows, per partition) still
holds, and a re-ingested day validates the same (the replacement e-mail is a valid address under the
reserved `.invalid` domain). Places, in order:

  landing    <GCX_HOME>/landing/platform/**.jsonl: the user's lines, rewritten atomically
  lake       <GCX_HOME>/lake/platform/**/part-0.parquet: fields and the line as received, rewritten atomically
  warehouse  raw.platform__users, raw.quarantine (the record as received), and every table holding
             user_id with a personal or hashed field (restricted.dim_user_contacts, marts.dim_users,
             a snapshot if one is ever made), in one transaction; hashes become what dbt computes
             for the redacted values (read from the staging view), so the next build changes nothing
  exports    <GCX_HOME>/exports/: files containing the user, deleted (they are a 5-minute cache)
  audit      api.audit_log: action `privacy_erase`, the user id and the counts per place, never the data

A line or row belongs to the user when it parses with their user id, or, unreadable (a cut line),
when it holds their quoted id, e-mail or phone. Running it again is safe (nothing left: counts 0),
and is how to finish an erasure that failed half-way.
"""

from __future__ import annotations

import getpass
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql
from psycopg.types.json import Jsonb

from gcx import database
from gcx.files import write_atomically
from gcx.settings import Settings

PERSONAL_FIELDS = {"email": "erased@erased.invalid", "full_name": "[erased]", "phone": "[erased]"}
"""Each personal field of a platform user and what replaces it."""
HASHED_FIELDS = {f"{name}_hash": name for name in PERSONAL_FIELDS}
SOURCE = "platform"
USERS_TABLE = "platform__users"
USERS_STAGING = ("staging", "stg_platform__users")
"""dbt's staging view: computes the marts' hashes of the (redacted) raw values."""
SKIPPED_SCHEMAS = ("raw", "staging", "intermediate", "pg_catalog", "information_schema")
USER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PERSONAL_PAIR = re.compile(r'("(' + "|".join(PERSONAL_FIELDS) + r')"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)')
"""`"email": "..."` in a JSON line, also when the line is cut inside the value."""
BOM = "\ufeff"


class UnknownUser(LookupError):
    pass


@dataclass
class Erasure:
    user_id: str
    counts: dict[str, int] = field(default_factory=dict)
    """Place -> records changed there (lines, rows, files)."""

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Redactor:
    """Recognises the user's records and replaces their personal values."""

    def __init__(self, user_id: str, values: dict[str, set[str]]):
        self.user_id = user_id
        self.values = {
            name: {value for value in found if value and value != PERSONAL_FIELDS[name]}
            for name, found in values.items()
        }
        self.identifying = [f'"{user_id}"'] + [
            value for name in ("email", "phone") for value in self.values.get(name, ()) if len(value) >= 5
        ]

    def owns_line(self, text: str) -> bool:
        try:
            record = json.loads(text.removeprefix(BOM))
        except (ValueError, RecursionError):
            return any(marker in text for marker in self.identifying)
        return isinstance(record, dict) and record.get("user_id") == self.user_id

    def redact_text(self, text: str) -> str:
        text = PERSONAL_PAIR.sub(lambda m: m.group(1) + json.dumps(PERSONAL_FIELDS[m.group(2)]), text)
        for name, found in self.values.items():
            for value in sorted(found, key=len, reverse=True):
                for form in {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], value}:
                    text = text.replace(form, PERSONAL_FIELDS[name])
        return text

    def redact_line(self, line: bytes) -> bytes:
        """The line with the user's values replaced when it is theirs (invalid bytes kept as they are)."""
        text = line.decode("utf-8", "surrogateescape")
        if not self.owns_line(text):
            return line
        return self.redact_text(text).encode("utf-8", "surrogateescape")


def erase_user(user_id: str, settings: Settings) -> Erasure:
    """Erase a platform user's personal data from landing, lake, warehouse and exports; audit it."""
    if not USER_ID.fullmatch(user_id):
        raise ValueError(f"user id {user_id!r}: expected letters, digits, '.', '_' or '-' (e.g. U0000001)")
    database.ensure_databases(settings)
    landing = sorted((settings.landing_dir / SOURCE).glob("*/*.jsonl"))
    lake = sorted((settings.lake_dir / SOURCE).glob("*/date=*/part-0.parquet"))
    with database.connect("warehouse", settings=settings) as conn:
        values, known = _values_in_warehouse(conn, user_id)
    for path in landing:
        _collect_from_lines(path.read_bytes().split(b"\n"), user_id, values)
    for path in lake:
        known |= _collect_from_lake(path, user_id, values)
    if not known:
        raise UnknownUser(f"no platform user {user_id} in the landing files, the lake or the warehouse")
    redactor = Redactor(user_id, values)

    erasure = Erasure(user_id)
    erasure.counts["landing_lines"] = sum(_redact_landing_file(path, redactor) for path in landing)
    erasure.counts["lake_rows"] = sum(_redact_lake_file(path, redactor) for path in lake)
    with database.connect("warehouse", settings=settings) as conn:
        erasure.counts |= _redact_warehouse(conn, redactor)
    erasure.counts["export_files"] = _delete_exports(settings.home / "exports", redactor)
    with database.connect("warehouse", settings=settings) as conn:
        _audit(conn, erasure)
    return erasure


# ---------------------------------------------------------------------------------------------
# finding the user's values


def _values_in_warehouse(conn: psycopg.Connection, user_id: str) -> tuple[dict[str, set[str]], bool]:
    """The user's personal values in raw (every version), and whether raw knows the user at all."""
    values: dict[str, set[str]] = {name: set() for name in PERSONAL_FIELDS}
    if conn.execute("select to_regclass(%s)", (f"raw.{USERS_TABLE}",)).fetchone()[0] is None:
        return values, False
    rows = conn.execute(
        sql.SQL("select {} from raw.{} where user_id = %s").format(
            sql.SQL(", ").join(map(sql.Identifier, PERSONAL_FIELDS)), sql.Identifier(USERS_TABLE)
        ),
        (user_id,),
    ).fetchall()
    for row in rows:
        for name, value in zip(PERSONAL_FIELDS, row, strict=True):
            if value:
                values[name].add(value)
    return values, bool(rows)


def _user_tables(conn: psycopg.Connection) -> list[tuple[str, str, set[str]]]:
    """Tables outside raw/staging/intermediate with a user_id column and a personal or hashed field,
    with their columns."""
    return [
        (schema, table, set(columns))
        for schema, table, columns in conn.execute(
            """
            select c.table_schema, c.table_name, array_agg(c.column_name::text)
            from information_schema.columns c
            join information_schema.tables t using (table_schema, table_name)
            where t.table_type = 'BASE TABLE' and c.table_schema <> all(%s)
            group by 1, 2
            order by 1, 2
            """,
            (list(SKIPPED_SCHEMAS),),
        )
        if "user_id" in columns and set(columns) & (set(PERSONAL_FIELDS) | set(HASHED_FIELDS))
    ]


def _collect_from_lines(lines: Iterable[bytes], user_id: str, values: dict[str, set[str]]) -> None:
    for line in lines:
        try:
            record = json.loads(line.decode("utf-8", "replace").removeprefix(BOM))
        except (ValueError, RecursionError):
            continue
        if isinstance(record, dict) and record.get("user_id") == user_id:
            for name in PERSONAL_FIELDS:
                if isinstance(record.get(name), str):
                    values[name].add(record[name])


def _collect_from_lake(path: Path, user_id: str, values: dict[str, set[str]]) -> bool:
    table = pq.read_table(path)
    if "user_id" not in table.column_names:
        return False
    found = False
    for row in table.to_pylist():
        if row["user_id"] == user_id:
            found = True
            for name in PERSONAL_FIELDS:
                if row.get(name):
                    values[name].add(row[name])
    return found


# ---------------------------------------------------------------------------------------------
# the places


def _redact_landing_file(path: Path, redactor: Redactor) -> int:
    lines = path.read_bytes().split(b"\n")
    redacted = [redactor.redact_line(line) for line in lines]
    changed = sum(old != new for old, new in zip(lines, redacted, strict=True))
    if changed:
        write_atomically(path, b"\n".join(redacted))
    return changed


def _redact_lake_file(path: Path, redactor: Redactor) -> int:
    """Rewrite a bronze file with the user's rows redacted (same rows, order, schema and metadata)."""
    table = pq.read_table(path)
    rows = table.to_pylist()
    changed = 0
    for row in rows:
        line = row.get("_line")
        owned = row.get("user_id") == redactor.user_id or (
            line is not None and redactor.owns_line(line.decode("utf-8", "surrogateescape"))
        )
        if not owned:
            continue
        before = dict(row)
        for name, replacement in PERSONAL_FIELDS.items():
            if row.get(name) is not None:
                row[name] = replacement
        for name, value in row.items():
            if isinstance(value, str) and name not in PERSONAL_FIELDS:
                row[name] = redactor.redact_text(value)
        if line is not None:
            row["_line"] = redactor.redact_text(line.decode("utf-8", "surrogateescape")).encode(
                "utf-8", "surrogateescape"
            )
        changed += row != before
    if changed:
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), buffer, compression="zstd")
        write_atomically(path, buffer.getvalue())
    return changed


def _redact_warehouse(conn: psycopg.Connection, redactor: Redactor) -> dict[str, int]:
    counts: dict[str, int] = {}
    user_id = redactor.user_id
    with conn.transaction():
        if conn.execute("select to_regclass(%s)", (f"raw.{USERS_TABLE}",)).fetchone()[0] is not None:
            counts[f"raw.{USERS_TABLE}"] = _update_fields(
                conn,
                ("raw", USERS_TABLE),
                user_id,
                {name: sql.Literal(v) for name, v in PERSONAL_FIELDS.items()},
            )
        if conn.execute("select to_regclass('raw.quarantine')").fetchone()[0] is not None:
            counts["raw.quarantine"] = _redact_quarantine(conn, redactor)
        staging = conn.execute("select to_regclass(%s)", (".".join(USERS_STAGING),)).fetchone()[0] is not None
        for schema, table, columns in _user_tables(conn):
            assignments: dict[str, sql.Composable] = {
                name: sql.Literal(value) for name, value in PERSONAL_FIELDS.items() if name in columns
            }
            for hashed in sorted(columns & set(HASHED_FIELDS)):
                assignments[hashed] = (
                    sql.SQL("(select {} from {} where user_id = {})").format(
                        sql.Identifier(hashed), sql.Identifier(*USERS_STAGING), sql.Literal(user_id)
                    )
                    if staging
                    else sql.NULL
                )
            counts[f"{schema}.{table}"] = _update_fields(conn, (schema, table), user_id, assignments)
    return counts


def _update_fields(
    conn: psycopg.Connection, relation: tuple[str, str], user_id: str, assignments: dict[str, sql.Composable]
) -> int:
    """Set the fields of the user's rows that differ; the rows changed."""
    return conn.execute(
        sql.SQL("update {relation} set {sets} where user_id = %s and ({differs})").format(
            relation=sql.Identifier(*relation),
            sets=sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(name), value) for name, value in assignments.items()
            ),
            differs=sql.SQL(" or ").join(
                sql.SQL("{} is distinct from {}").format(sql.Identifier(name), value)
                for name, value in assignments.items()
            ),
        ),
        (user_id,),
    ).rowcount


def _redact_quarantine(conn: psycopg.Connection, redactor: Redactor) -> int:
    """The user's quarantined records (the line as received) and reasons (which quote bad values)."""
    patterns = [f"%{_like_escaped(marker)}%" for marker in redactor.identifying]
    rows = conn.execute(
        "select ctid, record, reason from raw.quarantine where source = %s and record like any(%s)",
        (SOURCE, patterns),
    ).fetchall()
    changed = 0
    for ctid, record, reason in rows:
        if not redactor.owns_line(record):
            continue
        redacted = (redactor.redact_text(record), redactor.redact_text(reason))
        if redacted != (record, reason):
            conn.execute(
                "update raw.quarantine set record = %s, reason = %s where ctid = %s", (*redacted, ctid)
            )
            changed += 1
    return changed


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _delete_exports(exports_dir: Path, redactor: Redactor) -> int:
    """Delete export files (and their descriptions) that hold the user's id or values."""
    needles = [redactor.user_id] + [value for found in redactor.values.values() for value in found]
    deleted = 0
    for path in sorted(exports_dir.glob("*/*")) if exports_dir.is_dir() else []:
        if path.suffix not in {".csv", ".parquet"} or path.name.startswith("."):
            continue
        if path.suffix == ".csv":
            content = path.read_bytes()
            holds = any(needle.encode() in content for needle in needles)
        else:
            table = pq.read_table(path)
            holds = any(
                value in needles
                for column in table.columns
                if pa.types.is_string(column.type)
                for value in column.unique().to_pylist()
            )
        if holds:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
            deleted += 1
    return deleted


def _audit(conn: psycopg.Connection, erasure: Erasure) -> None:
    conn.execute(
        "insert into api.audit_log (action, dataset, rows, parameters) values ('privacy_erase', %s, %s, %s)",
        (
            f"{SOURCE}.users",
            erasure.total,
            Jsonb({"user_id": erasure.user_id, "counts": erasure.counts, "operator": getpass.getuser()}),
        ),
    )
