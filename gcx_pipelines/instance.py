"""How Dagster processes (UI, daemon, `gcx materialize`, the Dagster CLI, tests) find the
platform's instance.

The instance config is the top-level dagster.yaml; it names the classes below, which locate the
storage from the platform's settings in whichever process loads them (GCX_HOME, GCX_DATABASE_URL),
so the storage always follows the platform's database and nothing has to be exported first.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.storage.root import LocalArtifactStorage
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage

from gcx import database
from gcx.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The checkout: holds dagster.yaml and workspace.yaml."""


class PlatformStorage(DagsterPostgresStorage):
    """Run, event and schedule storage in the platform's `dagster` database (a psycopg2 URL:
    dagster-postgres needs psycopg2 for NOTIFY); the embedded server is started if need be."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> PlatformStorage:
        settings = Settings()  # read now, in this process: not a cached get_settings()
        database.ensure_databases(settings)
        return cls(
            database.database_url("dagster", driver="psycopg2", settings=settings), inst_data=inst_data
        )


class PlatformArtifactStorage(LocalArtifactStorage):
    """Run artifacts under <GCX_HOME>/dagster."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> PlatformArtifactStorage:
        return cls(str(Settings().home.resolve() / "dagster"), inst_data=inst_data)


class PlatformComputeLogs(LocalComputeLogManager):
    """Each step's stdout and stderr under <GCX_HOME>/dagster/compute_logs."""

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> PlatformComputeLogs:
        return cls(str(Settings().home.resolve() / "dagster" / "compute_logs"), inst_data=inst_data)


def dagster_environment(settings: Settings) -> dict[str, str]:
    """Environment variables for any Dagster process of this platform (merged over os.environ)."""
    from gcx_pipelines.project import dbt_env

    venv_bin = str(Path(sys.executable).parent)  # dagster-dbt runs the `dbt` executable found on PATH
    return {
        **os.environ,
        **dbt_env(settings),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(PROJECT_ROOT),
        "GCX_HOME": str(settings.home.resolve()),
    }


@contextmanager
def platform_instance(settings: Settings) -> Iterator[dg.DagsterInstance]:
    """The platform's Dagster instance, with its environment set for the duration and then restored
    (runs executed inside read GCX_HOME and the storage from it)."""
    from gcx_pipelines.project import environment

    with environment(dagster_environment(settings)), dg.DagsterInstance.get() as instance:
        yield instance
