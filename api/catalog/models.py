"""The catalog's records: a dataset, its columns, lineage and per-day quality, and the rules
that name them (ids, titles, time axes, units, tiers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from psycopg import sql

from gcx.access.entitlements import COMPLIANCE_TIER, ROLES
from gcx.access.keys import Principal

CACHE_TTL_S = 60.0
"""How long a built catalog is served before it is rebuilt (row counts, coverage, quality)."""

MART_SCHEMAS = ("marts", "compliance", "restricted")
DATASET_IDS = {"fct_daily_market_summary": "daily_summary"}
"""Ids that are not simply the model name without fct_/dim_."""
TITLES = {
    "trades": "Trades",
    "orders": "Orders",
    "settlements": "Settlements",
    "instruments": "Instruments",
    "ohlcv_1m": "OHLCV bars, 1 minute",
    "ohlcv_5m": "OHLCV bars, 5 minutes",
    "ohlcv_1h": "OHLCV bars, 1 hour",
    "ohlcv_1d": "OHLCV bars, 1 day",
    "daily_summary": "Daily market summary and settlement prices",
    "live_trades": "Live trades (hot table)",
    "surveillance_alerts": "Surveillance alerts",
    "member_risk_scores": "Member settlement-risk scores",
}
TIME_COLUMNS = {
    "trades": "executed_at",
    "live_trades": "executed_at",
    "ohlcv_1m": "bar_start_at",
    "ohlcv_5m": "bar_start_at",
    "ohlcv_1h": "bar_start_at",
    "ohlcv_1d": "bar_start_at",
}
"""The time axis of datasets whose first `_at`/`_date` column is not it (coverage, windows, samples)."""
TIME_COLUMN_SKIP = {"_loaded_at", "valid_from", "valid_to", "effective_to", "dbt_valid_from", "dbt_valid_to"}
LIVE_TRADES_RELATIONS = (("hot", "trades"), ("live", "trades"), ("realtime", "trades"))
"""Where the live feed consumer may keep its hot trades; the first that exists is listed as `live_trades`."""

UNIT_SUFFIXES = (
    ("_ghs_per_t", "GHS/t"),
    ("_ghs", "GHS"),
    ("_t", "t"),
    ("_at", "UTC instant"),
    ("_date", "UTC date"),
    ("_on", "UTC date"),
    ("_ms", "ms"),
    ("_days", "days"),
    ("_ratio", "ratio"),
)
"""Units read from column names (the project's naming convention: price_ghs_per_t, quantity_t)."""

GROUP_TIERS = {"trading": "free", "platform": "member", "executive": "member", "compliance": COMPLIANCE_TIER}
"""The lowest tier that may read a dataset of each dbt group (exports need pro whatever the group)."""
ALL_ROLES = frozenset(ROLES)
SAMPLE_ROWS = 10
Pii = Literal["none", "masked", "clear"]
Condition = Literal["available", "degraded", "missing"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    unit: str | None
    description: str | None
    pii: Pii


@dataclass(frozen=True)
class LineageNode:
    asset_key: tuple[str, ...]
    dataset_id: str | None


@dataclass(frozen=True)
class DayQuality:
    day: date
    condition: Condition
    checks_passed: int
    checks_total: int


@dataclass
class Dataset:
    id: str
    title: str
    description: str
    owner: str | None
    schema: str
    table: str
    tier: str
    roles: frozenset[str]
    listed_to_all: bool
    columns: list[Column]
    time_column: str | None
    symbol_column: str | None
    order_by: list[str]
    upstream: list[LineageNode] = field(default_factory=list)
    downstream: list[LineageNode] = field(default_factory=list)
    quality_datasets: list[str] = field(default_factory=list)
    """Names in quality.check_results whose results count for this dataset (itself and its raw inputs)."""
    row_count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    last_loaded_at: datetime | None = None
    last_built_at: datetime | None = None
    days: list[DayQuality] = field(default_factory=list)
    dbt_tests_total: int = 0
    dbt_tests_passed: int = 0
    model: dict[str, Any] | None = None
    """For a table a model writes: its registered model, champion and the last training run's note."""
    key_column: str | None = None
    """The column naming the API key each row is about (dbt `meta: {rows_of_key: <column>}`): a key
    reads only its own rows there, unless its role is admin (a key's usage is its holder's business)."""

    @property
    def asset_key(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def relation(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def visibility_condition(self) -> sql.Composable | None:
        """Rows a delayed tier may see at `%(visible_until)s`: a bar once its whole interval has ended,
        a day once it is over, anything else once its instant has passed."""
        if "bar_end_at" in self.column_names:
            return sql.SQL("bar_end_at <= %(visible_until)s")
        if self.time_column is None:
            return None
        if self.is_time_instant:
            return sql.SQL("{} < %(visible_until)s").format(sql.Identifier(self.time_column))
        return sql.SQL("{} < cast(%(visible_until)s as date)").format(sql.Identifier(self.time_column))

    @property
    def is_time_instant(self) -> bool:
        """True when the time axis is a timestamp (an instant), False for a date or no axis."""
        return self.time_column is not None and self.time_column.endswith("_at")

    def only_key(self, principal: Principal) -> str | None:
        """The one key whose rows `principal` may read here; None when it may read every row."""
        if self.key_column is None or principal.role == "admin":
            return None
        return principal.key_id

    def readable_by(self, role: str) -> bool:
        return role in self.roles

    def listed_to(self, role: str) -> bool:
        return self.listed_to_all or role in self.roles
