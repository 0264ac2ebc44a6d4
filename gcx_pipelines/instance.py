"""How Dagster processes (UI, daemon, `gcx materialize`, tests) find the platform's instance.

The instance config is the top-level dagster.yaml; this module supplies the environment it reads,
derived from the platform settings, so the storage always follows the platform's database.
"""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from gcx import database
from gcx.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
"""The checkout: holds dagster.yaml and workspace.yaml."""


def dagster_environment(settings: Settings) -> dict[str, str]:
    """Environment variables for any Dagster process of this platform (merged over os.environ)."""
    from gcx_pipelines.project import dbt_env

    artifacts = settings.home.resolve() / "dagster"
    artifacts.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)  # dagster-dbt runs the `dbt` executable found on PATH
    return {
        **os.environ,
        **dbt_env(settings),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(PROJECT_ROOT),
        "GCX_HOME": str(settings.home.resolve()),
        "GCX_DAGSTER_STORAGE_URL": database.database_url("dagster", driver="psycopg2", settings=settings),
        "GCX_DAGSTER_ARTIFACTS_DIR": str(artifacts),
        "GCX_DAGSTER_COMPUTE_LOGS_DIR": str(artifacts / "compute_logs"),
    }


@contextmanager
def platform_instance(settings: Settings) -> Iterator[dg.DagsterInstance]:
    """The platform's Dagster instance, with its environment set for the duration and then restored
    (runs executed inside read GCX_HOME and the storage from it)."""
    from gcx_pipelines.project import environment

    with environment(dagster_environment(settings)), dg.DagsterInstance.get() as instance:
        yield instance
