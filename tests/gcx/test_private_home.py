"""Nothing under GCX_HOME is readable by another account: the gcx command writes every file 0600 and
every folder 0700 even when started with a permissive umask (the simulator's landing drops and the
lake hold clear names, e-mails and phones)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gcx import database
from gcx.settings import Settings

pytestmark = pytest.mark.slow  # simulates and ingests a day through the gcx command


@pytest.mark.attack("another OS user reads GCX_HOME")
def test_the_home_and_everything_in_it_are_private_under_a_permissive_umask(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "GCX_HOME": str(home)}
    gcx = [sys.executable, "-m", "gcx"]

    def run(*args: str) -> None:
        subprocess.run(
            [*gcx, *args], env=env, check=True, capture_output=True, preexec_fn=lambda: os.umask(0o022)
        )

    try:
        run("simulate", "--days", "1", "--start", "2026-11-17", "--seed", "5")
        run("materialize", "--job", "ingestion_job")
    finally:
        database.stop_embedded(Settings(home=home))
    assert stat.S_IMODE(home.stat().st_mode) in (0o700, 0o711)  # 0711 only for the server's own account
    seen, exposed = 0, []
    for folder, folders, files in os.walk(home):
        if Path(folder) == home / "pg":
            folders[:] = []  # PostgreSQL's own (0700, its account)
            continue
        for name in folders + files:
            path = Path(folder) / name
            if path.is_socket():
                continue
            mode = stat.S_IMODE(path.lstat().st_mode)
            seen += 1
            if mode & 0o077:
                exposed.append(f"{path.relative_to(home)} {oct(mode)}")
    assert seen > 20 and {p.name for p in home.iterdir()} >= {"landing", "lake", "truth", "pg"}
    assert exposed == []
