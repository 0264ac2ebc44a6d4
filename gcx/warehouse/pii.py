"""The key of the PII pseudonyms: one per installation, never a default.

Outside the `restricted` schema a person appears as HMAC-SHA256(key, lower(trim(value))): stable,
so tables still join on it, and without the key not reversible by a dictionary of names, e-mails
or phone numbers. The key is, in order: `GCX_PII_KEY` (64 hex characters), else the file
`<GCX_HOME>/secrets/pii.key`, else 32 random bytes written there at first start (folder 0700, file
0600). `install` puts it into the warehouse (private.pii_key, gcx/warehouse/ddl/007_pii.sql), where
dbt's `pii_hash` macro uses it.

Rotation (docs/governance.md): set a new key and rebuild the marts with a full refresh; every
pseudonym changes, so joins with pseudonyms taken under the old key break, by design.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import psycopg

from gcx.settings import Settings

KEY_VARIABLE = "GCX_PII_KEY"
KEY_BYTES = 32
BLOCK = 64  # SHA-256's block size: the HMAC pads are this long


def key_path(settings: Settings) -> Path:
    return settings.home.resolve() / "secrets" / "pii.key"


def installation_key(settings: Settings) -> bytes:
    """The installation's key: from the environment, else its file, else a new one saved there."""
    given = os.environ.get(KEY_VARIABLE, "").strip()
    if given:
        try:
            key = bytes.fromhex(given)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise ValueError(
                f"{KEY_VARIABLE} must be {KEY_BYTES * 2} hex characters (a {KEY_BYTES}-byte key)"
            )
        return key
    path = key_path(settings)
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()


def install(conn: psycopg.Connection, key: bytes) -> bool:
    """Put `key` into private.pii_key unless it is there already; whether it changed."""
    with conn.transaction():
        current = conn.execute("select fingerprint from private.pii_key").fetchone()
        if current is not None and current[0] == fingerprint(key):
            return False
        padded = key.ljust(BLOCK, b"\0")
        conn.execute(
            """
            insert into private.pii_key (inner_pad, outer_pad, fingerprint) values (%s, %s, %s)
            on conflict (id) do update set inner_pad = excluded.inner_pad, outer_pad = excluded.outer_pad,
                fingerprint = excluded.fingerprint, installed_at = now()
            """,
            (bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded), fingerprint(key)),
        )
    return True


def pseudonym(key: bytes, value: str) -> str:
    """What private.pii_hash gives for `value` (for tests and for matching a person by hand)."""
    import hmac

    return hmac.new(key, value.strip(" ").lower().encode(), hashlib.sha256).hexdigest()  # as SQL's trim()
