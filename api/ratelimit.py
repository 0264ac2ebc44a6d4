"""Per-key rate limits: a sliding one-minute window per key, sized by the key's tier; and one per
client address for requests that fail to authenticate (`address_window`,
Settings.failed_auth_per_minute).

A fixed window lets a client send its whole limit at the end of one minute and again at the start of
the next: twice the limit within seconds. The sliding window counts the requests of the current
minute plus those of the minute before, weighted by how much of it still lies within the last 60
seconds (the "sliding window counter" of Cloudflare's and nginx's limiters): at any moment, about
`limit` requests in the last minute at most.

Every authenticated response carries the IETF `RateLimit-*` headers (limit, what is left, seconds
until the current window ends); a refused request gets 429 with `Retry-After`, the seconds until
one more request fits. The windows are rows of `api.rate_windows`, counted by one statement on the
connection that authenticated the request, so every API process (`gcx serve --workers N`, or several
hosts) enforces one limit per key together. A refused request counts too: retrying in a loop does
not get a client in sooner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

WINDOW_S = 60

# SET reads the row as it was: a window that ended rolls over (its count becomes the previous one),
# one that ended over a window ago starts afresh
_TAKE = """
insert into api.rate_windows as w (key_id, started_at, used, previous_used)
values (%(key_id)s, statement_timestamp(), 1, 0)
on conflict (key_id) do update set
    previous_used = case
        when w.started_at <= statement_timestamp() - 2 * make_interval(secs => %(window_s)s) then 0
        when w.started_at <= statement_timestamp() - make_interval(secs => %(window_s)s) then w.used
        else w.previous_used end,
    started_at = case
        when w.started_at <= statement_timestamp() - 2 * make_interval(secs => %(window_s)s)
            then statement_timestamp()
        when w.started_at <= statement_timestamp() - make_interval(secs => %(window_s)s)
            then w.started_at + make_interval(secs => %(window_s)s)
        else w.started_at end,
    used = case when w.started_at <= statement_timestamp() - make_interval(secs => %(window_s)s)
                then 1 else w.used + 1 end
returning w.used, w.previous_used, extract(epoch from statement_timestamp() - w.started_at)::float8
"""


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_s: int
    """Seconds until the current window ends; once exceeded, until one more request fits (rounded up)."""

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
    used, previous, elapsed = conn.execute(_TAKE, {"key_id": key_id, "window_s": WINDOW_S}).fetchone()
    return quota_of(limit, used, previous, elapsed)


def quota_of(limit: int, used: int, previous: int, elapsed: float) -> Quota:
    """The quota with `used` requests `elapsed` seconds into the current window, `previous` in the one
    before."""
    estimate = previous * max(0.0, 1 - elapsed / WINDOW_S) + used
    remaining = math.floor(limit - estimate)
    if remaining >= 0:
        return Quota(limit=limit, remaining=remaining, reset_s=max(1, math.ceil(WINDOW_S - elapsed)))
    # when one more request fits, if none comes meanwhile: the previous window's weight decays ...
    if used <= limit - 1:
        wait = WINDOW_S * (1 - (limit - 1 - used) / previous) - elapsed
    else:  # ... or, with this window full on its own, once it is the previous one and decays
        wait = (WINDOW_S - elapsed) + WINDOW_S * (1 - (limit - 1) / used)
    return Quota(limit=limit, remaining=remaining, reset_s=max(1, math.ceil(wait)))


def address_window(address: str) -> str:
    """The window of a client address's failed authentications (beside the keys' in api.rate_windows)."""
    return f"address:{address}"
