"""Small hand-made raw.* rows for the dbt project's tests: one week of GCX (2024-07-01 to 07-05).

Each scenario the marts must get right has its rows here, named in comments: ties and minute gaps
for the bars, a trade at the session close, large trades, a position-limit breach and a lowered
limit, two versions of mutable rows (member, instrument, trade, order, settlement, user), KYC
expiring / expired / failed, sanctions hits, late and missing filings, subscriptions with a cancel.
On top, `random_trades` adds a few hundred seeded trades between two accounts of one member (so
positions stay as the scenarios set them) to compare bars against an independent computation.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from gcx.warehouse import pii
from gcx.warehouse import schema as warehouse_schema

Row = dict[str, Any]
PII_KEY = bytes(range(32))
"""The dbt tests' own PII key, so that their pseudonyms can be computed here."""


def ts(text: str) -> datetime:
    """'2024-07-01 10:00:30.5' as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def create_raw_schema(conn: psycopg.Connection) -> None:
    """The warehouse's own tables: the raw contract, the API's (api.request_log is a dbt source too)
    and a PII key of its own."""
    warehouse_schema.apply(conn)
    pii.install(conn, PII_KEY)


def insert(
    conn: psycopg.Connection,
    table: str,
    rows: list[Row],
    partition_column: str | None = None,
    loaded_at: datetime | None = None,
) -> None:
    """Insert rows into raw.<table> with lineage columns: the partition is the UTC date of
    `partition_column` (exchange: updated_at) or the row's own `_partition_date`; a partition is
    loaded at `loaded_at`, by default at 02:00 UTC the day after (a nightly load)."""
    for number, row in enumerate(rows, start=1):
        row = dict(row)
        if "_partition_date" not in row:
            value = row[partition_column or "updated_at"]
            row["_partition_date"] = value.date() if isinstance(value, datetime) else value
        nightly = datetime.combine(row["_partition_date"] + timedelta(days=1), datetime.min.time(), UTC)
        row.setdefault("_loaded_at", loaded_at or nightly + timedelta(hours=2))
        row.setdefault("_lake_file", f"{table.replace('__', '/')}/{row['_partition_date']}.parquet")
        row.setdefault("_source_row", number)
        columns = ", ".join(row)
        placeholders = ", ".join(["%s"] * len(row))
        conn.execute(f"insert into raw.{table} ({columns}) values ({placeholders})", list(row.values()))


# ------------------------------------------------------------------------------------------------
# exchange

WAREHOUSES = [
    {
        "warehouse_code": "EJ",
        "name": "Ejura",
        "region": "Ashanti",
        "capacity_t": 10000,
        "updated_at": ts("2024-01-02 08:00"),
    },
    {
        "warehouse_code": "TA",
        "name": "Tamale",
        "region": "Northern",
        "capacity_t": 8000,
        "updated_at": ts("2024-01-02 08:00"),
    },
]

INSTRUMENTS = [
    # instrument 1 has two versions: the tick size changed on 2024-06-20
    {"instrument_id": 1, "symbol": "GEJWM1", "venue": "GCX", "commodity_code": "WM", "commodity_name": "White maize",
     "colour": "white", "grade": 1, "warehouse_code": "EJ", "tick_size_ghs": 5, "lot_size_t": 1,
     "listed_on": date(2023, 1, 2), "delisted_on": None, "updated_at": ts("2024-06-01 08:00")},
    {"instrument_id": 1, "symbol": "GEJWM1", "venue": "GCX", "commodity_code": "WM", "commodity_name": "White maize",
     "colour": "white", "grade": 1, "warehouse_code": "EJ", "tick_size_ghs": 1, "lot_size_t": 1,
     "listed_on": date(2023, 1, 2), "delisted_on": None, "updated_at": ts("2024-06-20 08:00")},
    {"instrument_id": 2, "symbol": "GTASB2", "venue": "GCX", "commodity_code": "SB", "commodity_name": "Soybean",
     "colour": None, "grade": 2, "warehouse_code": "TA", "tick_size_ghs": 1, "lot_size_t": 1,
     "listed_on": date(2023, 1, 2), "delisted_on": None, "updated_at": ts("2024-06-01 08:00")},
    {"instrument_id": 3, "symbol": "GEJYM2", "venue": "GCX", "commodity_code": "YM", "commodity_name": "Yellow maize",
     "colour": "yellow", "grade": 2, "warehouse_code": "EJ", "tick_size_ghs": 1, "lot_size_t": 1,
     "listed_on": date(2023, 1, 2), "delisted_on": None, "updated_at": ts("2024-06-01 08:00")},
]  # fmt: skip

MEMBERS = [
    {"member_id": "MBR0001", "name": "Akuapem Brokers Ltd", "member_type": "broker", "registered_on": date(2019, 3, 1),
     "status": "active", "contact_email": "ops@akuapem-brokers.example", "contact_phone": "+233200000001",
     "updated_at": ts("2024-06-01 08:00")},
    {"member_id": "MBR0002", "name": "Volta Bank", "member_type": "bank", "registered_on": date(2019, 5, 1),
     "status": "active", "contact_email": "markets@volta-bank.example", "contact_phone": "+233200000002",
     "updated_at": ts("2024-06-01 08:00")},
    # MBR0003 has two versions: suspended, with a new contact, on 2024-07-03
    {"member_id": "MBR0003", "name": "Northern Grain Traders", "member_type": "trader", "registered_on": date(2020, 1, 6),
     "status": "active", "contact_email": "old-desk@northern-grain.example", "contact_phone": "+233200000003",
     "updated_at": ts("2024-06-01 08:00")},
    {"member_id": "MBR0003", "name": "Northern Grain Traders", "member_type": "trader", "registered_on": date(2020, 1, 6),
     "status": "suspended", "contact_email": "compliance@northern-grain.example", "contact_phone": "+233200000033",
     "updated_at": ts("2024-07-03 09:00")},
]  # fmt: skip

BENEFICIAL_OWNERS = [
    {"owner_id": f"BO00000{n}", "full_name": name, "national_id": f"GHA-00000000{n}-{n}",
     "email": f"{name.split()[0].lower()}.{name.split()[1].lower()}@mail.example", "phone": f"+23324000000{n}",
     "date_of_birth": date(1970 + 5 * n, n, 10 + n), "country": "GH", "updated_at": ts("2024-06-01 08:00")}
    for n, name in enumerate(["Kwame Mensah", "Ama Owusu", "Kofi Boateng", "Efua Asante"], start=1)
]  # fmt: skip

ACCOUNTS = [
    {"account_id": account, "member_id": member, "owner_id": owner, "account_type": kind,
     "opened_at": ts("2023-01-02 09:00"), "closed_at": None, "status": "open", "updated_at": ts("2024-06-01 08:00")}
    for account, member, owner, kind in [
        ("ACC000001", "MBR0001", "BO000001", "proprietary"),
        ("ACC000002", "MBR0002", "BO000002", "client"),
        ("ACC000003", "MBR0003", "BO000003", "client"),
        ("ACC000004", "MBR0001", "BO000002", "client"),  # BO000002 holds accounts at two members
        ("ACC000005", "MBR0002", "BO000004", "proprietary"),
    ]
]  # fmt: skip

ACCOUNT_MEMBER = {a["account_id"]: a["member_id"] for a in ACCOUNTS}


def trade(trade_id: str, instrument_id: int, executed_at: str, price: str, quantity: str, buyer: str, seller: str,
          updated_at: datetime | None = None) -> Row:  # fmt: skip
    executed = ts(executed_at)
    return {
        "trade_id": trade_id, "instrument_id": instrument_id, "executed_at": executed,
        "price_ghs_per_t": Decimal(price), "quantity_t": Decimal(quantity),
        "buy_order_id": None, "sell_order_id": None,
        "buyer_member_id": ACCOUNT_MEMBER[buyer], "buyer_account_id": buyer,
        "seller_member_id": ACCOUNT_MEMBER[seller], "seller_account_id": seller,
        "aggressor_side": "buy", "updated_at": updated_at or executed,
    }  # fmt: skip


TRADES = [
    # minute 10:00 on GEJWM1: T0002 and T0003 share an instant, so trade_id orders them (close = T0003)
    trade("T0001", 1, "2024-07-01 10:00:00", "3000", "10", "ACC000001", "ACC000002"),
    trade("T0003", 1, "2024-07-01 10:00:30", "3005", "5", "ACC000001", "ACC000002"),
    trade("T0002", 1, "2024-07-01 10:00:30", "3010", "5", "ACC000001", "ACC000002"),
    # minute 10:01 has no trade: no bar; 10:02:59.999999 and 10:03:00 fall on either side of a minute
    trade("T0004", 1, "2024-07-01 10:02:59.999999", "2990", "20", "ACC000002", "ACC000001"),
    trade("T0005", 1, "2024-07-01 10:03:00", "2995", "10", "ACC000002", "ACC000001"),
    trade("T0006", 1, "2024-07-01 10:05:00", "3020", "8", "ACC000002", "ACC000001"),
    # large by quantity (600 t >= 500 t): MBR0003 buys 600 t net of white maize, over its 500 t limit
    trade("T0009", 1, "2024-07-01 11:00:00", "3000", "600", "ACC000003", "ACC000001"),
    # the settlement window of 2024-07-01 ([13:30, 14:00], the close included)
    trade("T0007", 1, "2024-07-01 13:45:00", "3100", "50", "ACC000002", "ACC000005"),
    trade("T0008", 1, "2024-07-01 14:00:00", "3110", "30", "ACC000002", "ACC000005"),
    # soybean: large by value (250 t x 4,600 = GHS 1,150,000), no trade in the settlement window
    trade("T0010", 2, "2024-07-01 11:30:00", "4600", "250", "ACC000002", "ACC000005"),
    trade("T0011", 2, "2024-07-01 12:00:00", "4620", "10", "ACC000005", "ACC000002"),
    # a trade corrected after the fact: two versions, the later price wins
    trade("T0012", 1, "2024-07-02 10:30:00", "3050", "10", "ACC000002", "ACC000005", ts("2024-07-02 10:30")),
    trade("T0012", 1, "2024-07-02 10:30:00", "3040", "10", "ACC000002", "ACC000005", ts("2024-07-02 11:00")),
    # the same beneficial owner (BO000002) on both sides, through two members
    trade("T0013", 1, "2024-07-02 11:00:00", "3045", "15", "ACC000004", "ACC000002"),
    # MBR0001 sells 150 t net on 07-03, the first day of its lowered 100 t limit: a breach
    trade("T0014", 1, "2024-07-03 10:20:00", "3030", "150", "ACC000002", "ACC000001"),
]


def random_trades(seed: int = 7, per_day: int = 60) -> list[Row]:
    """Seeded trades on both instruments, 2024-07-01 to 07-05 from 10:30 to 14:00, between
    MBR0002's two accounts (positions unchanged), with random microsecond times and deliberate
    same-instant pairs. The hand-made trades before 10:30 keep their minutes to themselves."""
    rng = random.Random(seed)
    rows: list[Row] = []
    number = 0
    for day in range(1, 6):
        for instrument_id, base in ((1, 3000), (2, 4600)):
            price = Decimal(base)
            for _ in range(per_day):
                number += 1
                offset_us = rng.randrange(0, 7 * 1800 * 1_000_000)
                if rows and rng.random() < 0.1:  # same instant as the previous trade
                    executed = rows[-1]["executed_at"]
                else:
                    executed = datetime(2024, 7, day, 10, 30, tzinfo=UTC) + timedelta(microseconds=offset_us)
                price = max(Decimal(1000), price + Decimal(rng.randint(-20, 20)) / 2)
                buyer, seller = (
                    ("ACC000002", "ACC000005") if rng.random() < 0.5 else ("ACC000005", "ACC000002")
                )
                row = trade(f"R{number:06d}", instrument_id, "2024-07-01", str(price), "1", buyer, seller)
                row["executed_at"] = row["updated_at"] = executed
                row["quantity_t"] = Decimal(rng.randint(5, 500)) / 10
                rows.append(row)
    return rows


ORDERS = [
    # order 1001 has two versions: open, then filled
    {"order_id": 1001, "instrument_id": 1, "member_id": "MBR0001", "account_id": "ACC000001", "side": "buy",
     "order_type": "limit", "limit_price_ghs_per_t": Decimal("3010"), "quantity_t": Decimal("20"),
     "filled_t": Decimal("0"), "status": "open", "created_at": ts("2024-07-01 09:59"), "updated_at": ts("2024-07-01 09:59")},
    {"order_id": 1001, "instrument_id": 1, "member_id": "MBR0001", "account_id": "ACC000001", "side": "buy",
     "order_type": "limit", "limit_price_ghs_per_t": Decimal("3010"), "quantity_t": Decimal("20"),
     "filled_t": Decimal("20"), "status": "filled", "created_at": ts("2024-07-01 09:59"), "updated_at": ts("2024-07-01 10:00:30")},
    {"order_id": 1002, "instrument_id": 2, "member_id": "MBR0002", "account_id": "ACC000002", "side": "sell",
     "order_type": "limit", "limit_price_ghs_per_t": Decimal("4700"), "quantity_t": Decimal("400"),
     "filled_t": Decimal("0"), "status": "cancelled", "created_at": ts("2024-07-01 10:10"), "updated_at": ts("2024-07-01 10:11")},
    {"order_id": 1003, "instrument_id": 1, "member_id": "MBR0003", "account_id": "ACC000003", "side": "buy",
     "order_type": "market", "limit_price_ghs_per_t": None, "quantity_t": Decimal("600"),
     "filled_t": Decimal("600"), "status": "filled", "created_at": ts("2024-07-01 11:00"), "updated_at": ts("2024-07-01 11:00")},
]  # fmt: skip

ORDER_EVENTS = [
    {"event_id": event_id, "order_id": order_id, "event_type": kind, "event_at": ts(at),
     "limit_price_ghs_per_t": price, "quantity_t": quantity, "updated_at": ts(at)}
    for event_id, order_id, kind, at, price, quantity in [
        (1, 1001, "new", "2024-07-01 09:59", Decimal("3010"), Decimal("20")),
        (2, 1001, "fill", "2024-07-01 10:00", Decimal("3010"), Decimal("20")),
        (3, 1002, "new", "2024-07-01 10:10", Decimal("4700"), Decimal("400")),
        (4, 1002, "modify", "2024-07-01 10:10:30", Decimal("4710"), Decimal("400")),
        (5, 1002, "cancel", "2024-07-01 10:11", None, Decimal("400")),
        (6, 1003, "new", "2024-07-01 11:00", None, Decimal("600")),
        (7, 1003, "fill", "2024-07-01 11:00", None, Decimal("600")),
    ]
]  # fmt: skip


def settlement(settlement_id: int, trade_id: str, member: str, obligation: str, amount: str, quantity: str,
               due_on: date, settled_at: str | None, status: str, updated_at: str) -> Row:  # fmt: skip
    return {
        "settlement_id": settlement_id, "trade_id": trade_id, "member_id": member, "obligation": obligation,
        "amount_ghs": Decimal(amount), "quantity_t": Decimal(quantity), "due_on": due_on,
        "settled_at": ts(settled_at) if settled_at else None, "status": status, "updated_at": ts(updated_at),
    }  # fmt: skip


SETTLEMENTS = [
    settlement(1, "T0001", "MBR0001", "pay_cash", "30000", "10", date(2024, 7, 2), "2024-07-02 12:00", "settled", "2024-07-02 12:00"),
    # settled after the 16:00 deadline: late
    settlement(2, "T0001", "MBR0002", "deliver_commodity", "30000", "10", date(2024, 7, 2), "2024-07-02 17:00", "late", "2024-07-02 17:00"),
    # not paid by the deadline: failed
    settlement(3, "T0009", "MBR0003", "pay_cash", "1800000", "600", date(2024, 7, 2), None, "failed", "2024-07-02 16:00"),
    # two versions: pending, then settled
    settlement(4, "T0009", "MBR0001", "deliver_commodity", "1800000", "600", date(2024, 7, 2), None, "pending", "2024-07-01 11:00"),
    settlement(4, "T0009", "MBR0001", "deliver_commodity", "1800000", "600", date(2024, 7, 2), "2024-07-02 15:00", "settled", "2024-07-02 15:00"),
]  # fmt: skip

WAREHOUSE_RECEIPTS = [
    {"receipt_id": "WR-EJ-000001", "warehouse_code": "EJ", "account_id": "ACC000001", "commodity_code": "WM",
     "grade": 1, "quantity_t": Decimal("700"), "deposited_at": ts("2024-06-15 09:00"), "withdrawn_at": None,
     "status": "active", "updated_at": ts("2024-06-15 09:00")},
]  # fmt: skip


def trading_calendar() -> list[Row]:
    rows = []
    day = date(2024, 6, 1)
    while day <= date(2024, 7, 31):
        trading = day.weekday() < 5
        rows.append(
            {
                "calendar_date": day,
                "is_trading_day": trading,
                "holiday_name": None,
                "session_open_at": datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
                if trading
                else None,
                "session_close_at": datetime(day.year, day.month, day.day, 14, tzinfo=UTC)
                if trading
                else None,
            }
        )
        day += timedelta(days=1)
    return rows


# ------------------------------------------------------------------------------------------------
# compliance (drops: the partition is the file's date)

KYC_CHECKS = [
    {"check_id": check_id, "subject_type": kind, "subject_id": subject, "check_type": check_type, "status": status,
     "checked_at": ts(at), "expires_on": expires, "_partition_date": ts(at).date()}
    for check_id, kind, subject, check_type, status, at, expires in [
        ("K1", "member", "MBR0001", "identity", "passed", "2024-01-10 09:00", date(2025, 1, 10)),
        # expires 2024-07-20: expiring as of 2024-07-10
        ("K2", "member", "MBR0002", "identity", "passed", "2023-07-20 09:00", date(2024, 7, 20)),
        # failed, then passed: has_failed, current status passed
        ("K3", "member", "MBR0003", "identity", "failed", "2024-06-15 09:00", None),
        ("K4", "member", "MBR0003", "identity", "passed", "2024-07-02 09:00", date(2025, 7, 2)),
        # expired on 2024-06-30
        ("K5", "beneficial_owner", "BO000001", "address", "passed", "2023-01-01 09:00", date(2024, 6, 30)),
        ("K6", "beneficial_owner", "BO000002", "source_of_funds", "pending", "2024-07-05 09:00", None),
    ]
]  # fmt: skip

SANCTIONS_SCREENING = [
    {"screening_id": sid, "subject_type": kind, "subject_id": subject, "list_name": list_name,
     "screened_at": ts(at), "result": result, "match_score": score, "_partition_date": ts(at).date()}
    for sid, kind, subject, list_name, at, result, score in [
        ("S1", "member", "MBR0001", "UN", "2024-07-01 06:00", "clear", 0.05),
        ("S2", "beneficial_owner", "BO000004", "OFAC", "2024-07-03 06:00", "potential_match", 0.82),
        ("S3", "beneficial_owner", "BO000004", "GH-FIC", "2024-07-05 06:00", "confirmed_match", 0.97),
    ]
]  # fmt: skip

REGULATORY_FILINGS = [
    {"filing_id": fid, "member_id": member, "filing_type": kind, "period_end": period_end, "due_on": due,
     "filed_at": ts(filed) if filed else None, "status": status, "_partition_date": date(2024, 7, 8)}
    for fid, member, kind, period_end, due, filed, status in [
        ("F1", "MBR0001", "annual_return", date(2023, 12, 31), date(2024, 6, 30), "2024-06-20 10:00", "filed"),
        ("F2", "MBR0002", "capital_adequacy", date(2024, 6, 30), date(2024, 7, 5), "2024-07-08 10:00", "late"),
        ("F3", "MBR0003", "audit_report", date(2023, 12, 31), date(2024, 7, 1), None, "missing"),
    ]
]  # fmt: skip

POSITION_LIMITS = [
    {"limit_id": lid, "member_id": member, "commodity_code": commodity, "max_net_position_t": Decimal(limit),
     "effective_from": start, "effective_to": end, "_partition_date": date(2024, 6, 1)}
    for lid, member, commodity, limit, start, end in [
        ("L1", "MBR0003", "WM", "500", date(2024, 6, 1), None),
        # MBR0001 sells 618 t net on 07-01 (within 1,000 t to 07-02, included) and 150 t on 07-03 (over 100 t)
        ("L2", "MBR0001", "WM", "1000", date(2024, 6, 1), date(2024, 7, 2)),
        ("L3", "MBR0001", "WM", "100", date(2024, 7, 3), None),
    ]
]  # fmt: skip

# ------------------------------------------------------------------------------------------------
# platform (drops)

USERS = [
    {"user_id": uid, "email": email, "full_name": name, "phone": phone, "country": "GH", "member_id": member,
     "role": role, "signed_up_at": ts(at), "_partition_date": partition}
    for uid, email, name, phone, member, role, at, partition in [
        ("U0001", "abena.darko@akuapem-brokers.example", "Abena Darko", "+233550000001", "MBR0001", "trader", "2024-05-10 09:00", date(2024, 5, 10)),
        ("U0002", "yaw.osei@quant.example", "Yaw Osei", None, None, "analyst", "2024-06-02 12:00", date(2024, 6, 2)),
        # re-sent in a later drop with another role: the later drop wins
        ("U0003", "esi.ampofo@mail.example", "Esi Ampofo", "+233550000003", None, "viewer", "2024-07-01 08:00", date(2024, 7, 1)),
        ("U0003", "esi.ampofo@mail.example", "Esi Ampofo", "+233550000003", None, "analyst", "2024-07-01 08:00", date(2024, 7, 4)),
    ]
]  # fmt: skip

SUBSCRIPTIONS = [
    {"subscription_id": sid, "user_id": uid, "plan": plan, "event": event, "occurred_at": ts(at),
     "price_ghs_per_month": Decimal(price), "_partition_date": ts(at).date()}
    for sid, uid, plan, event, at, price in [
        ("SUB1", "U0001", "member", "start", "2024-05-10 09:05", "200"),
        ("SUB1", "U0001", "member", "renew", "2024-06-10 09:05", "200"),
        ("SUB1", "U0001", "pro", "change", "2024-06-20 10:00", "500"),
        ("SUB2", "U0002", "pro", "start", "2024-06-02 12:05", "500"),
        ("SUB2", "U0002", "pro", "cancel", "2024-07-02 12:05", "500"),
        ("SUB3", "U0003", "free", "start", "2024-07-01 08:05", "0"),
    ]
]  # fmt: skip

API_USAGE = [
    {"request_id": f"Q{n:04d}", "user_id": uid, "endpoint": endpoint, "requested_at": ts(at), "status_code": status,
     "rows": rows, "bytes": rows * 80, "latency_ms": latency, "_partition_date": ts(at).date()}
    for n, (uid, endpoint, at, status, rows, latency) in enumerate([
        ("U0001", "/v1/trades", "2024-06-03 10:00", 200, 100, 35.0),
        ("U0001", "/v1/trades", "2024-07-01 10:00", 200, 500, 41.0),
        ("U0001", "/v1/ohlcv", "2024-07-01 10:05", 200, 390, 22.5),
        ("U0002", "/v1/ohlcv", "2024-07-01 11:00", 429, 0, 1.0),
        ("U0002", "/v1/ohlcv", "2024-07-02 11:00", 200, 60, 18.0),
        ("U0003", "/v1/catalog", "2024-07-03 09:00", 500, 0, 250.0),
        ("U0001", "/v1/trades", "2024-07-05 10:00", 200, 800, 55.0),
    ], start=1)
]  # fmt: skip

APP_SESSIONS = [
    {"session_id": f"A{n:04d}", "user_id": uid, "platform": platform, "started_at": ts(start),
     "ended_at": ts(start) + timedelta(minutes=minutes), "pages_viewed": pages, "_partition_date": ts(start).date()}
    for n, (uid, platform, start, minutes, pages) in enumerate([
        ("U0001", "web", "2024-05-12 09:00", 20, 12),
        ("U0002", "ios", "2024-06-15 18:00", 5, 3),
        ("U0002", "ios", "2024-07-01 18:00", 5, 4),
        ("U0003", "android", "2024-07-01 08:10", 15, 9),
        ("U0003", "android", "2024-07-04 08:10", 10, 5),
    ], start=1)
]  # fmt: skip

# ------------------------------------------------------------------------------------------------
# ingestion bookkeeping


def ingestion_log() -> list[Row]:
    return [
        {"source": "exchange", "dataset": "trades", "partition_date": date(2024, 7, day), "source_rows": 61,
         "lake_rows": 61, "raw_rows": 60, "quarantined_rows": 1,
         "lake_file": f"exchange/trades/2024-07-0{day}.parquet", "loaded_at": datetime(2024, 7, day + 1, 2, tzinfo=UTC)}
        for day in range(1, 6)
    ]  # fmt: skip


QUARANTINE = [
    {"source": "exchange", "dataset": "trades", "partition_date": date(2024, 7, 1), "source_file": "exchange/trades/2024-07-01.parquet",
     "source_row": 12, "record_key": "T0099", "reason": "price_ghs_per_t: must be > 0 (got -12.5)", "record": "{}"},
]  # fmt: skip


def load_all(conn: psycopg.Connection, extra_trades: list[Row] | None = None) -> None:
    """Create the raw schema and insert every hand-made row (plus `extra_trades`)."""
    create_raw_schema(conn)
    insert(conn, "exchange__warehouses", WAREHOUSES)
    insert(conn, "exchange__instruments", INSTRUMENTS)
    insert(conn, "exchange__members", MEMBERS)
    insert(conn, "exchange__beneficial_owners", BENEFICIAL_OWNERS)
    insert(conn, "exchange__accounts", ACCOUNTS)
    insert(conn, "exchange__orders", ORDERS)
    insert(conn, "exchange__order_events", ORDER_EVENTS)
    insert(conn, "exchange__trades", TRADES + (extra_trades or []))
    insert(conn, "exchange__settlements", SETTLEMENTS)
    insert(conn, "exchange__warehouse_receipts", WAREHOUSE_RECEIPTS)
    insert(conn, "exchange__trading_calendar", trading_calendar(), partition_column="calendar_date")
    insert(conn, "compliance__kyc_checks", KYC_CHECKS)
    insert(conn, "compliance__sanctions_screening", SANCTIONS_SCREENING)
    insert(conn, "compliance__regulatory_filings", REGULATORY_FILINGS)
    insert(conn, "compliance__position_limits", POSITION_LIMITS)
    insert(conn, "platform__users", USERS)
    insert(conn, "platform__subscriptions", SUBSCRIPTIONS)
    insert(conn, "platform__api_usage", API_USAGE)
    insert(conn, "platform__app_sessions", APP_SESSIONS)
    for row in ingestion_log():
        conn.execute(
            f"insert into raw.ingestion_log ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )
    for row in QUARANTINE:
        conn.execute(
            f"insert into raw.quarantine ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )


CLEAR_PII = [
    *(m[column] for m in MEMBERS for column in ("contact_email", "contact_phone")),
    *(o[column] for o in BENEFICIAL_OWNERS for column in ("full_name", "national_id", "email", "phone")),
    *(u[column] for u in USERS for column in ("email", "full_name", "phone") if u[column]),
]
"""Every clear PII text value in the raw rows: none may appear outside raw and restricted."""
