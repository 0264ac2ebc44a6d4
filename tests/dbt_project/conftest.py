"""Fixtures for the dbt project's tests: a fresh warehouse database per test module on the session's
embedded PostgreSQL, and dbt run in process (dbtRunner) against it with the env from `dbt_env`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from dbt.cli.main import dbtRunner, dbtRunnerResult

from gcx import database
from gcx.settings import Settings
from gcx_pipelines.project import DBT_PROJECT_DIR, dbt_env

PASSED = {"success", "pass"}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """os.environ with `values` set, restored afterwards (dbt reads env_var() from os.environ)."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Warehouse:
    """A throwaway warehouse database and the dbt project pointed at it."""

    url: str
    env: dict[str, str]
    artifacts: Path
    vars: dict[str, str]

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(sql, params or None).fetchall()

    def dbt(self, *args: str) -> dbtRunnerResult:
        """Run a dbt command in process; every node must succeed (or pass, for tests)."""
        command = [
            *args,
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(self.artifacts / "target"),
            "--log-path", str(self.artifacts / "logs"),
            "--vars", json.dumps(self.vars),
        ]  # fmt: skip
        with environment(self.env):
            result = dbtRunner().invoke(command)
        if result.exception is not None:
            raise result.exception
        failures = [
            f"{r.node.unique_id}: {r.status} {r.message or ''}"
            for r in (result.result or [])
            if str(r.status) not in PASSED
        ]
        assert result.success and not failures, "dbt " + " ".join(args) + " failed:\n" + "\n".join(failures)
        return result


@pytest.fixture(scope="module")
def fresh_warehouse(settings: Settings, request: pytest.FixtureRequest, tmp_path_factory) -> Warehouse:
    """An empty database named after the test module, and dbt's env for it (from `dbt_env`)."""
    name = "dbt_" + request.module.__name__.rsplit(".", 1)[-1]
    maintenance = database.server_url(settings)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    env = {**dbt_env(settings), "GCX_WAREHOUSE_DBNAME": name}
    return Warehouse(
        url=database.url_for_database(maintenance, name),
        env=env,
        artifacts=tmp_path_factory.mktemp(name),
        vars={"as_of_date": "2024-07-10"},
    )
