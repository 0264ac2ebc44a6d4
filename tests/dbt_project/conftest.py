"""Fixtures for the dbt project's tests: a fresh warehouse database per test module on the session's
embedded PostgreSQL, and dbt run in process (dbtRunner) against it with the env from `dbt_env`.

The project is parsed once per session and the manifest handed to every invocation: the modules
share one database name (recreated empty for each), which the manifest's relations carry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest

from gcx import database
from gcx.settings import Settings
from gcx.warehouse.dbt import PROJECT_DIR
from gcx_pipelines.project import dbt_env, environment

PASSED = {"success", "pass"}
AS_OF_DATE = "2024-07-10"
"""The `as_of_date` var every build uses, so point-in-time rules do not depend on today."""
DATABASE = "dbt_project_tests"


def dbt_command(args: tuple[str, ...], artifacts: Path, variables: dict[str, str] | None = None) -> list[str]:
    """A dbt command on the project, writing its target and logs under `artifacts`."""
    return [
        *args,
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(artifacts / "target"),
        "--log-path", str(artifacts / "logs"),
        "--vars", json.dumps({"as_of_date": AS_OF_DATE, **(variables or {})}),
    ]  # fmt: skip


@dataclass
class Warehouse:
    """A throwaway warehouse database and the dbt project pointed at it."""

    url: str
    env: dict[str, str]
    artifacts: Path
    manifest: Manifest

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params or None).fetchall()

    def dbt(self, *args: str, variables: dict[str, str] | None = None) -> dbtRunnerResult:
        """Run a dbt command in process (`variables` added to `as_of_date`); every node must succeed
        (or pass, for tests)."""
        with environment(self.env):
            result = dbtRunner(manifest=self.manifest).invoke(dbt_command(args, self.artifacts, variables))
        if result.exception is not None:
            raise result.exception
        failures = [
            f"{r.node.unique_id}: {r.status} {r.message or ''}"
            for r in (result.result or [])
            if str(r.status) not in PASSED
        ]
        assert result.success and not failures, "dbt " + " ".join(args) + " failed:\n" + "\n".join(failures)
        return result


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The project parsed once (parsing reads no database, but records its name)."""
    with environment({"GCX_WAREHOUSE_DBNAME": DATABASE}):
        result = dbtRunner().invoke(dbt_command(("parse",), tmp_path_factory.mktemp("dbt_parse")))
    assert result.success, result.exception
    return result.result


@pytest.fixture(scope="module")
def fresh_warehouse(
    settings: Settings,
    dbt_manifest: Manifest,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Warehouse:
    """The tests' database, empty, and dbt's env for it (from `dbt_env`)."""
    maintenance = database.server_url(settings)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f"drop database if exists {DATABASE} with (force)")
        conn.execute(f"create database {DATABASE}")
    return Warehouse(
        url=database.url_for_database(maintenance, DATABASE),
        env={**dbt_env(settings), "GCX_WAREHOUSE_DBNAME": DATABASE},
        artifacts=tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]),
        manifest=dbt_manifest,
    )
