"""The platform's files: private to the account that runs it, and written so that a reader sees a
whole file or none (the lake, exports, landing drops)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

PRIVATE_UMASK = 0o077
"""Every file the platform writes is 0600 and every folder 0700, whatever the shell's umask."""


def keep_private() -> None:
    """From here on, this process and what it starts (the API, Dagster's UI, daemon and runs, dbt,
    PostgreSQL) write private files. The gcx command calls it first thing: start the platform
    through it (`make demo`, `gcx up`, `gcx ui`), or with `umask 077` when running `dagster dev`."""
    os.umask(PRIVATE_UMASK)


def private_home(home: Path, shared_with_server: bool = False) -> None:
    """GCX_HOME readable by its owner only: 0700; 0711 when the embedded PostgreSQL runs as another
    account (the platform started as root), which must pass through it to its own 0700 data folder
    (others can then traverse the home but neither list it nor open a file in it)."""
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711 if shared_with_server else 0o700)


def write_atomically(path: Path, content: bytes) -> None:
    """Replace `path` with `content` all at once: a reader sees the old file or the new one, never
    half of it, and a failed write leaves no temporary file behind."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(content)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
