"""One simulated world (45 days over Easter and Eid, scale 4, 3 % bad records), checked the way its
consumers will use it: domain rules, referential integrity, and ground truth against the data."""

import csv
import io
import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from gcx import database
from gcx.simulator import simulate

START, DAYS, SEED, SCALE, BAD_RATE = date(2024, 2, 26), 45, 4, 4.0, 0.03
SYMBOL = re.compile(r"^G(AP|EJ|KI|KU|SA|TA|TU|WA|WE)(([WY])M|SB|SO|SS|MR)[1-4]$")
BANDS = {
    "WM": (2500, 4500),
    "YM": (2500, 4500),
    "SB": (4000, 6500),
    "SO": (2500, 4000),
    "SS": (5500, 7500),
    "MR": (4500, 7000),
}


@pytest.fixture(scope="module")
def world(settings):
    return simulate(START, DAYS, SEED, scale=SCALE, bad_rate=BAD_RATE, settings=settings)


@pytest.fixture(scope="module")
def db(world, settings):
    with database.connect("exchange", settings=settings) as conn:
        yield conn


@pytest.fixture(scope="module")
def truth(world, settings) -> list[dict]:
    return [json.loads(line) for line in (settings.truth_dir / "bad_records.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def bad_trade_ids(truth) -> set[str]:
    return {r["record_key"] for r in truth if r["source"] == "exchange"}


def scalar(db, sql, *params):
    return db.execute(sql, params[0] if params and isinstance(params[0], dict) else params).fetchone()[0]


# --- volume and reference data -------------------------------------------------------------------


def test_every_table_is_filled_at_the_requested_scale(world, db):
    for table in ("trading_calendar", "warehouses", "instruments", "members", "beneficial_owners", "accounts",
                  "orders", "order_events", "trades", "settlements", "warehouse_receipts"):  # fmt: skip
        assert scalar(db, f"select count(*) from {table}") > 0, table
    trades_per_day = world.tables["trades"] / world.trading_days
    assert 60 < trades_per_day < 250  # scale 4 x tens of trades a day
    assert world.tables["settlements"] == 2 * world.tables["trades"]


def test_symbols_follow_the_gcx_grammar_and_match_their_attributes(db):
    rows = db.execute(
        "select symbol, commodity_code, colour, grade, warehouse_code from instruments"
    ).fetchall()
    assert 25 <= len(rows) <= 40
    for symbol, commodity, colour, grade, warehouse in rows:
        match = SYMBOL.match(symbol)
        assert match, symbol
        assert match.group(1) == warehouse and symbol.endswith(str(grade))
        assert commodity == (match.group(2) if not match.group(3) else f"{match.group(3)}M")
        assert (colour is not None) == (commodity in ("WM", "YM"))
    assert scalar(db, "select count(*) from instruments where listed_on > %s", START) >= 1
    assert scalar(db, "select count(*) from instruments where delisted_on is not null") >= 1


def test_ticks_and_lots(db, bad_trade_ids):
    assert scalar(db, "select count(*) from instruments where tick_size_ghs not between 0.01 and 1") == 0
    assert scalar(db, "select count(*) from instruments where lot_size_t not in (10, 50)") == 0
    off_lot = """
        select count(*) from {table} x join instruments i using (instrument_id)
         where x.quantity_t > 0 and mod(x.quantity_t, i.lot_size_t) <> 0 and {clean}"""
    assert scalar(db, off_lot.format(table="trades", clean="x.trade_id <> all(%s)"), list(bad_trade_ids)) == 0
    assert scalar(db, off_lot.format(table="orders", clean="true")) == 0
    off_tick = """
        select count(*) from trades t join instruments i using (instrument_id)
         where mod(t.price_ghs_per_t, i.tick_size_ghs) <> 0 and t.trade_id <> all(%s)"""
    assert scalar(db, off_tick, list(bad_trade_ids)) == 0


def test_people_look_ghanaian_and_some_owners_bank_with_two_members(db):
    ids = [r[0] for r in db.execute("select national_id from beneficial_owners")]
    assert all(re.fullmatch(r"GHA-\d{9}-\d", i) for i in ids)
    phones = [r[0] for r in db.execute("select phone from beneficial_owners")]
    assert all(re.fullmatch(r"\+233\d{9}", p) for p in phones)
    assert (
        scalar(
            db,
            "select count(*) from (select owner_id from accounts group by owner_id having count(distinct member_id) > 1) x",
        )
        > 0
    )
    assert set(r[0] for r in db.execute("select distinct member_type from members")) == {
        "broker",
        "bank",
        "trader",
        "processor",
    }


# --- market realism ------------------------------------------------------------------------------


def test_clean_trade_prices_stay_in_their_commodity_band(db, bad_trade_ids):
    rows = db.execute(
        "select t.trade_id, i.commodity_code, t.price_ghs_per_t from trades t join instruments i using (instrument_id)"
    ).fetchall()
    outside = [r for r in rows if r[0] not in bad_trade_ids and not BANDS[r[1]][0] <= r[2] <= BANDS[r[1]][1]]
    assert outside == []
    per_commodity = Counter(r[1] for r in rows)
    assert per_commodity["WM"] == max(per_commodity.values())  # white maize dominates GCX


def test_grade_one_trades_above_grade_four(db):
    average = dict(db.execute(
        """select grade, avg(price_ghs_per_t) from trades join instruments using (instrument_id)
            where commodity_code = 'WM' and price_ghs_per_t between 1000 and 7500 group by grade"""
    ).fetchall())  # fmt: skip
    assert average[1] > average[2] > average[4]


def test_clean_trades_happen_only_in_sessions_of_trading_days(db, bad_trade_ids):
    outside = db.execute(
        """select trade_id from trades t where not exists (
               select 1 from trading_calendar c
                where c.is_trading_day and t.executed_at >= c.session_open_at and t.executed_at < c.session_close_at)"""
    ).fetchall()
    assert {r[0] for r in outside} <= bad_trade_ids
    holidays = [date(2024, 3, 6), date(2024, 3, 29), date(2024, 4, 1), date(2024, 4, 10)]
    assert (
        scalar(
            db,
            "select count(*) from trading_calendar where calendar_date = any(%s) and is_trading_day",
            holidays,
        )
        == 0
    )
    assert (
        scalar(
            db,
            "select count(*) from trades where executed_at::date = any(%s) and trade_id <> all(%s)",
            holidays,
            list(bad_trade_ids),
        )
        == 0
    )
    events_outside = """
        select count(*) from order_events e where not exists (
            select 1 from trading_calendar c
             where c.is_trading_day and e.event_at between c.session_open_at and c.session_close_at)"""
    assert scalar(db, events_outside) == 0


def test_calendar_covers_the_period_with_a_margin(db):
    first, last = db.execute("select min(calendar_date), max(calendar_date) from trading_calendar").fetchone()
    assert first == START - timedelta(days=30) and last == START + timedelta(days=DAYS - 1 + 30)


def test_trades_come_from_matched_orders(db, bad_trade_ids):
    mismatched = """
        select count(*) from trades t
          join orders b on b.order_id = t.buy_order_id
          join orders s on s.order_id = t.sell_order_id
         where t.trade_id <> all(%s) and (b.side <> 'buy' or s.side <> 'sell' or b.instrument_id <> s.instrument_id
            or b.account_id <> t.buyer_account_id or s.account_id <> t.seller_account_id
            or b.instrument_id <> t.instrument_id or b.created_at > t.executed_at or s.created_at > t.executed_at)"""
    assert scalar(db, mismatched, list(bad_trade_ids)) == 0
    fills = """
        select count(*) from orders o left join (
            select order_id, sum(q) as q from (
                select buy_order_id as order_id, quantity_t as q from trades
                union all select sell_order_id, quantity_t from trades) f group by order_id) f using (order_id)
         where o.filled_t <> coalesce(f.q, 0) and o.order_id not in (
               select buy_order_id from trades where quantity_t is null or quantity_t <= 0
               union select sell_order_id from trades where quantity_t is null or quantity_t <= 0)"""
    assert scalar(db, fills) == 0
    fill_events = scalar(db, "select count(*) from order_events where event_type = 'fill'")
    assert fill_events == 2 * scalar(db, "select count(*) from trades")
    statuses = dict(db.execute("select status, count(*) from orders group by status").fetchall())
    assert set(statuses) == {"filled", "cancelled"}  # day orders: nothing stays open after the close
    assert scalar(db, "select count(*) from order_events where event_type = 'modify'") > 0


def test_updated_at_is_simulated_time_on_a_period_day(db):
    for table in ("orders", "trades", "settlements", "order_events", "warehouse_receipts"):
        low, high = db.execute(f"select min(updated_at), max(updated_at) from {table}").fetchone()
        assert low.date() >= START and high.date() < START + timedelta(days=DAYS), table
    assert scalar(db, "select count(*) from orders where updated_at < created_at") == 0


def test_reference_rows_change_between_go_live_and_the_end_never_before_they_exist(db):
    """Reference rows older than the system carry its go-live (the day before the period); none is
    stamped before the row came into being (an account frozen before it opened) or after the end."""
    go_live = START - timedelta(days=1)
    for table in ("warehouses", "instruments", "members", "beneficial_owners", "accounts"):
        low, high = db.execute(f"select min(updated_at), max(updated_at) from {table}").fetchone()
        assert low.date() == go_live and high.date() < START + timedelta(days=DAYS), table
    assert scalar(db, "select count(*) from accounts where updated_at < opened_at") == 0
    assert (
        scalar(db, "select count(*) from accounts where opened_at >= %s", START + timedelta(days=DAYS)) == 0
    )
    trade_days_not_trading = """
        select count(*) from trades t join trading_calendar c on c.calendar_date = t.updated_at::date
         where not c.is_trading_day"""
    assert scalar(db, trade_days_not_trading) == 0


# --- settlement ----------------------------------------------------------------------------------


def test_settlement_is_due_on_the_next_trading_day(db, bad_trade_ids):
    rows = db.execute(
        """select t.trade_id, s.due_on,
                  (select min(c.calendar_date) from trading_calendar c
                    where c.is_trading_day and c.calendar_date > t.updated_at::date)
             from settlements s join trades t using (trade_id)"""
    ).fetchall()
    assert all(due == expected for _, due, expected in rows)
    sides = """
        select count(*) from settlements s join trades t using (trade_id)
         where (s.obligation = 'pay_cash' and s.member_id is distinct from t.buyer_member_id
             or s.obligation = 'deliver_commodity' and s.member_id is distinct from t.seller_member_id)
           and t.trade_id <> all(%s)"""
    assert scalar(db, sides, list(bad_trade_ids)) == 0
    statuses = dict(db.execute("select status, count(*) from settlements group by status").fetchall())
    assert statuses["settled"] > 0.8 * sum(statuses.values())
    assert {"late", "failed", "pending"} <= set(statuses)
    assert (
        scalar(
            db, "select count(*) from settlements where status in ('settled', 'late') and settled_at is null"
        )
        == 0
    )
    assert (
        scalar(
            db,
            "select count(*) from settlements where status = 'late' and settled_at <= due_on + time '16:00'",
        )
        == 0
    )


def test_member_defaults_truth_matches_failed_settlements(db, settings):
    rows = list(csv.DictReader((settings.truth_dir / "member_defaults.csv").open()))
    failed = dict(db.execute(
        "select member_id, min(due_on) from settlements where status = 'failed' group by member_id"
    ).fetchall())  # fmt: skip
    assert {r["member_id"] for r in rows} >= set(failed)
    for row in rows:
        expected = failed.get(row["member_id"])
        assert row["first_failed_on"] == (expected.isoformat() if expected else "")
    distressed = [r for r in rows if r["profile"] == "distressed"]
    assert distressed
    rate = dict(db.execute(
        "select member_id, avg((status = 'failed')::int) from settlements where status <> 'pending' group by member_id"
    ).fetchall())  # fmt: skip
    healthy = [rate[m] for m in rate if m not in {r["member_id"] for r in distressed}]
    assert max(rate.get(r["member_id"], 0) for r in distressed) > 5 * (sum(healthy) / len(healthy))


# --- referential integrity -------------------------------------------------------------------------


ORPHANS = {
    "trade without buy order": "select count(*) from trades t where not exists (select 1 from orders o where o.order_id = t.buy_order_id)",
    "trade without sell order": "select count(*) from trades t where not exists (select 1 from orders o where o.order_id = t.sell_order_id)",
    "trade buyer account": "select count(*) from trades t where not exists (select 1 from accounts a where a.account_id = t.buyer_account_id)",
    "trade seller account": "select count(*) from trades t where not exists (select 1 from accounts a where a.account_id = t.seller_account_id)",
    "order account at another member": "select count(*) from orders o join accounts a using (account_id) where a.member_id <> o.member_id",
    "order by a member not registered yet": "select count(*) from orders o join members m using (member_id) where o.created_at::date < m.registered_on",
    "order on an account not open": "select count(*) from orders o join accounts a using (account_id) where o.created_at < a.opened_at or o.created_at > a.closed_at",
    "order on an unlisted instrument": "select count(*) from orders o join instruments i using (instrument_id) where o.created_at::date < i.listed_on or o.created_at::date >= i.delisted_on",
    "receipt on an account not open": "select count(*) from warehouse_receipts r join accounts a using (account_id) where r.deposited_at < a.opened_at",
}


@pytest.mark.parametrize("rule", ORPHANS)
def test_no_orphans(db, rule):
    assert scalar(db, ORPHANS[rule]) == 0


def test_clean_trades_name_the_accounts_members(db, bad_trade_ids):
    sql = """
        select count(*) from trades t
          join accounts b on b.account_id = t.buyer_account_id join accounts s on s.account_id = t.seller_account_id
         where (b.member_id is distinct from t.buyer_member_id or s.member_id is distinct from t.seller_member_id)
           and t.trade_id <> all(%s)"""
    assert scalar(db, sql, list(bad_trade_ids)) == 0


# --- ground truth: bad records ---------------------------------------------------------------------


def test_exchange_faults_in_truth_are_exactly_the_rule_violations(db, truth):
    found = db.execute(
        """
        select t.trade_id, case
            when t.price_ghs_per_t < 0 then 'negative_price'
            when t.price_ghs_per_t = 0 then 'zero_price'
            when t.price_ghs_per_t > 100000 then 'absurd_price'
            when t.quantity_t is null then 'null_quantity'
            when t.quantity_t <= 0 then 'nonpositive_quantity'
            when t.executed_at < '2000-01-01' or t.executed_at > '2090-01-01' then 'executed_at_out_of_range'
            when not exists (select 1 from trading_calendar c where c.is_trading_day
                             and t.executed_at >= c.session_open_at and t.executed_at < c.session_close_at)
                then 'executed_at_outside_session'
            when t.buyer_member_id is null or t.seller_member_id is null then 'missing_counterparty'
            when not exists (select 1 from members m where m.member_id = t.buyer_member_id)
              or not exists (select 1 from members m where m.member_id = t.seller_member_id) then 'unknown_member'
            when t.executed_at::date >= i.delisted_on then 'delisted_instrument'
            end as fault
          from trades t join instruments i using (instrument_id)
        """
    ).fetchall()
    violations = {(trade_id, fault) for trade_id, fault in found if fault}
    recorded = [(r["record_key"], r["fault"]) for r in truth if r["source"] == "exchange"]
    assert len(recorded) == len(set(recorded))
    assert set(recorded) == violations
    assert len({fault for _, fault in recorded}) >= 8  # most kinds occur


TIMESTAMP_CSV = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TIMESTAMP_JSON = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# dataset: (fields in order, id field, {field: kind}, required fields)
FILE_RULES = {
    "kyc_checks": ("check_id subject_type subject_id check_type status checked_at expires_on",
                   {"checked_at": "ts", "expires_on": "date", "subject_id": "subject"}, "expires_on"),
    "sanctions_screening": ("screening_id subject_type subject_id list_name screened_at result match_score",
                            {"screened_at": "ts", "match_score": "number", "subject_id": "subject"}, ""),
    "regulatory_filings": ("filing_id member_id filing_type period_end due_on filed_at status",
                           {"period_end": "date", "due_on": "date", "filed_at": "ts", "member_id": "member"}, "filed_at"),
    "position_limits": ("limit_id member_id commodity_code max_net_position_t effective_from effective_to",
                        {"max_net_position_t": "number", "effective_from": "date", "effective_to": "date", "member_id": "member"},
                        "effective_to"),
    "users": ("user_id email full_name phone country member_id role signed_up_at", {"signed_up_at": "ts"}, "member_id"),
    "subscriptions": ("subscription_id user_id plan event occurred_at price_ghs_per_month",
                      {"occurred_at": "ts", "price_ghs_per_month": "number"}, ""),
    "api_usage": ("request_id user_id endpoint requested_at status_code rows bytes latency_ms",
                  {"requested_at": "ts", "status_code": "int", "rows": "int", "bytes": "int", "latency_ms": "number"}, ""),
    "app_sessions": ("session_id user_id platform started_at ended_at pages_viewed",
                     {"started_at": "ts", "ended_at": "ts", "pages_viewed": "int"}, ""),
}  # fmt: skip


def _line_fault(
    dataset: str, raw: bytes, file_day: date, known: dict[str, set[str]], seen: set[str], is_csv: bool
):
    """The fault a strict reader finds in one line, or None; rules written independently of the simulator."""
    names, kinds, optional = FILE_RULES[dataset]
    names, optional = names.split(), set(optional.split())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8"
    if is_csv:
        try:
            (values,) = list(csv.reader([text], strict=True))
        except csv.Error:
            return "truncated_line"
        if len(values) != len(names):
            return "wrong_column_count"
        record = dict(zip(names, values, strict=True))
        if any(record[n] == "" for n in names if n not in optional):
            return "missing_field"
        record = {k: (None if v == "" else v) for k, v in record.items()}
    else:
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            return "broken_json"
        if set(record) != set(names) or any(record[n] is None for n in names if n not in optional):
            return "missing_field"
    stamps = []
    for name, kind in kinds.items():
        value = record[name]
        if value is None:
            continue
        if kind == "ts":
            if not isinstance(value, str) or not (TIMESTAMP_CSV if is_csv else TIMESTAMP_JSON).match(value):
                return "wrong_type"
            stamps.append(datetime.fromisoformat(value.replace("Z", "")))
        elif kind == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                return "wrong_type"
        elif kind in ("number", "int"):
            if is_csv:
                try:
                    float(value)
                except ValueError:
                    return "wrong_type"
            elif isinstance(value, bool) or not isinstance(value, int if kind == "int" else (int, float)):
                return "wrong_type"
    if any(
        not datetime(2000, 1, 1) <= s < datetime.combine(file_day + timedelta(days=2), datetime.min.time())
        for s in stamps
    ):
        return "timestamp_out_of_range"
    for name, kind in kinds.items():
        if kind == "member" and record[name] not in known["member"]:
            return "unknown_reference"
        if kind == "subject" and record[name] not in known[record["subject_type"]]:
            return "unknown_reference"
    key = record[names[0]]
    if key in seen:
        return "duplicate_id"
    seen.add(key)
    return None


def test_file_faults_in_truth_are_exactly_what_a_strict_reader_finds(db, truth, settings):
    known = {
        "member": {r[0] for r in db.execute("select member_id from members")},
        "beneficial_owner": {r[0] for r in db.execute("select owner_id from beneficial_owners")},
    }
    found = set()
    files = sorted(settings.landing_dir.rglob("*.*"))
    assert len(files) > 100
    for path in files:
        relative = path.relative_to(settings.landing_dir).as_posix()
        dataset = path.parent.name
        is_csv = path.suffix == ".csv"
        file_day = date.fromisoformat(path.stem.rsplit("_", 1)[1])
        lines = path.read_bytes().split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        if is_csv:
            assert lines[0].decode().split(",") == FILE_RULES[dataset][0].split()
        seen: set[str] = set()
        for number, raw in enumerate(lines, start=1):
            if is_csv and number == 1:
                continue
            fault = _line_fault(dataset, raw, file_day, known, seen, is_csv)
            if fault:
                found.add((relative, number, fault))
    recorded = [
        (r["file"], r["line"], r["fault"]) for r in truth if r["source"] in ("compliance", "platform")
    ]
    assert len(recorded) == len(set(recorded))
    assert set(recorded) == found
    assert {f for *_, f in recorded} >= {"wrong_type", "missing_field", "duplicate_id", "invalid_utf8", "broken_json",
                                           "wrong_column_count", "timestamp_out_of_range", "unknown_reference"}  # fmt: skip


# --- ground truth: episodes, breaches --------------------------------------------------------------


@pytest.fixture(scope="module")
def episodes(world, settings) -> list[dict]:
    return [json.loads(line) for line in (settings.truth_dir / "episodes.jsonl").read_text().splitlines()]


def test_every_episode_type_occurs_and_references_existing_rows(db, episodes):
    assert {e["type"] for e in episodes} == {
        "wash_trade",
        "circular_trading",
        "spoofing",
        "marking_the_close",
        "pump_and_dump",
    }
    trade_ids = [t for e in episodes for t in e["trade_ids"]]
    order_ids = [o for e in episodes for o in e["order_ids"]]
    assert scalar(db, "select count(*) from trades where trade_id = any(%s)", trade_ids) == len(
        set(trade_ids)
    )
    assert scalar(db, "select count(*) from orders where order_id = any(%s)", order_ids) == len(
        set(order_ids)
    )
    for e in episodes:
        executed = db.execute(
            "select min(executed_at), max(executed_at), array_agg(distinct i.symbol) from trades join instruments i using (instrument_id) where trade_id = any(%s)",
            (e["trade_ids"],),
        ).fetchone()
        assert executed[2] == [e["symbol"]]
        assert (
            datetime.fromisoformat(e["start_at"])
            <= executed[0]
            <= executed[1]
            <= datetime.fromisoformat(e["end_at"])
        )


def test_wash_trades_are_exactly_the_same_owner_trades(db, episodes):
    same_owner = {r[0] for r in db.execute(
        """select trade_id from trades t join accounts b on b.account_id = t.buyer_account_id
             join accounts s on s.account_id = t.seller_account_id where b.owner_id = s.owner_id"""
    )}  # fmt: skip
    washed = {t for e in episodes if e["type"] == "wash_trade" for t in e["trade_ids"]}
    assert washed and same_owner == washed
    for e in episodes:
        if e["type"] == "wash_trade":
            assert len(e["member_ids"]) == 2


def test_circular_trading_passes_a_lot_around_a_ring(db, episodes):
    for e in (e for e in episodes if e["type"] == "circular_trading"):
        rows = db.execute(
            "select buyer_member_id, seller_member_id, quantity_t, price_ghs_per_t from trades where trade_id = any(%s)",
            (e["trade_ids"],),
        ).fetchall()
        assert {r[0] for r in rows} == {r[1] for r in rows} == set(e["member_ids"])
        assert 3 <= len(e["member_ids"]) <= 4 and len({r[2] for r in rows}) == 1
        prices = [float(r[3]) for r in rows]
        assert max(prices) / min(prices) < 1.01


def test_spoofing_cancels_large_orders_while_trading_small_on_the_other_side(db, episodes):
    for e in (e for e in episodes if e["type"] == "spoofing"):
        orders = db.execute(
            "select side, quantity_t, filled_t, status, updated_at - created_at from orders where order_id = any(%s)",
            (e["order_ids"],),
        ).fetchall()
        spoofs = [o for o in orders if o[3] == "cancelled" and o[2] == 0]
        assert len(spoofs) >= 2 and len({o[0] for o in spoofs}) == 1
        assert all(o[4] <= timedelta(minutes=4) for o in spoofs)
        trades = db.execute(
            "select buyer_member_id, seller_member_id, quantity_t from trades where trade_id = any(%s)",
            (e["trade_ids"],),
        ).fetchall()
        (member,) = e["member_ids"]
        real_side_buys = spoofs[0][0] == "sell"
        assert all((t[0] if real_side_buys else t[1]) == member for t in trades)
        assert max(t[2] for t in trades) < min(o[1] for o in spoofs)


def test_marking_the_close_trades_are_the_days_last(db, episodes):
    for e in (e for e in episodes if e["type"] == "marking_the_close"):
        last = db.execute(
            """select trade_id from trades join instruments i using (instrument_id)
                where i.symbol = %s and executed_at::date = %s::date order by executed_at desc limit 1""",
            (e["symbol"], e["end_at"]),
        ).fetchone()[0]
        assert last in e["trade_ids"]
        assert datetime.fromisoformat(e["start_at"]).time() >= datetime(2000, 1, 1, 13, 50).time()


def test_pump_and_dump_buys_then_sells_over_several_days(db, episodes):
    for e in (e for e in episodes if e["type"] == "pump_and_dump"):
        rows = db.execute(
            "select executed_at, buyer_account_id = any(%s) from trades where trade_id = any(%s) order by executed_at",
            (e["account_ids"], e["trade_ids"]),
        ).fetchall()
        group_buys = [buys for _, buys in rows]
        assert len({r[0].date() for r in rows}) >= 3
        assert group_buys[0]
        if False in group_buys:  # the dump: once the group sells, it no longer buys
            assert True not in group_buys[group_buys.index(False) :]
        else:  # still pumping when the simulation ended
            assert rows[-1][0].date() >= START + timedelta(days=DAYS - 10)
    assert any(False in [r[1] for r in db.execute(
        "select executed_at, buyer_account_id = any(%s) from trades where trade_id = any(%s)", (e["account_ids"], e["trade_ids"])
    )] for e in episodes if e["type"] == "pump_and_dump")  # fmt: skip


def test_limit_breaches_truth_matches_net_positions(db, settings, bad_trade_ids):
    rows = list(csv.DictReader((settings.truth_dir / "limit_breaches.csv").open()))
    assert rows
    for row in rows[:40]:
        net = scalar(
            db,
            """select coalesce(sum(case when t.buyer_member_id = %(m)s then t.quantity_t else 0 end)
                             - sum(case when t.seller_member_id = %(m)s then t.quantity_t else 0 end), 0)
                 from trades t join instruments i using (instrument_id)
                where i.commodity_code = %(c)s and t.updated_at::date = %(d)s and t.trade_id <> all(%(bad)s)""",
            {
                "m": row["member_id"],
                "c": row["commodity_code"],
                "d": row["trading_date"],
                "bad": list(bad_trade_ids),
            },
        )
        assert net == int(row["net_position_t"])
        assert abs(net) > int(row["max_net_position_t"])


def test_platform_users_grow_and_visit_more_on_weekdays(settings):
    sessions = Counter()
    for path in (settings.landing_dir / "platform" / "app_sessions").glob("*.jsonl"):
        day = date.fromisoformat(path.stem.rsplit("_", 1)[1])
        lines = io.StringIO(path.read_bytes().decode("utf-8", "replace"))
        users = {json.loads(line).get("user_id") for line in lines if line.rstrip().endswith("}")}
        sessions["weekday" if day.weekday() < 5 else "weekend"] += len(users) / (
            5 if day.weekday() < 5 else 2
        )
    assert sessions["weekday"] > 1.5 * sessions["weekend"]
    users_files = sorted((settings.landing_dir / "platform" / "users").glob("*.jsonl"))
    assert len(users_files) == DAYS
    assert Path(users_files[0]).stat().st_size > 10 * Path(users_files[1]).stat().st_size  # initial snapshot
