"""Dashboard login sessions: a browser logs in once with its API key and then holds only a random
session id in an HttpOnly, SameSite=Strict cookie. The server stores the id's SHA-256 (a stolen
database row cannot be replayed as a cookie) and the key it stands for; the key itself is never
stored nor sent back. Revoking the key ends its sessions at once (every lookup joins api.keys).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import psycopg

from gcx.access.entitlements import TIERS
from gcx.access.keys import Principal

COOKIE_NAME = "gcx_dashboard_session"
SESSION_LIFETIME = timedelta(hours=8)
"""A working day: after that the dashboards ask for the key again."""
SESSION_IDLE = timedelta(minutes=30)
"""A session left alone this long ends too: an unattended browser does not stay logged in."""


def _digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()


def open_session(conn: psycopg.Connection, principal: Principal) -> str:
    """Store a new session for an authenticated key and return its id (for the cookie only).
    Expired sessions are swept here, so the table holds only live ones."""
    session_id = secrets.token_urlsafe(32)
    conn.execute("delete from api.dashboard_sessions where expires_at < now()")
    conn.execute(
        "insert into api.dashboard_sessions (session_sha256, key_id, expires_at) values (%s, %s, now() + %s)",
        (_digest(session_id), principal.key_id, SESSION_LIFETIME),
    )
    return session_id


def session_principal(conn: psycopg.Connection, session_id: str) -> Principal | None:
    """Who a session id stands for, or None when it is unknown, expired, idle too long, or its key
    was revoked. A live session's idle clock starts again."""
    row = conn.execute(
        """
        with seen as (
            update api.dashboard_sessions set last_seen_at = now()
            where session_sha256 = %s and expires_at > now() and last_seen_at > now() - %s
            returning key_id
        )
        select keys.key_id, keys.name, keys.tier, keys.role
        from seen join api.keys as keys using (key_id)
        where keys.revoked_at is null
        """,
        (_digest(session_id), SESSION_IDLE),
    ).fetchone()
    if row is None:
        return None
    key_id, name, tier, role = row
    return Principal(key_id=key_id, name=name, tier=TIERS[tier], role=role)


def close_session(conn: psycopg.Connection, session_id: str) -> None:
    conn.execute("delete from api.dashboard_sessions where session_sha256 = %s", (_digest(session_id),))
