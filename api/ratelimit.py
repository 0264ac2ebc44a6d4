"""Per-key rate limits: a fixed one-minute window per key, sized by the key's tier; and one per client
address for requests that fail to authenticate (`address_window`, Settings.failed_auth_per_minute).

Every authenticated response carries the IETF `RateLimit-*` headers (limit, what is left, seconds
until the window resets); a refused request gets 429 with `Retry-After`. The windows are rows of
`api.rate_windows`, counted by one statement on the connection that authenticated the request, so
every API process (`gcx serve --workers N`, or several hosts) enforces one limit per key together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

WINDOW_S = 60

_TAKE = """
insert into api.rate_windows as w (key_id, started_at, used) values (%(key_id)s, statement_timestamp(), 1)
on conflict (key_id) do update set
    started_at = case when w.started_at <= statement_timestamp() - make_interval(secs => %(window_s)s)
                      then statement_timestamp() else w.started_at end,
    used = case when w.started_at <= statement_timestamp() - make_interval(secs => %(window_s)s)
                then 1 else w.used + 1 end
returning w.used, extract(epoch from w.started_at - statement_timestamp())::float8 + %(window_s)s
"""


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_s: int
    """Seconds until the window resets (rounded up)."""

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(self.remaining, 0)),
            "RateLimit-Reset": str(self.reset_s),
            "RateLimit-Policy": f"{self.limit};w={WINDOW_S}",
        }
        if self.exceeded:
            headers["Retry-After"] = str(self.reset_s)
        return headers


def take(conn: psycopg.Connection, key_id: str, limit: int) -> Quota:
    """Count one request for the key; the quota says whether it is within the limit."""
    used, left_s = conn.execute(_TAKE, {"key_id": key_id, "window_s": WINDOW_S}).fetchone()
    return Quota(limit=limit, remaining=limit - used, reset_s=max(1, math.ceil(left_s)))


def address_window(address: str) -> str:
    """The window of a client address's failed authentications (beside the keys' in api.rate_windows)."""
    return f"address:{address}"
