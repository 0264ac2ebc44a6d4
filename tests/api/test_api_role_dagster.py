"""The API's role reads Dagster's storage (the `dagster` database) only through the three functions of
gcx/governance/api_role_dagster.sql: what the catalog and the system-health dashboard show, nothing
else there, no writes, and none of the other databases' tables."""

from __future__ import annotations

import json
from datetime import datetime

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from gcx import database
from gcx.governance import roles
from gcx.settings import Settings


def connect_as_api(settings: Settings, name: database.DatabaseName) -> psycopg.Connection:
    return psycopg.connect(roles.api_database_url(settings, database_name=name), autocommit=True)


def in_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def test_the_role_reads_the_runs_and_asset_facts_the_catalog_and_dashboard_show(client, built_platform):
    trades = json.dumps(["marts", "fct_trades"])
    with connect_as_api(built_platform, "dagster") as conn:
        runs = conn.execute(
            "select run_id, job_name, status from api_read.pipeline_runs(%s, %s)",
            (datetime(1970, 1, 1), datetime(9999, 1, 1)),
        ).fetchall()
        built = conn.execute(
            "select last_materialization_timestamp from api_read.asset_materializations(%s)", ([trades],)
        ).fetchall()
        checks = conn.execute(
            "select passed, total from api_read.asset_check_results(%s)", ([trades],)
        ).fetchall()
    with database.connect("dagster", settings=built_platform) as owner:
        expected_runs = owner.execute(
            "select run_id, pipeline_name, status from runs order by create_timestamp, run_id"
        ).fetchall()
    assert runs == expected_runs and runs
    assert len(built) == 1 and built[0][0] is not None
    assert len(checks) == 1 and checks[0][0] == checks[0][1] >= 10


def test_the_health_dashboard_and_catalog_show_dagster_facts(client, auth, real_time):
    """At real time: the dashboard's default window then reaches today, when Dagster stamped its runs."""
    health = client.get("/dashboards/api/health?start=1970-01-01", headers=auth("pro", "admin"))
    assert health.status_code == 200, health.text
    runs = next(tile for tile in health.json()["tiles"] if tile["id"] == "runs")
    assert runs["value"] >= 1
    trades = client.get("/v1/datasets/trades", headers=auth("pro", "quant")).json()
    assert trades["freshness"]["last_built_at"] is not None and trades["quality"]["dbt_tests_total"] >= 10


@pytest.mark.parametrize(
    ("name", "statement"),
    [
        ("dagster", "select count(*) from runs"),  # run bodies (run config), tags: not through the functions
        ("dagster", "select count(*) from event_logs"),
        ("dagster", "select count(*) from asset_keys"),
        ("dagster", "update runs set status = 'SUCCESS'"),
        ("dagster", "delete from asset_check_executions"),
        ("dagster", "create table api_read.probe (x int)"),
        ("dagster", "create function api_read.probe() returns int language sql as 'select 1'"),
        ("exchange", "select count(*) from trades"),
        ("exchange", "select count(*) from beneficial_owners"),  # clear PII at the source
    ],
)
def test_the_role_cannot_read_or_write_anything_else(client, built_platform, name, statement):
    with connect_as_api(built_platform, name) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_no_other_role_may_run_the_functions(client, built_platform):
    with database.connect("dagster", autocommit=True, settings=built_platform) as owner:
        owner.execute("drop role if exists gcx_probe_no_grants")
        owner.execute("create role gcx_probe_no_grants login")
        try:
            url = roles.api_database_url(built_platform, role="gcx_probe_no_grants", database_name="dagster")
            with (
                psycopg.connect(url, autocommit=True) as conn,
                pytest.raises(psycopg.errors.InsufficientPrivilege),
            ):
                conn.execute("select * from api_read.pipeline_runs('1970-01-01', '9999-01-01')")
        finally:
            owner.execute("drop role gcx_probe_no_grants")


def test_the_functions_work_once_dagster_creates_its_tables_after_the_api_started(client, built_platform):
    """`gcx up` starts the API and Dagster together: the reads are defined before the tables exist."""
    scratch = "gcx_probe_dagster_storage"
    with database.connect("dagster", autocommit=True, settings=built_platform) as owner:
        owner.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(scratch)))
        owner.execute(sql.SQL("create database {}").format(sql.Identifier(scratch)))
    scratch_url = in_database(database.database_url("dagster", settings=built_platform), scratch)
    try:
        with psycopg.connect(scratch_url, autocommit=True) as owner, owner.transaction():
            owner.execute(
                sql.SQL(roles.API_ROLE_DAGSTER_SQL.read_text()).format(
                    role=sql.Identifier(roles.API_ROLE), database=sql.Identifier(scratch)
                )
            )
        api_url = in_database(roles.api_database_url(built_platform, database_name="dagster"), scratch)
        query = "select run_id, status from api_read.pipeline_runs('1970-01-01', '9999-01-01')"
        with psycopg.connect(api_url, autocommit=True) as conn:
            assert conn.execute("select to_regclass('public.runs')").fetchone()[0] is None
            with pytest.raises(psycopg.errors.UndefinedTable):
                conn.execute(query)
            with psycopg.connect(scratch_url, autocommit=True) as owner:  # Dagster's first start
                owner.execute(
                    "create table runs (run_id varchar(255), pipeline_name text, status varchar(63),"
                    " create_timestamp timestamp, start_time float8, end_time float8)"
                )
                owner.execute("insert into runs values ('r1', 'job', 'SUCCESS', '2026-01-01', null, null)")
            assert conn.execute(query).fetchall() == [("r1", "SUCCESS")]
    finally:
        with database.connect("dagster", autocommit=True, settings=built_platform) as owner:
            owner.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(scratch)))
