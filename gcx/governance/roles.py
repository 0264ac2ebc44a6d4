"""The API's least-privilege database role.

The API process connects as `gcx_api` (API_ROLE), not as the platform's database user (the owner of
every schema, a superuser on the embedded server): it can read what it serves and append to its logs,
and nothing else; in particular it cannot UPDATE, DELETE or TRUNCATE `api.audit_log` (api_role.sql).
Of Dagster's storage (the `dagster` database) it reads only what the catalog and the system-health
dashboard show, through three functions and no table (api_role_dagster.sql says why).
The read-only BI role (gcx/bi.py, `gcx db bi-role`) follows the same pattern: a role with default
privileges on the schemas it reads, applied idempotently by the platform's user.

Logging in: the embedded server trusts connections on its Unix socket (only the platform's OS user
can reach the socket's directory), so the role needs no password there. With an external server,
set GCX_API_DATABASE_PASSWORD: the role is given that password when the API starts and the API
connects with it (docs/governance.md).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from gcx import database
from gcx.bi import ROLE_NAME
from gcx.settings import Settings

API_ROLE_SQL = Path(__file__).with_name("api_role.sql")
API_ROLE_DAGSTER_SQL = Path(__file__).with_name("api_role_dagster.sql")
API_ROLE = "gcx_api"


def ensure_api_role(conn: psycopg.Connection, settings: Settings, role: str = API_ROLE) -> None:
    """Create or update the API's role on the warehouse `conn` is connected to (as the schemas' owner).

    The API's tables must exist already (gcx/access/schema.sql, api/dashboards/sessions.sql): they are
    granted table by table. Sets the role's password when the settings give one. Also grants the role
    its reads of Dagster's storage, in the `dagster` database (as its owner, the platform's user).
    """
    if not ROLE_NAME.fullmatch(role):
        raise ValueError(f"role name {role!r}: use lower-case letters, digits and _ (at most 63)")
    with conn.transaction():
        # roles are cluster-wide: two API processes starting at once must not both create it
        conn.execute("select pg_advisory_xact_lock(hashtext('gcx api role'))")
        row = conn.execute("select rolsuper from pg_roles where rolname = %s", (role,)).fetchone()
        if row is None:
            conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
        elif row[0]:
            raise ValueError(f"role {role!r} exists and is a superuser: refusing to make it the API's role")
        password = settings.api_database_password
        if password is not None:
            conn.execute(
                sql.SQL("alter role {} password {}").format(
                    sql.Identifier(role), sql.Literal(password.get_secret_value())
                )
            )
        conn.execute(
            sql.SQL(API_ROLE_SQL.read_text()).format(
                role=sql.Identifier(role), database=sql.Identifier(conn.info.dbname)
            )
        )
    with database.connect("dagster", settings=settings) as dagster, dagster.transaction():
        dagster.execute("select pg_advisory_xact_lock(hashtext('gcx api role dagster'))")
        dagster.execute(
            sql.SQL(API_ROLE_DAGSTER_SQL.read_text()).format(
                role=sql.Identifier(role), database=sql.Identifier("dagster")
            )
        )


def api_database_url(
    settings: Settings, role: str = API_ROLE, database_name: database.DatabaseName = "warehouse"
) -> str:
    """The URL the API connects to one of the platform's databases with (the warehouse unless told):
    its own role (and password, if one is set)."""
    password = settings.api_database_password
    url = make_url(database.database_url(database_name, settings=settings)).set(
        username=role, password=password.get_secret_value() if password is not None else None
    )
    return url.render_as_string(hide_password=False)
