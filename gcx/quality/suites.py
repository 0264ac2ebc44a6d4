"""The expectation suites of the warehouse's raw datasets: one declarative entry per dataset.

Each `DatasetSuite` lists what must hold for the rows of one daily partition of `raw.<dataset>`.
Entries are plain data, so importing this module costs nothing (Great Expectations takes seconds
to import); `validation.py` turns an entry into a Great Expectations suite and runs it.

Rules every suite gets from its shape, not written out per dataset:
  - the key is never null and unique within the partition; mutable exchange tables arrive as change
    rows, so their key is (primary key, updated_at) (see raw_schema.sql);
  - the column that assigns a row to its partition (exchange: `updated_at`; the trading calendar:
    `calendar_date`) lies in the partition's UTC day. Ingestion's first partition also takes every
    earlier row, so there only the day's end bounds it (`partition_from` is then the earliest date).

Bounds that depend on the partition are Great Expectations suite parameters, filled per run by
`partition_parameters`: `partition_from` / `partition_start` / `partition_end` (the UTC day, end
exclusive), `partition_end_slack` (a day later: records may carry the next day's moments, as
ingestion allows) and `horizon` (ten years on, for dates that may lie in the future: expiries, due
dates, delistings).

Enums are the value sets of gcx/simulator/exchange_schema.sql and of the ingestion registry
(gcx/ingestion/datasets.py); a test keeps the two registries in step. This module
does not import ingestion's, so that the checks load on their own. An expectation may be given
severity "warning": reported, never blocking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

Severity = Literal["critical", "warning"]

GCX_SYMBOL_REGEX = r"^G(?:AP|EJ|KI|KU|SA|TA|TU|WA|WE)(?:[WY]M|SB|SO|SS|MR)[1-4]$"
GCX_WAREHOUSES = ("AP", "EJ", "KI", "KU", "SA", "TA", "TU", "WA", "WE")
GCX_COMMODITIES = ("WM", "YM", "SB", "SO", "SS", "MR")
GCX_PRICE_RANGE_GHS_PER_T = (500, 15_000)
"""GCX prices run roughly 1,000-7,500 GHS/t; the bounds leave 2x room, so only absurd prices fail
(a 10x fat finger, a price in pesewas). Imported venues (`instruments.venue != 'GCX'`) are exempt."""
MAX_PRICE = 1e9
"""Above any venue's price, as `gcx import trades` refuses it."""
EARLIEST_EXCHANGE = datetime(1990, 1, 1, tzinfo=UTC)
"""Imported venues bring history back to 1990 (gcx/importer.py's EARLIEST_TRADE)."""
EARLIEST_PLATFORM = datetime(2018, 1, 1, tzinfo=UTC)
"""GCX launched in November 2018; no compliance or platform event predates that year."""
EARLIEST_BIRTH = datetime(1900, 1, 1, tzinfo=UTC)
HORIZON_YEARS = 10

PARTITION_FROM = {"$PARAMETER": "partition_from"}
PARTITION_START = {"$PARAMETER": "partition_start"}
PARTITION_END = {"$PARAMETER": "partition_end"}
PARTITION_END_SLACK = {"$PARAMETER": "partition_end_slack"}
HORIZON = {"$PARAMETER": "horizon"}


def partition_parameters(partition_date: date, first_partition: bool = False) -> dict[str, datetime]:
    """The suite parameters of one daily partition (UTC instants)."""
    start = datetime(partition_date.year, partition_date.month, partition_date.day, tzinfo=UTC)
    return {
        "partition_from": EARLIEST_EXCHANGE if first_partition else start,
        "partition_start": start,
        "partition_end": start + timedelta(days=1),
        "partition_end_slack": start + timedelta(days=2),
        "horizon": start + timedelta(days=round(365.25 * HORIZON_YEARS)),
    }


