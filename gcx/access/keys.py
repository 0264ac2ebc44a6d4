"""API keys: `gcx_<key_id>_<secret>`. The key id is public (it appears in logs and the metering);
only a SHA-256 of the secret is stored, and it is compared in constant time. A key is shown once,
when it is created (`gcx keys create`)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg

from gcx.access.entitlements import ROLES, TIERS, Tier

PREFIX = "gcx"


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from the key on every request."""

    key_id: str
    name: str
    tier: Tier
    role: str


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    tier: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_key(conn: psycopg.Connection, name: str, tier: str, role: str) -> str:
    """Store a new key and return it in full: the only time it is ever available."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; expected one of {', '.join(TIERS)}")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not name.strip():
        raise ValueError("a key needs a name (who or what it is for)")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    conn.execute(
        "insert into api.keys (key_id, secret_sha256, name, tier, role) values (%s, %s, %s, %s, %s)",
        (key_id, _digest(secret), name.strip(), tier, role),
    )
    conn.execute(
        "insert into api.audit_log (key_id, role, action, parameters) values (%s, %s, 'key_created', %s)",
        (key_id, role, psycopg.types.json.Jsonb({"name": name.strip(), "tier": tier})),
    )
    return f"{PREFIX}_{key_id}_{secret}"


def list_keys(conn: psycopg.Connection) -> list[KeyInfo]:
    rows = conn.execute(
        "select key_id, name, tier, role, created_at, revoked_at from api.keys order by created_at"
    ).fetchall()
    return [KeyInfo(*row) for row in rows]


def revoke_key(conn: psycopg.Connection, key_id: str) -> bool:
    revoked = conn.execute(
        "update api.keys set revoked_at = now() where key_id = %s and revoked_at is null returning role",
        (key_id,),
    ).fetchone()
    if revoked:
        conn.execute(
            "insert into api.audit_log (key_id, role, action) values (%s, %s, 'key_revoked')",
            (key_id, revoked[0]),
        )
    return revoked is not None


class KeyRejected(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def authenticate(conn: psycopg.Connection, presented: str) -> Principal:
    """The principal a presented key stands for; `KeyRejected` (with a reason) when it stands for none."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        raise KeyRejected("invalid_key", "malformed API key: expected gcx_<key id>_<secret>")
    row = conn.execute(
        "select secret_sha256, name, tier, role, revoked_at from api.keys where key_id = %s", (key_id,)
    ).fetchone()
    # Compare against a dummy digest when the id is unknown, so timing does not reveal which ids exist.
    stored = bytes(row[0]) if row else _digest("")
    if not hmac.compare_digest(stored, _digest(secret)) or row is None:
        raise KeyRejected("invalid_key", "unknown API key")
    _, name, tier, role, revoked_at = row
    if revoked_at is not None:
        raise KeyRejected("revoked_key", f"this API key was revoked at {revoked_at.isoformat()}")
    return Principal(key_id=key_id, name=name, tier=TIERS[tier], role=role)
