"""The embedded server: starts, is shared, survives concurrent starts, gives working URLs."""

import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from gcx import database


def test_every_platform_database_exists(settings):
    with psycopg.connect(database.server_url(settings)) as conn:
        names = {row[0] for row in conn.execute("select datname from pg_database")}
    assert set(database.DATABASES) <= names


@pytest.mark.parametrize("name", database.DATABASES)
def test_database_url_connects_to_that_database(settings, name):
    with psycopg.connect(database.database_url(name)) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == name


def test_psycopg2_url_for_dagster_storage(settings):
    url = database.database_url("dagster", driver="psycopg2")
    assert url.startswith("postgresql+psycopg2://")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select current_database()")).scalar() == "dagster"
    engine.dispose()


def test_unknown_database_is_refused(settings):
    with pytest.raises(ValueError, match="unknown database 'lake'"):
        database.database_url("lake")


def test_ensure_databases_is_idempotent_and_safe_concurrently(settings):
    with ThreadPoolExecutor(max_workers=4) as pool:
        urls = list(pool.map(lambda _: database.ensure_databases(), range(4)))
    assert len(set(urls)) == 1


def test_processes_starting_the_server_at_once_share_one_server(settings):
    """Cold start raced by three processes (as `gcx`, Dagster and the API may): one postmaster, intact data."""
    with database.connect("warehouse", autocommit=True) as conn:
        conn.execute("create table if not exists survives_restart (n int)")
        conn.execute("insert into survives_restart values (42)")
    assert database.stop_embedded(settings)
    code = "from gcx import database; database.ensure_databases(); print(database.status().pid)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    pids = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert pids == {str(database.status().pid)}
    with database.connect("warehouse") as conn:
        assert conn.execute("select n from survives_restart").fetchall() == [(42,)]


@pytest.mark.skipif(shutil.which("psql") is None, reason="psql not installed")
def test_cli_url_is_accepted_by_psql(settings):
    url = subprocess.run(
        [sys.executable, "-m", "gcx", "db", "url", "--database", "exchange"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    out = subprocess.run(["psql", url, "-Atc", "select current_database()"], capture_output=True, text=True)
    assert out.stdout.strip() == "exchange"