@dataclass(frozen=True)
class Expect:
    """One expectation: its Great Expectations type (snake_case, as GX names it) and arguments.

    `where` restricts it to the rows where a column equals a value (a GX row condition).
    """

    type: str
    kwargs: Mapping[str, Any]
    where: tuple[str, Any] | None = None
    severity: Severity = "critical"

    @property
    def name(self) -> str:
        """How reports name it, e.g. ``expect_column_values_to_be_between(price_ghs_per_t) where venue = GCX``."""
        kw = self.kwargs
        if "column" in kw:
            target = kw["column"]
        elif "column_list" in kw:
            target = ", ".join(kw["column_list"])
        elif "column_A" in kw:
            target = f"{kw['column_A']}, {kw['column_B']}"
        else:
            target = ""
        where = f" where {self.where[0]} = {self.where[1]}" if self.where else ""
        return f"{self.type}({target}){where}"


def not_null(*columns: str, where: tuple[str, Any] | None = None) -> list[Expect]:
    return [Expect("expect_column_values_to_not_be_null", {"column": c}, where) for c in columns]


def unique(*columns: str) -> Expect:
    if len(columns) == 1:
        return Expect("expect_column_values_to_be_unique", {"column": columns[0]})
    return Expect("expect_compound_columns_to_be_unique", {"column_list": list(columns)})


def one_of(
    column: str, values: Iterable[Any], where: tuple[str, Any] | None = None, severity: Severity = "critical"
) -> Expect:
    return Expect(
        "expect_column_values_to_be_in_set", {"column": column, "value_set": list(values)}, where, severity
    )


def between(
    column: str,
    min_value: Any = None,
    max_value: Any = None,
    *,
    strict_min: bool = False,
    strict_max: bool = False,
    where: tuple[str, Any] | None = None,
) -> Expect:
    kwargs = {"column": column, "min_value": min_value, "max_value": max_value}
    kwargs |= {"strict_min": strict_min, "strict_max": strict_max}
    return Expect("expect_column_values_to_be_between", kwargs, where)


def positive(*columns: str, where: tuple[str, Any] | None = None) -> list[Expect]:
    return [between(c, 0, strict_min=True, where=where) for c in columns]


def non_negative(*columns: str) -> list[Expect]:
    return [between(c, 0) for c in columns]


def matches(
    column: str, regex: str, where: tuple[str, Any] | None = None, severity: Severity = "critical"
) -> Expect:
    re.compile(regex)
    return Expect("expect_column_values_to_match_regex", {"column": column, "regex": regex}, where, severity)


def not_before(later: str, earlier: str) -> Expect:
    """`later` >= `earlier` on every row that has both."""
    kwargs = {"column_A": later, "column_B": earlier, "or_equal": True}
    return Expect(
        "expect_column_pair_values_a_to_be_greater_than_b",
        kwargs | {"ignore_row_if": "either_value_is_missing"},
    )


def in_partition_day(column: str) -> Expect:
    """The column's UTC date is the partition's date (or earlier, in the first partition)."""
    return between(column, PARTITION_FROM, PARTITION_END, strict_max=True)


def plausible_time(
    column: str, earliest: datetime, latest: Mapping[str, str] = PARTITION_END_SLACK
) -> Expect:
    return between(column, earliest, latest)


@dataclass(frozen=True)
class DatasetSuite:
    """What must hold for one daily partition of ``raw.<source>__<dataset>``."""

    source: str
    dataset: str
    key: tuple[str, ...]
    expectations: tuple[Expect, ...]
    versioned: bool = False
    """Change rows keyed by (key, updated_at) (exchange)."""
    partition_column: str | None = None
    """The column whose UTC day is the row's partition (exchange); None for file drops (file date)."""
    lookups: Mapping[str, str] = field(default_factory=dict)
    """Extra columns computed in SQL for the expectations (alias ``t`` is the raw row)."""

    @property
    def name(self) -> str:
        return f"{self.source}__{self.dataset}"

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def unique_key(self) -> tuple[str, ...]:
        return (*self.key, "updated_at") if self.versioned else self.key

    def all_expectations(self) -> list[Expect]:
        derived = [*not_null(*self.key), unique(*self.unique_key)]
        if self.partition_column:
            if self.partition_column not in self.key:
                derived += not_null(self.partition_column)
            derived.append(in_partition_day(self.partition_column))
        return [*derived, *self.expectations]


