"""The warehouse's own tables come from gcx/warehouse/ddl/, applied in order, each file once."""

import threading
from collections.abc import Iterator

import psycopg
import pytest

from gcx import database
from gcx.warehouse import schema

SCRATCH = "schema_test"


@pytest.fixture
def scratch(settings) -> Iterator[str]:
    """An empty database on the session's server, dropped afterwards."""
    server = database.server_url(settings)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database if exists {SCRATCH} with (force)")
        conn.execute(f"create database {SCRATCH}")
    yield database.url_for_database(server, SCRATCH)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"drop database {SCRATCH} with (force)")


def test_files_are_numbered_once_each_from_001():
    versions = [version for version, _ in schema.migrations()]
    assert versions == list(range(1, len(versions) + 1)) and len(versions) >= 6


def test_a_fresh_warehouse_gets_every_table_and_a_second_apply_changes_nothing(scratch):
    with psycopg.connect(scratch) as conn:
        applied = schema.apply(conn)
        assert applied == [path.name for _, path in schema.migrations()]
        for relation in (
            "raw.ingestion_log",
            "raw.quarantine",
            "quality.check_results",
            "quality.dataset_daily_quality",
            "api.keys",
            "api.dashboard_sessions",
            "hot.trades",
            "governance.archived_partitions",
            "ops.pipeline_failures",
        ):
            assert conn.execute("select to_regclass(%s)", (relation,)).fetchone()[0] is not None, relation
        assert schema.apply(conn) == []
        recorded = conn.execute("select version, name from meta.schema_versions order by version").fetchall()
    assert recorded == [(version, path.name) for version, path in schema.migrations()]


def test_processes_starting_at_once_apply_each_file_once(scratch):
    outcomes: list[list[str]] = []

    def start() -> None:
        with psycopg.connect(scratch) as conn:
            outcomes.append(schema.apply(conn))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(applied) for applied in outcomes) == [0, 0, 0, len(schema.migrations())]
