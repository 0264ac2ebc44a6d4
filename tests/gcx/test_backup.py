"""Backup and point-in-time recovery of the embedded server (gcx/backup.py): rows deleted after a
backup come back when the server is restored to the moment before the delete, and nothing committed
after that moment does."""

import time

import psycopg
import pytest
from typer.testing import CliRunner

from gcx import backup, database
from gcx.cli import app as cli_app
from gcx.settings import Settings

pytestmark = pytest.mark.slow  # restarts its own server three times


@pytest.fixture
def home(tmp_path, monkeypatch):
    settings = Settings(home=tmp_path / "home")
    monkeypatch.setenv("GCX_HOME", str(settings.home))
    database.ensure_databases(settings)
    yield settings
    database.stop_embedded(settings)


def rows(settings: Settings) -> list[str]:
    with database.connect("warehouse", settings=settings) as conn:
        return [row[0] for row in conn.execute("select name from ledger order by name")]


def test_a_restore_brings_back_what_was_deleted_after_the_backup(home):
    with database.connect("warehouse", settings=home) as conn:
        conn.execute("create table ledger (name text primary key)")
        conn.execute("insert into ledger values ('before the backup')")
    taken = backup.backup(home)
    assert (taken.path / "base.tar.gz").exists() and (taken.path / "backup_manifest").exists()
    with database.connect("warehouse", settings=home) as conn:
        conn.execute("insert into ledger values ('after the backup')")
    time.sleep(0.3)
    with psycopg.connect(database.server_url(home)) as conn:
        moment = conn.execute("select now()").fetchone()[0]  # the server's clock: the WAL's
    time.sleep(0.3)
    with database.connect("warehouse", settings=home) as conn:
        conn.execute("delete from ledger")  # the accident
        conn.execute("insert into ledger values ('after the moment')")
    backup.wait_until_archived(home)

    used = backup.restore(home, moment)

    assert used == taken
    assert rows(home) == ["after the backup", "before the backup"]
    set_aside = list(home.home.glob("pg.before-restore-*"))
    assert len(set_aside) == 1 and (set_aside[0] / "PG_VERSION").exists()
    with database.connect("warehouse", settings=home) as conn:  # writable again: it promoted itself
        conn.execute("insert into ledger values ('after the restore')")


def test_a_moment_before_any_backup_is_refused_with_what_to_do(home):
    refused = CliRunner().invoke(cli_app, ["db", "restore", "--to", "2026-01-01T00:00:00+00:00"])
    assert refused.exit_code != 0 and "gcx db backup" in refused.output
