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

    Resolved when a run starts, never at import: `home` when given (tests), else the platform's
    settings as every gcx command reads them (`GCX_HOME`, default `.gcx`; `GCX_DATABASE_URL` for an
    external server), so the code location also runs under a plain `dagster dev`.
    """

    home: str | None = None

    def settings(self) -> Settings:
        return Settings(home=Path(self.home)) if self.home else Settings()

    @contextmanager
    def connect(
        self, name: database.DatabaseName, *, autocommit: bool = False
    ) -> Iterator[psycopg.Connection]:
        settings = self.settings()
        database.ensure_databases(settings)
        with database.connect(name, autocommit=autocommit, settings=settings) as conn:
            yield conn
