"""What each tier and role may do. The server enforces all of it from the API key; nothing is trusted
from the client. Every limit here is documented in the OpenAPI description and the README.

Tiers (what you pay for):
- free: data 15 minutes late everywhere (history, tail, stream), 30 days of history, 60 requests/min,
  one symbol at a time on a stream;
- member: real time, 1 year of history, 600 requests/min;
- pro: real time, full history, bulk export (200 exports a UTC day, 2 at a time), 3,000 requests/min.

Roles (who you are): compliance datasets and unmasked PII only for compliance and admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

TierName = Literal["free", "member", "pro"]
RoleName = Literal["quant", "analyst", "compliance", "executive", "admin"]


@dataclass(frozen=True)
class Tier:
    name: TierName
    delay: timedelta
    """How late this tier sees every record: nothing executed after now - delay is visible."""
    history: timedelta | None
    """How far back from now a request may reach; None is unlimited."""
    requests_per_minute: int
    max_page_size: int
    """The largest `limit` a request may ask for."""
    bulk_export: bool
    exports_per_day: int = 0
    """Export requests (GET or HEAD) a key may make per UTC day."""
    concurrent_exports: int = 0
    """Exports a key may have being written at once, across every API process."""
    stream_symbols: int | None = None
    """Symbols a stream (SSE, or a WebSocket's subscriptions together) may follow at once; None: any,
    every symbol included."""

    def visible_until(self, now: datetime) -> datetime:
        """The newest instant this tier may see (exclusive)."""
        return now - self.delay

    def history_starts(self, now: datetime) -> datetime | None:
        """The oldest instant this tier may see, or None for no limit."""
        return None if self.history is None else now - self.history


TIERS: dict[str, Tier] = {
    "free": Tier(
        "free", timedelta(minutes=15), timedelta(days=30), 60, 1_000, bulk_export=False, stream_symbols=1
    ),
    "member": Tier("member", timedelta(0), timedelta(days=365), 600, 10_000, bulk_export=False),
    "pro": Tier(
        "pro", timedelta(0), None, 3_000, 50_000, bulk_export=True, exports_per_day=200, concurrent_exports=2
    ),
}

ROLES: tuple[RoleName, ...] = ("quant", "analyst", "compliance", "executive", "admin")

COMPLIANCE_ROLES: frozenset[str] = frozenset({"compliance", "admin"})
"""Roles that may read compliance datasets and unmasked PII."""

COMPLIANCE_TIER = "member"
"""The lowest tier for compliance data (alerts, risk, reports, compliance and restricted datasets):
a free key never sees it, whatever its role."""


def tier_at_least(tier: Tier, required: str) -> bool:
    return list(TIERS).index(tier.name) >= list(TIERS).index(required)


DASHBOARD_ROLES: frozenset[str] = frozenset({"executive", "compliance", "admin"})
"""Roles that may open the dashboards."""
