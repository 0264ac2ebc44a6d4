"""The registry of source datasets: for each, where it comes from, its columns and the rules its rows follow.

This is the one place that says what ingestion accepts. Every dataset goes through the same code
(extract -> lake -> validate -> raw); adding a source dataset means adding an entry here and its
table to the raw DDL, gcx/warehouse/ddl/001_raw.sql (a test checks that the two agree).

Rules catch what the sources can get wrong (docs/sources.md): the exchange database enforces
primary keys but not business rules, and file drops can hold anything.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from gcx.ingestion.validate import (
    BIGINT,
    BOOLEAN,
    DATE,
    DOUBLE,
    INTEGER,
    SMALLINT,
    TEXT,
    TIMESTAMP,
    Column,
    Reference,
    RowRule,
    numeric,
)

Source = Literal["exchange", "compliance", "platform"]
FILE_FORMATS: dict[Source, str] = {"compliance": "csv", "platform": "jsonl"}
"""File drops by source; the exchange is a database."""

EARLIEST = pd.Timestamp("2000-01-01", tz="UTC")
"""No GCX record predates this (GCX opened in 2018); earlier instants are corrupt."""
EARLIEST_DATE = pd.Timestamp("2000-01-01")
ONE_DAY = pd.Timedelta(days=1)
MAX_PRICE_GHS_PER_T = 1_000_000
"""Far above any commodity GCX lists (1,000-7,500 GHS/t); a price beyond it is a keying error."""


@dataclass(frozen=True)
class Dataset:
    """One source dataset: what it holds, where it comes from, and how its rows are checked."""

    source: Source
    name: str
    description: str
    key: str
    """The record's id: shown in the quarantine, and unique within a partition."""
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = ()
    partitioned_by: str = "updated_at"
    """Exchange only: the column whose UTC day assigns a row to a partition."""

    @property
    def table(self) -> str:
        """`<source>__<dataset>`: the raw table's name and the asset keys' last part."""
        return f"{self.source}__{self.name}"

    @property
    def file_format(self) -> str | None:
        return FILE_FORMATS.get(self.source)

    @property
    def needs_reference(self) -> bool:
        return bool(self.rules) or any(c.known for c in self.columns)

    def landing_file(self, landing_dir: Path, day: date) -> Path:
        """`<landing>/<source>/<dataset>/<dataset>_<YYYY-MM-DD>.<csv|jsonl>` (file drops only)."""
        return landing_dir / self.source / self.name / f"{self.name}_{day.isoformat()}.{self.file_format}"


# ---------------------------------------------------------------------------------------------
# Row rules that need other columns or the exchange's reference data. Each has a batch form (pandas)
# and a record form (one record's parsed values, None where missing); test_validate_record.py holds
# the two equal.


def _looked_up(keys: pd.Series, table: pd.Series) -> pd.Series:
    """`table`'s value for each key (missing where absent), keeping its dtype. Series.map raises
    TypeError when `table` holds instants and is empty (an exchange with no trading calendar yet)."""
    return table.reindex(keys).set_axis(keys.index)


def _is_gcx_trade(frame: pd.DataFrame, reference: Reference) -> pd.Series:
    """Trades on GCX's own instruments; imported trades of other venues follow their venue's rules."""
    return frame["instrument_id"].map(reference.instruments["venue"]).eq("GCX")


def _is_gcx_trade_record(record: Mapping[str, Any], reference: Reference) -> bool:
    return reference.venue_by_instrument.get(record["instrument_id"]) == "GCX"


def _executed_after_update(frame: pd.DataFrame, reference: Reference) -> pd.Series:
    return frame["executed_at"] > frame["updated_at"] + ONE_DAY


def _executed_after_update_record(record: Mapping[str, Any], reference: Reference) -> bool:
    executed_at, updated_at = record["executed_at"], record["updated_at"]
    return executed_at is not None and updated_at is not None and executed_at > updated_at + ONE_DAY


def _outside_session(frame: pd.DataFrame, reference: Reference) -> pd.Series:
    day = frame["executed_at"].dt.tz_localize(None).dt.floor("D")
    opens = _looked_up(day, reference.sessions["session_open_at"])
    closes = _looked_up(day, reference.sessions["session_close_at"])
    inside = (frame["executed_at"] >= opens) & (frame["executed_at"] <= closes)
    return _is_gcx_trade(frame, reference) & frame["executed_at"].notna() & ~inside


