"""Dagster resources shared by every domain: the platform's settings and database connections."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg

from gcx import database
from gcx.settings import Settings


class GcxResource(dg.ConfigurableResource):
    """Where the platform's state lives and how to reach its databases.

    Resolved when a run starts, never at import: `home` comes from `GCX_HOME` (bound with
    `dg.EnvVar` in definitions.py) and an external server from `GCX_DATABASE_URL` if set.
    """

    home: str

    def settings(self) -> Settings:
        return Settings(home=Path(self.home))

    @contextmanager
    def connect(
        self, name: database.DatabaseName, *, autocommit: bool = False
    ) -> Iterator[psycopg.Connection]:
        settings = self.settings()
        database.ensure_databases(settings)
        with database.connect(name, autocommit=autocommit, settings=settings) as conn:
            yield conn
