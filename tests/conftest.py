"""Shared fixtures: one throwaway embedded PostgreSQL per test session, never a mock of it."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gcx import database
from gcx.settings import Settings, get_settings

REFERENCE_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reference"


@pytest.fixture(scope="session")
def gcx_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh GCX_HOME with its own embedded server, stopped at the end of the session.

    The environment variable is set (not just a Settings object passed around) so that code
    reading `get_settings()`, subprocesses and the `gcx` command all see the same home.
    """
    home = tmp_path_factory.mktemp("gcx")
    previous = {key: os.environ.get(key) for key in ("GCX_HOME", "GCX_DATABASE_URL")}
    os.environ["GCX_HOME"] = str(home)
    os.environ.pop("GCX_DATABASE_URL", None)
    get_settings.cache_clear()
    try:
        database.ensure_databases()
        yield home
    finally:
        database.stop_embedded(get_settings())
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def settings(gcx_home: Path) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The real exchange data in ../shared/data/reference; tests using it skip when it is absent."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE_DATA}")
    return REFERENCE_DATA


@pytest.fixture
def empty_exchange(settings: Settings) -> Settings:
    """The exchange source database with its schema and no rows (tests in one session share it)."""
    from gcx import exchange_source

    with database.connect("exchange") as conn:
        exchange_source.ensure_schema(conn)
        tables = [
            row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public'")
        ]
        conn.execute(f"truncate {', '.join(tables)} restart identity cascade")
    return settings
