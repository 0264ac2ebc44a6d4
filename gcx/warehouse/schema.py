"""The warehouse's own tables, with one owner: `ddl/NNN_<name>.sql`, applied in order, each once,
recorded in meta.schema_versions (the part alembic's versions/ plays in a FastAPI project).

`database.ensure_databases()`, which every entry point calls before it connects, applies what is
pending; nothing else creates these tables. A change to a table is a new numbered file (an
`alter table`), never an edit of an applied one. dbt owns staging, intermediate and marts; the ML
domain creates its score tables when it first writes them (their absence is how the API knows that
nothing was scored yet).
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg

DDL_DIR = Path(__file__).with_name("ddl")
FILE_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
VERSIONS_DDL = """
create schema if not exists meta;
create table if not exists meta.schema_versions (
    version    integer primary key,
    name       text not null,
    applied_at timestamptz not null default now()
);
"""


def migrations() -> list[tuple[int, Path]]:
    """(version, file) of every DDL file, in order."""
    found = []
    for path in sorted(DDL_DIR.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: DDL files are named NNN_<name>.sql")
        found.append((int(match.group(1)), path))
    return found


def apply(conn: psycopg.Connection) -> list[str]:
    """Apply the files not applied yet, in order, in one transaction; the names applied.

    Processes starting at once take turns on an advisory lock, so each file runs exactly once."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('gcx.warehouse.schema'))")
        conn.execute(VERSIONS_DDL)
        done = {row[0] for row in conn.execute("select version from meta.schema_versions")}
        applied = []
        for version, path in migrations():
            if version in done:
                continue
            conn.execute(path.read_text())
            conn.execute(
                "insert into meta.schema_versions (version, name) values (%s, %s)", (version, path.name)
            )
            applied.append(path.name)
    return applied