def _outside_session_record(record: Mapping[str, Any], reference: Reference) -> bool:
    executed_at = record["executed_at"]
    if executed_at is None or not _is_gcx_trade_record(record, reference):
        return False
    opens, closes = reference.session_by_day.get(executed_at.date(), (pd.NaT, pd.NaT))  # a UTC instant's day
    return not (executed_at >= opens and executed_at <= closes)  # NaT: no session, so outside


def _on_delisted_instrument(frame: pd.DataFrame, reference: Reference) -> pd.Series:
    delisted_on = _looked_up(frame["instrument_id"], reference.instruments["delisted_on"])
    return frame["executed_at"].dt.tz_localize(None) >= delisted_on


def _on_delisted_instrument_record(record: Mapping[str, Any], reference: Reference) -> bool:
    delisted_on = reference.delisted_on_by_instrument.get(record["instrument_id"])
    executed_at = record["executed_at"]
    return delisted_on is not None and executed_at is not None and executed_at.date() >= delisted_on


def _unknown_counterparty(column: str) -> RowRule:
    def breaks(frame: pd.DataFrame, reference: Reference) -> pd.Series:
        return _is_gcx_trade(frame, reference) & ~frame[column].isin(reference.ids["member"])

    def breaks_record(record: Mapping[str, Any], reference: Reference) -> bool:
        return _is_gcx_trade_record(record, reference) and record[column] not in reference.ids["member"]

    return RowRule(column, "be a known member on GCX trades", breaks, breaks_record)


def _unknown_subject(frame: pd.DataFrame, reference: Reference) -> pd.Series:
    known = (frame["subject_type"].eq("member") & frame["subject_id"].isin(reference.ids["member"])) | (
        frame["subject_type"].eq("beneficial_owner")
        & frame["subject_id"].isin(reference.ids["beneficial_owner"])
    )
    return frame["subject_type"].isin(SUBJECT_TYPES) & frame["subject_id"].notna() & ~known


def _unknown_subject_record(record: Mapping[str, Any], reference: Reference) -> bool:
    subject_type, subject_id = record["subject_type"], record["subject_id"]
    return (
        subject_type in SUBJECT_TYPES
        and subject_id is not None
        and subject_id not in reference.ids[subject_type]
    )


KNOWN_SUBJECT = RowRule(
    "subject_id", "be a known member or beneficial owner", _unknown_subject, _unknown_subject_record
)


def _not_before(start: str, end: str, *, strictly: bool = False) -> RowRule:
    """`end` must be on or after `start` (`strictly`: after); rows missing either pass."""
    before = operator.le if strictly else operator.lt

    def breaks(frame: pd.DataFrame, reference: Reference) -> pd.Series:
        return before(frame[end], frame[start])

    def breaks_record(record: Mapping[str, Any], reference: Reference) -> bool:
        return record[end] is not None and record[start] is not None and before(record[end], record[start])

    return RowRule(end, f"be {'after' if strictly else 'on or after'} {start}", breaks, breaks_record)


SUBJECT_TYPES = ("member", "beneficial_owner")


def _updated_at() -> Column:
    return Column("updated_at", TIMESTAMP, required=True, ge=EARLIEST)


def _moment(name: str, *, required: bool = True) -> Column:
    """A timestamp in a file drop: from 2000 to the end of the day after the file's date."""
    return Column(name, TIMESTAMP, required=required, ge=EARLIEST, not_after_next_day=True)


# ---------------------------------------------------------------------------------------------
# Exchange database (gcx/simulator/exchange_schema.sql)

