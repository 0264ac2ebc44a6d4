"""The API connects as its least-privilege role (gcx_api), and the audit log is append-only: the role
cannot UPDATE, DELETE or TRUNCATE it, and the trigger refuses the platform's own user too."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from gcx import database
from gcx.governance import roles
from gcx.settings import Settings

CHANGES = (
    "update api.audit_log set rows = 0",
    "delete from api.audit_log",
    "truncate api.audit_log",
)


def connect_as_api(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(roles.api_database_url(settings), autocommit=True)


def audit_rows(settings: Settings) -> tuple[int, int]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute("select count(*), coalesce(sum(rows), 0) from api.audit_log").fetchone()


def test_the_api_pool_connects_as_its_own_role(client, api_app):
    with api_app.state.pool.connection() as conn:
        user, is_superuser = conn.execute("select current_user, current_setting('is_superuser')").fetchone()
    assert (user, is_superuser) == (roles.API_ROLE, "off")


@pytest.mark.parametrize("statement", CHANGES)
def test_the_api_role_cannot_change_the_audit_log(client, built_platform, statement):
    before = audit_rows(built_platform)
    with connect_as_api(built_platform) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)
    after = audit_rows(built_platform)
    assert after[0] >= before[0] and after[1] >= before[1]  # appended to at most: none changed


@pytest.mark.parametrize("statement", CHANGES)
def test_not_even_the_owner_can_change_the_audit_log(client, built_platform, statement):
    with (
        database.connect("warehouse", settings=built_platform) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute(statement)


def test_the_api_role_appends_to_the_audit_log(client, built_platform):
    with connect_as_api(built_platform) as conn, conn.transaction(force_rollback=True):
        inserted = conn.execute(
            "insert into api.audit_log (action, dataset, rows, parameters) values ('read', 'probe', 1, %s)",
            (Jsonb({}),),
        ).rowcount
        assert inserted == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # it cannot even read the log back
            conn.execute("select count(*) from api.audit_log")


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) from raw.platform__users",  # clear PII the API never serves
        "select count(*) from staging.stg_exchange__trades",
        "update marts.fct_trades set quantity_t = 0",
        "delete from api.keys",
        "insert into api.keys (key_id, secret_sha256, name, tier, role) values ('x', '', 'x', 'pro', 'admin')",
        "create table marts.probe (x int)",
    ],
)
def test_the_api_role_reads_what_it_serves_and_nothing_else(client, built_platform, statement):
    with connect_as_api(built_platform) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_a_mart_rebuilt_by_dbt_stays_readable(client, built_platform):
    """dbt recreates table models as the platform's user: default privileges cover the new table."""
    with database.connect("warehouse", autocommit=True, settings=built_platform) as owner:
        owner.execute("create table marts.governance_probe as select 1 as x")
        try:
            with connect_as_api(built_platform) as conn:
                assert conn.execute("select x from marts.governance_probe").fetchone() == (1,)
        finally:
            owner.execute("drop table marts.governance_probe")


def test_served_requests_are_audited_through_the_role(client, auth):
    response = client.get("/v1/instruments", headers=auth("pro", "quant"))
    assert response.status_code == 200
    client.app.state.meter.flush()
    request_id = response.headers["x-request-id"]
    with client.app.state.pool.connection() as conn:
        row = conn.execute("select count(*) from api.request_log where request_id = %s", (request_id,))
        assert row.fetchone()[0] == 1
