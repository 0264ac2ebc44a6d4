"""Per-key rate limits: a fixed one-minute window per key, sized by the key's tier.

Every authenticated response carries the IETF `RateLimit-*` headers (limit, what is left, seconds
until the window resets); a refused request gets 429 with `Retry-After`. Counts are kept in the
serving process: with several API processes behind a balancer, each enforces its own share.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

WINDOW_S = 60.0


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
            "RateLimit-Policy": f"{self.limit};w={int(WINDOW_S)}",
        }
        if self.exceeded:
            headers["Retry-After"] = str(self.reset_s)
        return headers


class RateLimiter:
    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, limit: int) -> Quota:
        """Count one request for the key; the quota says whether it is within the limit."""
        now = self._clock()
        with self._lock:
            started, used = self._windows.get(key_id, (now, 0))
            if now - started >= WINDOW_S:
                started, used = now, 0
            used += 1
            self._windows[key_id] = (started, used)
        reset_s = max(1, math.ceil(started + WINDOW_S - now))
        return Quota(limit=limit, remaining=limit - used, reset_s=reset_s)
