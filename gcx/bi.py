"""The read-only role a BI tool (Metabase, Superset, ...) connects as: it sees the warehouse's
`marts` schema (masked PII) and nothing else, tables dbt creates later included (bi_role.sql says
how). `gcx db bi-role` creates it, or updates it and sets a new password. docs/bi.md: connecting.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from gcx import database
from gcx.settings import Settings

BI_ROLE_SQL = Path(__file__).with_name("bi_role.sql")
DEFAULT_ROLE = "gcx_bi"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
READABLE_SCHEMAS = ("marts",)


def ensure_bi_role(
    conn: psycopg.Connection,
    role: str = DEFAULT_ROLE,
    password: str | None = None,
    keep_password: bool = False,
) -> str | None:
    """Create or update the read-only role on the warehouse `conn` is connected to.

    Sets `password`, or a new random one; with `keep_password` an existing role keeps its
    password. Returns the password set (None when kept): the only time it is available.
    """
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"role name {role!r}: use lower-case letters, digits and _ (at most 63)")
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() is not None
    if exists and conn.execute("select rolsuper from pg_roles where rolname = %s", (role,)).fetchone()[0]:
        raise ValueError(f"role {role!r} exists and is a superuser: refusing to turn it into the BI role")
    if not exists:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    new_password = None if exists and keep_password else (password or secrets.token_urlsafe(24))
    if new_password is not None:
        conn.execute(
            sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(new_password))
        )
    database_name = conn.info.dbname
    conn.execute(
        sql.SQL(BI_ROLE_SQL.read_text()).format(
            role=sql.Identifier(role), database=sql.Identifier(database_name)
        )
    )
    return new_password


def bi_connection_url(role: str, password: str | None, settings: Settings | None = None) -> str:
    """The warehouse URL a BI tool uses as `role` (the embedded server: its socket directory as host)."""
    url = make_url(database.database_url("warehouse", settings=settings)).set(
        username=role, password=password
    )
    return url.render_as_string(hide_password=password is None)