EXCHANGE = (
    Dataset(
        "exchange",
        "warehouses",
        "Certified warehouses where the traded commodities are stored.",
        key="warehouse_code",
        columns=(
            Column("warehouse_code", TEXT, required=True, pattern=r"[A-Z]{2}"),
            Column("name", TEXT, required=True),
            Column("region", TEXT, required=True),
            Column("capacity_t", numeric(12, 3), required=True, gt=0),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "instruments",
        "Listed contracts: commodity, grade and warehouse per symbol, with listing and delisting dates.",
        key="instrument_id",
        columns=(
            Column("instrument_id", INTEGER, required=True),
            Column("symbol", TEXT, required=True),
            Column("venue", TEXT, required=True),
            Column("commodity_code", TEXT),
            Column("commodity_name", TEXT),
            Column("colour", TEXT),
            Column("grade", SMALLINT),
            Column("warehouse_code", TEXT),
            Column("tick_size_ghs", numeric(12, 4), required=True, gt=0),
            Column("lot_size_t", numeric(12, 3), required=True, gt=0),
            Column("listed_on", DATE, required=True),
            Column("delisted_on", DATE),
            _updated_at(),
        ),
        rules=(_not_before("listed_on", "delisted_on"),),
    ),
    Dataset(
        "exchange",
        "members",
        "Exchange members (brokers, banks, traders, processors) and their status. Holds PII.",
        key="member_id",
        columns=(
            Column("member_id", TEXT, required=True),
            Column("name", TEXT, required=True),
            Column("member_type", TEXT, required=True, one_of=("broker", "bank", "trader", "processor")),
            Column("registered_on", DATE, required=True),
            Column("status", TEXT, required=True, one_of=("active", "suspended", "terminated")),
            Column("contact_email", TEXT),
            Column("contact_phone", TEXT),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "beneficial_owners",
        "The people and companies who ultimately own the trading accounts. Holds PII.",
        key="owner_id",
        columns=(
            Column("owner_id", TEXT, required=True),
            Column("full_name", TEXT, required=True),
            Column("national_id", TEXT),
            Column("email", TEXT),
            Column("phone", TEXT),
            Column("date_of_birth", DATE),
            Column("country", TEXT, required=True),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "accounts",
        "Trading accounts: which member operates them for which beneficial owner.",
        key="account_id",
        columns=(
            Column("account_id", TEXT, required=True),
            Column("member_id", TEXT, required=True),
            Column("owner_id", TEXT, required=True),
            Column("account_type", TEXT, required=True, one_of=("proprietary", "client")),
            Column("opened_at", TIMESTAMP, required=True),
            Column("closed_at", TIMESTAMP),
            Column("status", TEXT, required=True, one_of=("open", "frozen", "closed")),
            _updated_at(),
        ),
        rules=(_not_before("opened_at", "closed_at"),),
    ),
    Dataset(
        "exchange",
        "orders",
        "Orders entered on the exchange, one row per version (a changed order arrives again).",
        key="order_id",
        columns=(
            Column("order_id", BIGINT, required=True),
            Column("instrument_id", INTEGER, required=True),
            Column("member_id", TEXT, required=True),
            Column("account_id", TEXT, required=True),
            Column("side", TEXT, required=True, one_of=("buy", "sell")),
            Column("order_type", TEXT, required=True, one_of=("limit", "market")),
            Column("limit_price_ghs_per_t", numeric(12, 2), gt=0),
            Column("quantity_t", numeric(12, 3), required=True, gt=0),
            Column("filled_t", numeric(12, 3), required=True, ge=0),
            Column("status", TEXT, required=True, one_of=("open", "partially_filled", "filled", "cancelled")),
            Column("created_at", TIMESTAMP, required=True, ge=EARLIEST),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "order_events",
        "The life of each order: new, modify, cancel and fill events.",
        key="event_id",
        columns=(
            Column("event_id", BIGINT, required=True),
            Column("order_id", BIGINT, required=True),
            Column("event_type", TEXT, required=True, one_of=("new", "modify", "cancel", "fill")),
            Column("event_at", TIMESTAMP, required=True, ge=EARLIEST),
            Column("limit_price_ghs_per_t", numeric(12, 2), gt=0),
            Column("quantity_t", numeric(12, 3), ge=0),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "trades",
        "Executed trades: price, quantity and both counterparties.",
        key="trade_id",
        columns=(
            Column("trade_id", TEXT, required=True),
            Column("instrument_id", INTEGER, required=True, known="instrument"),
            Column("executed_at", TIMESTAMP, required=True, ge=EARLIEST),
            Column("price_ghs_per_t", numeric(14, 4), required=True, gt=0, lt=MAX_PRICE_GHS_PER_T),
            Column("quantity_t", numeric(14, 4), required=True, gt=0),
            Column("buy_order_id", BIGINT),
            Column("sell_order_id", BIGINT),
            Column("buyer_member_id", TEXT),
            Column("buyer_account_id", TEXT),
            Column("seller_member_id", TEXT),
            Column("seller_account_id", TEXT),
            Column("aggressor_side", TEXT, one_of=("buy", "sell")),
            _updated_at(),
        ),
        rules=(
            RowRule(
                "executed_at",
                "be at most 1 day after updated_at",
                _executed_after_update,
                _executed_after_update_record,
            ),
            RowRule(
                "executed_at",
                "fall within its day's GCX trading session",
                _outside_session,
                _outside_session_record,
            ),
            RowRule(
                "instrument_id",
                "not be delisted on the trade date",
                _on_delisted_instrument,
                _on_delisted_instrument_record,
            ),
            _unknown_counterparty("buyer_member_id"),
            _unknown_counterparty("seller_member_id"),
        ),
    ),
    Dataset(
        "exchange",
        "settlements",
        "Settlement obligations of each trade (buyer pays cash, seller delivers) and their outcome.",
        key="settlement_id",
        columns=(
            Column("settlement_id", BIGINT, required=True),
            Column("trade_id", TEXT, required=True),
            Column("member_id", TEXT, required=True),
            Column("obligation", TEXT, required=True, one_of=("pay_cash", "deliver_commodity")),
            Column("amount_ghs", numeric(16, 2), required=True, gt=0),
            Column("quantity_t", numeric(14, 4), required=True, gt=0),
            Column("due_on", DATE, required=True),
            Column("settled_at", TIMESTAMP),
            Column("status", TEXT, required=True, one_of=("pending", "settled", "late", "failed")),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "warehouse_receipts",
        "Warehouse receipts: commodity deposited in a certified warehouse, the collateral behind trading.",
        key="receipt_id",
        columns=(
            Column("receipt_id", TEXT, required=True),
            Column("warehouse_code", TEXT, required=True),
            Column("account_id", TEXT, required=True),
            Column("commodity_code", TEXT, required=True),
            Column("grade", SMALLINT, required=True, ge=1, le=4),
            Column("quantity_t", numeric(12, 3), required=True, gt=0),
            Column("deposited_at", TIMESTAMP, required=True),
            Column("withdrawn_at", TIMESTAMP),
            Column("status", TEXT, required=True, one_of=("active", "pledged", "withdrawn")),
            _updated_at(),
        ),
    ),
    Dataset(
        "exchange",
        "trading_calendar",
        "The exchange's calendar: trading days, holidays and session hours. Partitioned by calendar_date.",
        key="calendar_date",
        partitioned_by="calendar_date",
        columns=(
            Column("calendar_date", DATE, required=True),
            Column("is_trading_day", BOOLEAN, required=True),
            Column("holiday_name", TEXT),
            Column("session_open_at", TIMESTAMP),
            Column("session_close_at", TIMESTAMP),
        ),
        rules=(_not_before("session_open_at", "session_close_at", strictly=True),),
    ),
)

# ---------------------------------------------------------------------------------------------
# Compliance drops (CSV)

COMPLIANCE = (
    Dataset(
        "compliance",
        "kyc_checks",
        "Know-your-customer checks of members and beneficial owners, from the compliance team's drops.",
        key="check_id",
        columns=(
            Column("check_id", TEXT, required=True),
            Column("subject_type", TEXT, required=True, one_of=SUBJECT_TYPES),
            Column("subject_id", TEXT, required=True),
            Column("check_type", TEXT, required=True, one_of=("identity", "address", "source_of_funds")),
            Column("status", TEXT, required=True, one_of=("passed", "failed", "pending")),
            _moment("checked_at"),
            Column("expires_on", DATE),
        ),
        rules=(KNOWN_SUBJECT,),
    ),
    Dataset(
        "compliance",
        "sanctions_screening",
        "Sanctions-list screenings (UN, OFAC, EU, GH-FIC) of members and beneficial owners.",
        key="screening_id",
        columns=(
            Column("screening_id", TEXT, required=True),
            Column("subject_type", TEXT, required=True, one_of=SUBJECT_TYPES),
            Column("subject_id", TEXT, required=True),
            Column("list_name", TEXT, required=True, one_of=("UN", "OFAC", "EU", "GH-FIC")),
            _moment("screened_at"),
            Column("result", TEXT, required=True, one_of=("clear", "potential_match", "confirmed_match")),
            Column("match_score", DOUBLE, required=True, ge=0, le=1),
        ),
        rules=(KNOWN_SUBJECT,),
    ),
    Dataset(
        "compliance",
        "regulatory_filings",
        "Members' filings to the regulator (annual returns, capital adequacy, SARs, audits) and their status.",
        key="filing_id",
        columns=(
            Column("filing_id", TEXT, required=True),
            Column("member_id", TEXT, required=True, known="member"),
            Column(
                "filing_type",
                TEXT,
                required=True,
                one_of=("annual_return", "capital_adequacy", "suspicious_activity_report", "audit_report"),
            ),
            Column("period_end", DATE, required=True, ge=EARLIEST_DATE),
            Column("due_on", DATE, required=True, ge=EARLIEST_DATE),
            _moment("filed_at", required=False),
            Column("status", TEXT, required=True, one_of=("filed", "late", "missing")),
        ),
    ),
    Dataset(
        "compliance",
        "position_limits",
        "Maximum net position per member and commodity, with the period each limit applies to.",
        key="limit_id",
        columns=(
            Column("limit_id", TEXT, required=True),
            Column("member_id", TEXT, required=True, known="member"),
            Column("commodity_code", TEXT, required=True, one_of=("WM", "YM", "SB", "SO", "SS", "MR")),
            Column("max_net_position_t", numeric(14, 3), required=True, gt=0),
            Column("effective_from", DATE, required=True, ge=EARLIEST_DATE),
            Column("effective_to", DATE),
        ),
        rules=(_not_before("effective_from", "effective_to"),),
    ),
)

# ---------------------------------------------------------------------------------------------
# Platform events (JSON lines)

PLATFORM = (
    Dataset(
        "platform",
        "users",
        "Sign-ups to the data platform (API and dashboards); member_id links users who work for a member. Holds PII.",
        key="user_id",
        columns=(
            Column("user_id", TEXT, required=True),
            Column("email", TEXT, required=True),
            Column("full_name", TEXT, required=True),
            Column("phone", TEXT, required=True),
            Column("country", TEXT, required=True, pattern=r"[A-Z]{2}"),
            Column("member_id", TEXT, known="member"),
            Column(
                "role",
                TEXT,
                required=True,
                one_of=("trader", "compliance_officer", "admin", "analyst", "viewer"),
            ),
            _moment("signed_up_at"),
        ),
    ),
    Dataset(
        "platform",
        "subscriptions",
        "Subscription events (start, renew, change, cancel) per user and plan: the platform's revenue.",
        key="subscription_id",
        columns=(
            Column("subscription_id", TEXT, required=True),
            Column("user_id", TEXT, required=True),
            Column("plan", TEXT, required=True, one_of=("free", "member", "pro")),
            Column("event", TEXT, required=True, one_of=("start", "renew", "change", "cancel")),
            _moment("occurred_at"),
            Column("price_ghs_per_month", numeric(12, 2), required=True, ge=0),
        ),
    ),
    Dataset(
        "platform",
        "api_usage",
        "One row per API request: who, which endpoint, status, size and latency.",
        key="request_id",
        columns=(
            Column("request_id", TEXT, required=True),
            Column("user_id", TEXT, required=True),
            Column("endpoint", TEXT, required=True),
            _moment("requested_at"),
            Column("status_code", INTEGER, required=True, ge=100, le=599),
            Column("rows", BIGINT, required=True, ge=0),
            Column("bytes", BIGINT, required=True, ge=0),
            Column("latency_ms", DOUBLE, required=True, ge=0),
        ),
    ),
    Dataset(
        "platform",
        "app_sessions",
        "Sessions in the web and mobile apps: platform, duration and pages viewed.",
        key="session_id",
        columns=(
            Column("session_id", TEXT, required=True),
            Column("user_id", TEXT, required=True),
            Column("platform", TEXT, required=True, one_of=("web", "android", "ios")),
            _moment("started_at"),
            _moment("ended_at"),
            Column("pages_viewed", INTEGER, required=True, ge=0),
        ),
        rules=(_not_before("started_at", "ended_at"),),
    ),
)

DATASETS: tuple[Dataset, ...] = EXCHANGE + COMPLIANCE + PLATFORM
DATASETS_BY_TABLE = {dataset.table: dataset for dataset in DATASETS}
