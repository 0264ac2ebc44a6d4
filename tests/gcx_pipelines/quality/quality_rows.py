"""Hand-made rows of every raw dataset, and helpers writing partitions as ingestion does.

A plain module (not conftest.py) so that test modules can import it by a name no other test folder uses.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg import sql

DAY = date(2024, 3, 5)
"""The partition most tests check; hand-made exchange rows are updated on it."""
REFERENCE_DAY = date(2024, 3, 4)
"""Instruments loaded the day before, for the venue lookups of orders and trades."""
WRITTEN: set[tuple[str, str, date]] = set()
"""(table, dataset, day) written by the helpers below; conftest removes them after each test."""


def replace_partition(
    conn: psycopg.Connection, dataset: str, day: date, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Replace one partition of raw.<dataset> with the rows (lineage columns filled in)."""
    table = sql.Identifier("raw", dataset)
    WRITTEN.add(("raw", dataset, day))
    with conn.transaction():
        conn.execute(sql.SQL("delete from {} where _partition_date = %s").format(table), (day,))
        for number, row in enumerate(rows, start=1):
            values = {**row, "_partition_date": day, "_lake_file": f"test/{dataset}", "_source_row": number}
            conn.execute(
                sql.SQL("insert into {} ({}) values ({})").format(
                    table,
                    sql.SQL(", ").join(map(sql.Identifier, values)),
                    sql.SQL(", ").join(sql.Placeholder() * len(values)),
                ),
                list(values.values()),
            )


def replace_quarantine(conn: psycopg.Connection, dataset: str, day: date, count: int) -> None:
    source, name = dataset.split("__", 1)
    WRITTEN.add(("quarantine", dataset, day))
    with conn.transaction():
        conn.execute(
            "delete from raw.quarantine where source = %s and dataset = %s and partition_date = %s",
            (source, name, day),
        )
        for n in range(count):
            conn.execute(
                "insert into raw.quarantine (source, dataset, partition_date, source_file, source_row, reason, record)"
                " values (%s, %s, %s, 'test', %s, 'price_ghs_per_t: must be > 0', '{}')",
                (source, name, day, n + 1),
            )


def log_load(
    conn: psycopg.Connection, dataset: str, day: date, raw_rows: int = 0, quarantined: int = 0
) -> None:
    """Record a partition load in raw.ingestion_log, as ingestion does (loaded now)."""
    source, name = dataset.split("__", 1)
    WRITTEN.add(("ingestion_log", dataset, day))
    conn.execute(
        """
        insert into raw.ingestion_log (source, dataset, partition_date, source_rows, lake_rows, raw_rows,
                                       quarantined_rows, lake_file)
        values (%s, %s, %s, %s, %s, %s, %s, 'test')
        on conflict (source, dataset, partition_date) do update
        set raw_rows = excluded.raw_rows, quarantined_rows = excluded.quarantined_rows, loaded_at = now()
        """,
        (source, name, day, raw_rows + quarantined, raw_rows + quarantined, raw_rows, quarantined),
    )


def remove_written(conn: psycopg.Connection) -> None:
    """Delete what the helpers wrote, so that later tests (dbt, API) do not meet hand-made rows."""
    for table, dataset, day in sorted(WRITTEN):
        source, name = dataset.split("__", 1)
        if table == "raw":
            conn.execute(
                sql.SQL("delete from {} where _partition_date = %s").format(sql.Identifier("raw", dataset)),
                (day,),
            )
        else:
            conn.execute(
                sql.SQL("delete from {} where source = %s and dataset = %s and partition_date = %s").format(
                    sql.Identifier("raw", table)
                ),
                (source, name, day),
            )
    WRITTEN.clear()


T = "2024-03-05T12:00:00Z"
"""A moment inside DAY: exchange rows are updated then."""

