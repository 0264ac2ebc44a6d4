"""The read-only BI role on the built platform: it reads the marts, nothing else, never writes, and
still reads a mart after dbt has dropped and recreated it."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from gcx import bi, database
from gcx.cli import app as cli_app
from gcx.settings import Settings, get_settings

ROLE = "gcx_bi_test"
HIDDEN_SCHEMAS = ("raw", "staging", "intermediate", "compliance", "restricted", "snapshots", "api", "quality")
REBUILT_MART = "fct_executive_commodity_volumes"
"""A table model: dbt builds it as a new table renamed over the old one."""


@pytest.fixture(scope="module")
def bi_role(built_platform: Settings):
    """The role with a known password on the built platform, dropped (with its grants) afterwards."""
    with database.connect("warehouse", settings=built_platform) as conn:
        password = bi.ensure_bi_role(conn, ROLE, "test-password")
    yield password
    with database.connect("warehouse", autocommit=True, settings=built_platform) as conn:
        conn.execute(f"drop owned by {ROLE}")  # its grants and default privileges
        conn.execute(f"drop role {ROLE}")


def connect_as_bi(settings: Settings, database_name: str = "warehouse") -> psycopg.Connection:
    url = bi.bi_connection_url(ROLE, "test-password", settings)
    return psycopg.connect(database.url_for_database(url, database_name), autocommit=True)


def one_relation_per_schema(settings: Settings) -> dict[str, str]:
    with database.connect("warehouse", settings=settings) as conn:
        found = conn.execute(
            """
            select distinct on (n.nspname) n.nspname, format('%%I.%%I', n.nspname, c.relname)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
            order by n.nspname, c.relname
            """,
            (list(HIDDEN_SCHEMAS),),
        ).fetchall()
    return dict(found)


def test_the_bi_role_reads_every_mart(built_platform, bi_role):
    with database.connect("warehouse", settings=built_platform) as conn:
        marts = [row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'marts'")]
        expected = dict(conn.execute("select 'fct_trades', count(*) from marts.fct_trades").fetchall())
    assert {"fct_trades", "fct_executive_kpis", "dim_users"} <= set(marts)
    with connect_as_bi(built_platform) as conn:
        for table in marts:
            conn.execute(f"select * from marts.{table} limit 1")
        assert (
            conn.execute("select count(*) from marts.fct_trades").fetchone()[0] == expected["fct_trades"] > 0
        )


def test_the_bi_role_reads_no_other_schema_nor_database(built_platform, bi_role):
    relations = one_relation_per_schema(built_platform)
    assert set(relations) == set(HIDDEN_SCHEMAS), "the built platform should have a relation in each schema"
    with connect_as_bi(built_platform) as conn:
        for relation in relations.values():
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {relation} limit 1")
    with (
        connect_as_bi(built_platform, "exchange") as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select * from trades limit 1")


def test_the_bi_role_cannot_write_even_to_the_marts(built_platform, bi_role):
    with connect_as_bi(built_platform) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("delete from marts.fct_trades")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create table marts.mine (x int)")


def test_the_bi_role_still_reads_a_mart_that_dbt_dropped_and_recreated(built_platform, bi_role, tmp_path):
    """Default privileges, not a grant on today's tables: dbt replaces a table model by a new one.
    dbt runs in process on the code location's parsed manifest (a fresh parse of the project would
    take most of a minute); the rebuilt mart holds the same rows, so the shared platform is unchanged."""
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest, WritableManifest

    from gcx.warehouse.dbt import PROJECT_DIR, prepare_manifest
    from gcx_pipelines.project import dbt_env, environment

    def relation_id_and_rows() -> tuple[int, int]:
        with database.connect("warehouse", settings=built_platform) as conn:
            return conn.execute(
                f"select 'marts.{REBUILT_MART}'::regclass::oid::bigint, count(*) from marts.{REBUILT_MART}"
            ).fetchone()

    before = relation_id_and_rows()
    manifest = Manifest.from_writable_manifest(
        WritableManifest.read_and_check_versions(str(prepare_manifest()))
    )
    with environment(dbt_env(built_platform)):
        result = dbtRunner(manifest=manifest).invoke(
            [
                "run",
                "--quiet",
                "--select",
                REBUILT_MART,
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                "--target-path",
                str(tmp_path / "target"),
                "--log-path",
                str(tmp_path / "logs"),
            ]
        )
    assert result.success, result.exception
    after = relation_id_and_rows()
    assert after[0] != before[0], "dbt should have replaced the table by a new one"
    assert after[1] == before[1] > 0
    with connect_as_bi(built_platform) as conn:
        assert conn.execute(f"select count(*) from marts.{REBUILT_MART}").fetchone()[0] == before[1]


def test_gcx_db_bi_role_prints_the_password_once_and_refuses_bad_names(built_platform, monkeypatch):
    monkeypatch.setenv("GCX_HOME", str(built_platform.home))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(cli_app, ["db", "bi-role", "--role", "gcx_bi_cli_test"])
        assert created.exit_code == 0, created.output
        password = created.output.splitlines()[2]
        assert len(password) >= 30 and f"gcx_bi_cli_test:{password}@" in created.output
        kept = runner.invoke(cli_app, ["db", "bi-role", "--role", "gcx_bi_cli_test", "--keep-password"])
        assert kept.exit_code == 0 and password not in kept.output
        refused = runner.invoke(cli_app, ["db", "bi-role", "--role", "Robert'); drop table x;--"])
        assert refused.exit_code != 0 and "role name" in refused.output
    finally:
        with database.connect("warehouse", autocommit=True, settings=built_platform) as conn:
            conn.execute("drop owned by gcx_bi_cli_test")
            conn.execute("drop role if exists gcx_bi_cli_test")
        get_settings.cache_clear()


@pytest.mark.attack("a BI tool reads the members' settlement-risk scores")
def test_the_bi_role_cannot_read_the_models_compliance_tables(built_platform, bi_role):
    """The scores are compliance data: they live in the compliance schema, not in marts (which the
    BI role reads whole). The built platform has no scores yet: the table is made for this test."""
    from ml.tables import MEMBER_RISK_SCORES_DDL

    with database.connect("warehouse", settings=built_platform) as conn:
        conn.execute(MEMBER_RISK_SCORES_DDL)
    try:
        with connect_as_bi(built_platform) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from compliance.member_risk_scores limit 1")
    finally:
        with database.connect("warehouse", settings=built_platform) as conn:
            conn.execute("drop table compliance.member_risk_scores")
