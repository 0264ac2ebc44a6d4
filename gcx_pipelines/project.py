"""The dbt project as Dagster sees it, and how dbt reaches the warehouse.

Everything in the code location imports `dbt_project` (the `DbtProject`, located by
gcx/warehouse/dbt.py) and `dbt_env` from here. Nothing connects or parses at import: `dbt_env`
computes the connection only when called (at run time, from the run's settings), and the manifest
is made by the explicit `gcx.warehouse.dbt.prepare_manifest()`, or by `dagster dev` itself
(`prepare_if_dev`, as dagster-open-platform does).

To run dbt by hand against the platform's warehouse:

    eval "$(uv run python -m gcx_pipelines.project)"   # exports GCX_WAREHOUSE_* for this shell
    uv run dbt build --project-dir dbt_project --profiles-dir dbt_project
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from dagster_dbt import DbtProject
from sqlalchemy.engine import make_url

from gcx import database
from gcx.settings import Settings, get_settings
from gcx.warehouse.dbt import PROJECT_DIR, prepare_manifest

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
"""dbt_project/ with its profiles.yml; the manifest goes to dbt_project/target/manifest.json."""
if os.environ.get("DAGSTER_IS_DEV_CLI"):
    # under `dagster dev` only (DbtProject.prepare_if_dev's rule), with the dbt of this environment
    # whatever PATH says: re-parse when a model changed, so edits show up on reload
    prepare_manifest()

DEFAULT_POSTGRES_PORT = 5432


def dbt_env(settings: Settings | None = None) -> dict[str, str]:
    """The environment variables dbt_project/profiles.yml reads, for the settings' warehouse.

    The embedded server listens on a Unix socket: its directory is the host (libpq and dbt-postgres
    accept a directory there). PGTZ pins the session time zone to UTC, the platform's only zone.
    Starts the embedded server when it is not running (as every database user of the platform does).
    """
    url = make_url(database.database_url("warehouse", settings=settings or get_settings()))
    host = url.host or url.query.get("host")
    if isinstance(host, tuple):  # ?host= given more than once: libpq uses the first
        host = host[0]
    return {
        "GCX_WAREHOUSE_HOST": host or "localhost",
        "GCX_WAREHOUSE_PORT": str(url.port or DEFAULT_POSTGRES_PORT),
        "GCX_WAREHOUSE_USER": url.username or "postgres",
        "GCX_WAREHOUSE_PASSWORD": url.password or "",
        "GCX_WAREHOUSE_DBNAME": url.database or "warehouse",
        "PGTZ": "UTC",
    }


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` set for the duration, restored after: dbt reads its connection
    with env_var(), and both dbt's runner and DbtCliResource take the process environment."""
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


if __name__ == "__main__":
    for name, value in dbt_env().items():
        print(f"export {name}={shlex.quote(value)}")
