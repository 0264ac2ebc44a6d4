"""How many exports a key may ask for: `exports_per_day` per UTC day, and `concurrent_exports` being
written at once (the key's tier, gcx/access/entitlements.py). Both hold across every API process:

- the day's count is a row of `api.export_usage`, raised by one statement that refuses to pass the
  quota (a refused request is not counted);
- a slot is a PostgreSQL advisory lock (the key's hash, slot number), held by the connection that
  writes the export and released when it is written (or when that connection ends, if the process
  dies), so a crashed writer never keeps a slot.

Over either limit: 429 with `retry_after_s`, like the request rate limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import psycopg

from api.errors import ApiError
from gcx.access.keys import Principal

SLOT_RETRY_S = 5
"""What a refusal for busy slots suggests: exports take seconds."""

_COUNT = """
insert into api.export_usage as u (key_id, day, exports) values (%(key_id)s, %(day)s, 1)
on conflict (key_id, day) do update set exports = u.exports + 1 where u.exports < %(quota)s
returning u.exports
"""


def count_export(conn: psycopg.Connection, principal: Principal, now: datetime) -> None:
    """Count one export against the key's quota of the UTC day; 429 once the quota is spent."""
    quota = principal.tier.exports_per_day
    counted = conn.execute(_COUNT, {"key_id": principal.key_id, "day": now.date(), "quota": quota}).fetchone()
    if counted is None or counted[0] > quota:
        midnight = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
        retry_after = max(1, math.ceil((midnight - now).total_seconds()))
        message = f"the {principal.tier.name} tier allows {quota} exports per UTC day; the next day starts in {retry_after} s"
        raise too_many("export_quota_exceeded", message, quota, retry_after)


@contextmanager
def export_slot(conn: psycopg.Connection, principal: Principal) -> Iterator[None]:
    """Hold one of the key's export slots on `conn` while the block writes the export; 429 when all
    are taken (by this process or another)."""
    slots = principal.tier.concurrent_exports
    key = ("gcx export " + principal.key_id,)
    for slot in range(slots):
        if conn.execute("select pg_try_advisory_lock(hashtext(%s), %s)", (*key, slot)).fetchone()[0]:
            try:
                yield
            finally:
                conn.execute("select pg_advisory_unlock(hashtext(%s), %s)", (*key, slot))
            return
    message = (
        f"the {principal.tier.name} tier writes {slots} exports at a time for one key; retry when one is done"
    )
    raise too_many("too_many_exports", message, slots, SLOT_RETRY_S)


def too_many(reason: str, message: str, limit: int, retry_after_s: int) -> ApiError:
    """The 429 of either limit, in the shape of the rate limit's."""
    return ApiError(
        429,
        reason,
        message,
        {"limit": limit, "retry_after_s": retry_after_s},
        headers={"Retry-After": str(retry_after_s)},
    )
