"""Where the dbt project and its manifest are, and how the manifest is made.

Dagster's dbt assets and the API's dataset catalog both read dbt's manifest; neither makes it when
imported. `prepare_manifest()` is the explicit step that does (`dbt parse`, which reads no
database): `make install`, `gcx materialize`, `gcx ui` and the test session call it, and the
catalog calls it only when no manifest exists at all. `python -m gcx.warehouse.dbt` runs it.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
TARGET_DIR = PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
"""Where dagster-dbt's DbtProject keeps the manifest too (gcx_pipelines/project.py; a test checks)."""

_NOT_PROJECT_FILES = (TARGET_DIR, PROJECT_DIR / "logs", PROJECT_DIR / "dbt_packages")


def dbt_executable() -> str:
    """The `dbt` of this Python's environment (the project's .venv), whatever PATH says; `dbt` from
    PATH when there is none beside it."""
    local = Path(sys.executable).with_name("dbt")
    return str(local) if local.exists() else "dbt"


def manifest_is_current() -> bool:
    """The manifest exists and is newer than every model, test, macro and YAML file of the project."""
    if not MANIFEST_PATH.exists():
        return False
    newest = max(
        path.stat().st_mtime
        for path in PROJECT_DIR.rglob("*")
        if path.suffix in {".sql", ".yml", ".yaml"}
        and not any(folder in path.parents for folder in _NOT_PROJECT_FILES)
    )
    return MANIFEST_PATH.stat().st_mtime >= newest


def prepare_manifest() -> Path:
    """dbt's manifest, parsed now when it is missing or older than a file of the project.

    Processes preparing at once (the Dagster webserver and daemon, parallel test sessions) take
    turns on a file lock, so one parses and the others find its manifest."""
    if manifest_is_current():
        return MANIFEST_PATH
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with (TARGET_DIR / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest_is_current():
            try:
                _parse()
            except subprocess.CalledProcessError:
                # partial parsing can trip over renamed models (a unit test of the old name still in
                # its saved state): parse from scratch
                _parse("--no-partial-parse")
    return MANIFEST_PATH


def _parse(*flags: str) -> None:
    subprocess.run(
        [
            dbt_executable(),
            "parse",
            "--quiet",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            *flags,
        ],
        check=True,
        cwd=PROJECT_DIR,
    )


if __name__ == "__main__":
    print(f"dbt manifest: {prepare_manifest()}")