GOOD_ROWS: dict[str, list[dict[str, Any]]] = {
    "exchange__warehouses": [
        {"warehouse_code": "EJ", "name": "Ejura", "region": "Ashanti", "capacity_t": 30000, "updated_at": T},
        {"warehouse_code": "TA", "name": "Tamale", "region": "Northern", "capacity_t": 40000, "updated_at": T},
    ],
    "exchange__instruments": [
        {
            "instrument_id": 1, "symbol": "GEJWM1", "venue": "GCX", "commodity_code": "WM",
            "commodity_name": "maize", "colour": "white", "grade": 1, "warehouse_code": "EJ",
            "tick_size_ghs": 0.5, "lot_size_t": 50, "listed_on": "2019-01-02", "updated_at": T,
        },
        {
            "instrument_id": 39, "symbol": "6EH4", "venue": "CME", "tick_size_ghs": 0.00005,
            "lot_size_t": 1, "listed_on": "2023-12-01", "updated_at": T,
        },
    ],
    "exchange__members": [
        {
            "member_id": "MBR0001", "name": "Asante Securities Ltd", "member_type": "broker",
            "registered_on": "2019-01-01", "status": "active", "updated_at": "2024-03-05T09:00:00Z",
        },
        {   # a second version of the same member on the same day: keyed by (member_id, updated_at)
            "member_id": "MBR0001", "name": "Asante Securities Ltd", "member_type": "broker",
            "registered_on": "2019-01-01", "status": "suspended", "updated_at": T,
        },
    ],
    "exchange__beneficial_owners": [
        {
            "owner_id": "BO000001", "full_name": "Kofi Mensah", "national_id": "GHA-123456789-0",
            "date_of_birth": "1980-05-17", "country": "GH", "updated_at": T,
        },
        {"owner_id": "BO000002", "full_name": "Ada Obi", "date_of_birth": "1975-01-01", "country": "NG", "updated_at": T},
    ],
    "exchange__accounts": [
        {
            "account_id": "ACC000001", "member_id": "MBR0001", "owner_id": "BO000001", "account_type": "client",
            "opened_at": "2019-02-01T10:00:00Z", "status": "open", "updated_at": T,
        },
        {
            "account_id": "ACC000002", "member_id": "MBR0001", "owner_id": "BO000002",
            "account_type": "proprietary", "opened_at": "2019-02-01T10:00:00Z",
            "closed_at": "2024-03-05T11:00:00Z", "status": "closed", "updated_at": T,
        },
    ],
    "exchange__orders": [
        {
            "order_id": 1, "instrument_id": 1, "member_id": "MBR0001", "account_id": "ACC000001", "side": "buy",
            "order_type": "limit", "limit_price_ghs_per_t": 4000, "quantity_t": 50, "filled_t": 50,
            "status": "filled", "created_at": "2024-03-05T10:00:00Z", "updated_at": T,
        },
        {   # an imported venue's price is outside GCX's range, and that is fine
            "order_id": 2, "instrument_id": 39, "member_id": "MBR0001", "account_id": "ACC000001",
            "side": "sell", "order_type": "market", "quantity_t": 2, "filled_t": 0, "status": "open",
            "created_at": "2024-03-05T10:00:00Z", "updated_at": T,
        },
    ],
    "exchange__order_events": [
        {
            "event_id": 1, "order_id": 1, "event_type": "new", "event_at": "2024-03-05T10:00:00Z",
            "limit_price_ghs_per_t": 4000, "quantity_t": 50, "updated_at": T,
        },
        {"event_id": 2, "order_id": 1, "event_type": "fill", "event_at": T, "quantity_t": 50, "updated_at": T},
    ],
    "exchange__trades": [
        {
            "trade_id": "T0000000001", "instrument_id": 1, "executed_at": "2024-03-05T11:00:00Z",
            "price_ghs_per_t": 4000, "quantity_t": 50, "buy_order_id": 1, "sell_order_id": 3,
            "buyer_member_id": "MBR0001", "buyer_account_id": "ACC000001", "seller_member_id": "MBR0002",
            "seller_account_id": "ACC000003", "aggressor_side": "buy", "updated_at": T,
        },
        {   # imported (CME) trade: no counterparties, a price far outside GCX's range
            "trade_id": "CME-1", "instrument_id": 39, "executed_at": "2024-03-04T15:00:00Z",
            "price_ghs_per_t": 1.0855, "quantity_t": 3, "updated_at": T,
        },
    ],
    "exchange__settlements": [
        {
            "settlement_id": 1, "trade_id": "T0000000001", "member_id": "MBR0001", "obligation": "pay_cash",
            "amount_ghs": 200000, "quantity_t": 50, "due_on": "2024-03-06", "status": "pending", "updated_at": T,
        },
        {
            "settlement_id": 2, "trade_id": "T0000000001", "member_id": "MBR0002",
            "obligation": "deliver_commodity", "amount_ghs": 200000, "quantity_t": 50, "due_on": "2024-03-06",
            "settled_at": "2024-03-05T11:30:00Z", "status": "settled", "updated_at": T,
        },
    ],
    "exchange__warehouse_receipts": [
        {
            "receipt_id": "WR-EJ-000001", "warehouse_code": "EJ", "account_id": "ACC000001",
            "commodity_code": "WM", "grade": 1, "quantity_t": 100, "deposited_at": "2024-02-01T09:00:00Z",
            "status": "active", "updated_at": T,
        },
        {
            "receipt_id": "WR-TA-000002", "warehouse_code": "TA", "account_id": "ACC000001",
            "commodity_code": "SB", "grade": 2, "quantity_t": 20, "deposited_at": "2024-02-01T09:00:00Z",
            "withdrawn_at": "2024-03-05T10:00:00Z", "status": "withdrawn", "updated_at": T,
        },
    ],
    "exchange__trading_calendar": [
        {
            "calendar_date": "2024-03-05", "is_trading_day": True, "session_open_at": "2024-03-05T10:00:00Z",
            "session_close_at": "2024-03-05T14:00:00Z",
        },
    ],
    "compliance__kyc_checks": [
        {
            "check_id": "KYC1", "subject_type": "beneficial_owner", "subject_id": "BO000001", "check_type": "identity",
            "status": "passed", "checked_at": "2024-03-05T09:00:00Z", "expires_on": "2026-03-05",
        },
        {
            "check_id": "KYC2", "subject_type": "member", "subject_id": "MBR0001", "check_type": "address",
            "status": "pending", "checked_at": "2024-03-04T23:59:00Z",
        },
    ],
    "compliance__sanctions_screening": [
        {
            "screening_id": "S1", "subject_type": "beneficial_owner", "subject_id": "BO000001", "list_name": "UN",
            "screened_at": "2024-03-05T08:00:00Z", "result": "clear", "match_score": 0.12,
        },
        {
            "screening_id": "S2", "subject_type": "beneficial_owner", "subject_id": "BO000002", "list_name": "OFAC",
            "screened_at": "2024-03-05T08:00:00Z", "result": "confirmed_match", "match_score": 1.0,
        },
    ],
    "compliance__regulatory_filings": [
        {
            "filing_id": "F1", "member_id": "MBR0001", "filing_type": "annual_return",
            "period_end": "2024-02-29", "due_on": "2024-03-15", "filed_at": "2024-03-05T10:00:00Z",
            "status": "filed",
        },
        {
            "filing_id": "F2", "member_id": "MBR0002", "filing_type": "capital_adequacy",
            "period_end": "2024-02-29", "due_on": "2024-03-15", "status": "missing",
        },
    ],
    "compliance__position_limits": [
        {
            "limit_id": "L1", "member_id": "MBR0001", "commodity_code": "WM", "max_net_position_t": 5000,
            "effective_from": "2024-01-01",
        },
        {
            "limit_id": "L2", "member_id": "MBR0001", "commodity_code": "SS", "max_net_position_t": 800,
            "effective_from": "2024-01-01", "effective_to": "2024-12-31",
        },
    ],
    "platform__users": [
        {
            "user_id": "U1", "email": "kofi.mensah12@gmail.com", "full_name": "Kofi Mensah", "country": "GH",
            "member_id": "MBR0001", "role": "trader", "signed_up_at": "2024-03-05T08:00:00Z",
        },
        {
            "user_id": "U2", "email": "quant@fund.example", "full_name": "Ama Owusu", "phone": "+233241234567",
            "country": "GH", "role": "analyst", "signed_up_at": "2024-03-05T09:00:00Z",
        },
    ],
    "platform__subscriptions": [
        {
            "subscription_id": "SUB1", "user_id": "U1", "plan": "pro", "event": "start",
            "occurred_at": "2024-03-05T08:05:00Z", "price_ghs_per_month": 500,
        },
        {
            "subscription_id": "SUB2", "user_id": "U1", "plan": "pro", "event": "cancel",
            "occurred_at": "2024-03-05T18:00:00Z", "price_ghs_per_month": 500,
        },
    ],
    "platform__api_usage": [
        {
            "request_id": "R1", "user_id": "U1", "endpoint": "/v1/trades", "requested_at": "2024-03-05T10:00:00Z",
            "status_code": 200, "rows": 100, "bytes": 12000, "latency_ms": 12.5,
        },
        {
            "request_id": "R2", "user_id": "U2", "endpoint": "/v1/bars", "requested_at": "2024-03-05T10:00:01Z",
            "status_code": 429, "rows": 0, "bytes": 80, "latency_ms": 0.4,
        },
    ],
    "platform__app_sessions": [
        {
            "session_id": "SES1", "user_id": "U1", "platform": "web", "started_at": "2024-03-05T10:00:00Z",
            "ended_at": "2024-03-05T10:20:00Z", "pages_viewed": 7,
        },
        {   # a session running past midnight
            "session_id": "SES2", "user_id": "U2", "platform": "android", "started_at": "2024-03-05T23:50:00Z",
            "ended_at": "2024-03-06T00:10:00Z", "pages_viewed": 0,
        },
    ],
}  # fmt: skip