GCX = ("venue", "GCX")
SUBJECT_TYPES = ("member", "beneficial_owner")
PLANS = ("free", "member", "pro")
"""The data platform's entitlement plans (ARCHITECTURE.md)."""
INSTRUMENT_VENUE = (
    "(select i.venue from raw.exchange__instruments i where i.instrument_id = t.instrument_id"
    " order by i.updated_at desc nulls last limit 1)"
)
"""The venue of a row's instrument (its latest version in raw): GCX price ranges apply to GCX only."""


def _exchange(
    dataset: str, key: Sequence[str], *expectations: Expect | list[Expect], **kwargs: Any
) -> DatasetSuite:
    return DatasetSuite(
        "exchange",
        dataset,
        tuple(key),
        _flatten(expectations),
        versioned=True,
        partition_column="updated_at",
        **kwargs,
    )


def _drop(
    source: str, dataset: str, key: Sequence[str], *expectations: Expect | list[Expect]
) -> DatasetSuite:
    return DatasetSuite(source, dataset, tuple(key), _flatten(expectations))


def _flatten(items: Iterable[Expect | list[Expect]]) -> tuple[Expect, ...]:
    return tuple(e for item in items for e in (item if isinstance(item, list) else [item]))


SUITES: tuple[DatasetSuite, ...] = (
    _exchange(
        "warehouses",
        ["warehouse_code"],
        not_null("name", "region", "capacity_t"),
        matches("warehouse_code", r"^[A-Z]{2}$"),
        positive("capacity_t"),
    ),
    _exchange(
        "instruments",
        ["instrument_id"],
        not_null("symbol", "venue", "tick_size_ghs", "lot_size_t", "listed_on"),
        matches("symbol", GCX_SYMBOL_REGEX, where=GCX),
        not_null("commodity_code", "grade", "warehouse_code", where=GCX),
        one_of("commodity_code", GCX_COMMODITIES, where=GCX),
        one_of("warehouse_code", GCX_WAREHOUSES, where=GCX),
        one_of("colour", ["white", "yellow"]),
        between("grade", 1, 4, where=GCX),
        positive("tick_size_ghs", "lot_size_t"),
        plausible_time("listed_on", EARLIEST_EXCHANGE, HORIZON),
        not_before("delisted_on", "listed_on"),
    ),
    _exchange(
        "members",
        ["member_id"],
        not_null("name", "member_type", "registered_on", "status"),
        one_of("member_type", ["broker", "bank", "trader", "processor"]),
        one_of("status", ["active", "suspended", "terminated"]),
        plausible_time("registered_on", EARLIEST_EXCHANGE, PARTITION_END),
    ),
    _exchange(
        "beneficial_owners",
        ["owner_id"],
        not_null("full_name", "country"),
        matches("country", r"^[A-Z]{2}$"),
        matches("national_id", r"^GHA-\d{9}-\d$", where=("country", "GH")),
        plausible_time("date_of_birth", EARLIEST_BIRTH, PARTITION_START),
    ),
    _exchange(
        "accounts",
        ["account_id"],
        not_null("member_id", "owner_id", "account_type", "opened_at", "status"),
        one_of("account_type", ["proprietary", "client"]),
        one_of("status", ["open", "frozen", "closed"]),
        plausible_time("opened_at", EARLIEST_EXCHANGE, PARTITION_END),
        not_before("updated_at", "opened_at"),
        not_before("closed_at", "opened_at"),
        not_null("closed_at", where=("status", "closed")),
    ),
    _exchange(
        "orders",
        ["order_id"],
        not_null("instrument_id", "member_id", "account_id", "side", "order_type", "quantity_t", "filled_t"),
        not_null("status", "created_at"),
        one_of("side", ["buy", "sell"]),
        one_of("order_type", ["limit", "market"]),
        one_of("status", ["open", "partially_filled", "filled", "cancelled"]),
        not_null("limit_price_ghs_per_t", where=("order_type", "limit")),
        between("limit_price_ghs_per_t", 0, MAX_PRICE, strict_min=True, strict_max=True),
        between("limit_price_ghs_per_t", *GCX_PRICE_RANGE_GHS_PER_T, where=GCX),
        positive("quantity_t"),
        non_negative("filled_t"),
        not_before("quantity_t", "filled_t"),
        plausible_time("created_at", EARLIEST_EXCHANGE, PARTITION_END),
        not_before("updated_at", "created_at"),
        lookups={"venue": INSTRUMENT_VENUE},
    ),
    _exchange(
        "order_events",
        ["event_id"],
        not_null("order_id", "event_type", "event_at"),
        one_of("event_type", ["new", "modify", "cancel", "fill"]),
        between("limit_price_ghs_per_t", 0, MAX_PRICE, strict_min=True, strict_max=True),
        non_negative("quantity_t"),
        plausible_time("event_at", EARLIEST_EXCHANGE, PARTITION_END),
        not_before("updated_at", "event_at"),
    ),
    _exchange(
        "trades",
        ["trade_id"],
        not_null("instrument_id", "executed_at", "price_ghs_per_t", "quantity_t"),
        not_null("buyer_member_id", "seller_member_id", where=GCX),
        between("price_ghs_per_t", 0, MAX_PRICE, strict_min=True, strict_max=True),
        between("price_ghs_per_t", *GCX_PRICE_RANGE_GHS_PER_T, where=GCX),
        positive("quantity_t"),
        one_of("aggressor_side", ["buy", "sell"]),
        plausible_time("executed_at", EARLIEST_EXCHANGE, PARTITION_END_SLACK),
        lookups={"venue": INSTRUMENT_VENUE},
    ),
    _exchange(
        "settlements",
        ["settlement_id"],
        not_null("trade_id", "member_id", "obligation", "amount_ghs", "quantity_t", "due_on", "status"),
        one_of("obligation", ["pay_cash", "deliver_commodity"]),
        one_of("status", ["pending", "settled", "late", "failed"]),
        non_negative("amount_ghs"),
        positive("quantity_t"),
        plausible_time("due_on", EARLIEST_EXCHANGE, HORIZON),
        not_null("settled_at", where=("status", "settled")),
        not_before("updated_at", "settled_at"),
    ),
    _exchange(
        "warehouse_receipts",
        ["receipt_id"],
        not_null("warehouse_code", "account_id", "commodity_code", "grade", "quantity_t"),
        not_null("deposited_at", "status"),
        one_of("warehouse_code", GCX_WAREHOUSES),
        one_of("commodity_code", GCX_COMMODITIES),
        between("grade", 1, 4),
        positive("quantity_t"),
        one_of("status", ["active", "pledged", "withdrawn"]),
        plausible_time("deposited_at", EARLIEST_EXCHANGE, PARTITION_END),
        not_before("withdrawn_at", "deposited_at"),
        not_before("updated_at", "deposited_at"),
    ),
    DatasetSuite(
        "exchange",
        "trading_calendar",
        ("calendar_date",),
        _flatten(
            [
                not_null("is_trading_day"),
                not_null("session_open_at", "session_close_at", where=("is_trading_day", True)),
                Expect(
                    "expect_column_values_to_be_null",
                    {"column": "session_open_at"},
                    ("is_trading_day", False),
                ),
                not_before("session_close_at", "session_open_at"),
            ]
        ),
        partition_column="calendar_date",
    ),
    _drop(
        "compliance",
        "kyc_checks",
        ["check_id"],
        not_null("subject_type", "subject_id", "check_type", "status", "checked_at"),
        one_of("subject_type", SUBJECT_TYPES),
        one_of("check_type", ["identity", "address", "source_of_funds"]),
        one_of("status", ["passed", "failed", "pending"]),
        plausible_time("checked_at", EARLIEST_PLATFORM),
        plausible_time("expires_on", EARLIEST_PLATFORM, HORIZON),
    ),
    _drop(
        "compliance",
        "sanctions_screening",
        ["screening_id"],
        not_null("subject_type", "subject_id", "list_name", "screened_at", "result", "match_score"),
        one_of("subject_type", SUBJECT_TYPES),
        one_of("list_name", ["UN", "OFAC", "EU", "GH-FIC"]),
        one_of("result", ["clear", "potential_match", "confirmed_match"]),
        between("match_score", 0, 1),
        plausible_time("screened_at", EARLIEST_PLATFORM),
    ),
    _drop(
        "compliance",
        "regulatory_filings",
        ["filing_id"],
        not_null("member_id", "filing_type", "period_end", "due_on", "status"),
        one_of(
            "filing_type", ["annual_return", "capital_adequacy", "suspicious_activity_report", "audit_report"]
        ),
        one_of("status", ["filed", "late", "missing"]),
        plausible_time("period_end", EARLIEST_PLATFORM, PARTITION_END_SLACK),
        plausible_time("due_on", EARLIEST_PLATFORM, HORIZON),
        not_before("due_on", "period_end"),
        plausible_time("filed_at", EARLIEST_PLATFORM),
    ),
    _drop(
        "compliance",
        "position_limits",
        ["limit_id"],
        not_null("member_id", "commodity_code", "max_net_position_t", "effective_from"),
        one_of("commodity_code", GCX_COMMODITIES),
        positive("max_net_position_t"),
        plausible_time("effective_from", EARLIEST_PLATFORM, HORIZON),
        not_before("effective_to", "effective_from"),
    ),
    _drop(
        "platform",
        "users",
        ["user_id"],
        not_null("email", "full_name", "country", "role", "signed_up_at"),
        matches("email", r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        matches("country", r"^[A-Z]{2}$"),
        one_of("role", ["trader", "compliance_officer", "admin", "analyst", "viewer"]),
        plausible_time("signed_up_at", EARLIEST_PLATFORM),
    ),
    _drop(
        "platform",
        "subscriptions",
        ["subscription_id"],
        not_null("user_id", "plan", "event", "occurred_at", "price_ghs_per_month"),
        one_of("plan", PLANS),
        one_of("event", ["start", "renew", "change", "cancel"]),
        non_negative("price_ghs_per_month"),
        plausible_time("occurred_at", EARLIEST_PLATFORM),
    ),
    _drop(
        "platform",
        "api_usage",
        ["request_id"],
        not_null("user_id", "endpoint", "requested_at", "status_code", "rows", "bytes", "latency_ms"),
        between("status_code", 100, 599),
        non_negative("latency_ms", "rows", "bytes"),
        matches("endpoint", r"^/", severity="warning"),
        plausible_time("requested_at", EARLIEST_PLATFORM),
    ),
    _drop(
        "platform",
        "app_sessions",
        ["session_id"],
        not_null("user_id", "platform", "started_at", "ended_at", "pages_viewed"),
        one_of("platform", ["web", "android", "ios"]),
        non_negative("pages_viewed"),
        plausible_time("started_at", EARLIEST_PLATFORM),
        plausible_time("ended_at", EARLIEST_PLATFORM),
        not_before("ended_at", "started_at"),
    ),
)

SUITES_BY_NAME: dict[str, DatasetSuite] = {suite.name: suite for suite in SUITES}


def suite_for(dataset: str) -> DatasetSuite:
    """The suite of a dataset named ``<source>__<dataset>``."""
    try:
        return SUITES_BY_NAME[dataset]
    except KeyError:
        raise KeyError(f"no quality suite for {dataset!r}; known: {', '.join(SUITES_BY_NAME)}") from None
