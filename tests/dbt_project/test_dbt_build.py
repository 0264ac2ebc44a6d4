"""`dbt build` on a week of hand-made raw rows: every model builds, every data and unit test passes,
the bars equal an independent pandas computation at all four intervals (also after an incremental
build that corrects, moves and adds trades), the scenarios come out right, and no clear PII
reaches a schema other than raw and restricted."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from gcx import clock
from tests.dbt_project import raw_rows
from tests.dbt_project.raw_rows import ts

pytestmark = pytest.mark.slow

INTERVALS = {"1m": "1min", "5m": "5min", "1h": "1h", "1d": "1D"}
BAR_COLUMNS = [
    "instrument_id", "bar_start_at", "open_ghs_per_t", "high_ghs_per_t", "low_ghs_per_t",
    "close_ghs_per_t", "vwap_ghs_per_t", "volume_t", "value_ghs", "trade_count",
]  # fmt: skip
MICRO = Decimal("0.000001")


def expected_bars(trades: list[dict], interval: str) -> pd.DataFrame:
    """OHLCV bars computed from raw trade rows in pandas, independently of the dbt SQL: latest
    version per trade_id, bars stamped at the interval start, open/close by (executed_at, trade_id)."""
    frame = pd.DataFrame(trades).sort_values("updated_at").drop_duplicates("trade_id", keep="last")
    frame["bar_start_at"] = pd.to_datetime(frame["executed_at"], utc=True).dt.floor(INTERVALS[interval])
    frame["value"] = [p * q for p, q in zip(frame.price_ghs_per_t, frame.quantity_t, strict=True)]
    frame = frame.sort_values(["executed_at", "trade_id"])
    bars = (
        frame.groupby(["instrument_id", "bar_start_at"])
        .agg(
            open_ghs_per_t=("price_ghs_per_t", "first"),
            high_ghs_per_t=("price_ghs_per_t", "max"),
            low_ghs_per_t=("price_ghs_per_t", "min"),
            close_ghs_per_t=("price_ghs_per_t", "last"),
            volume_t=("quantity_t", lambda s: sum(s, Decimal(0))),
            value_ghs=("value", lambda s: sum(s, Decimal(0))),
            trade_count=("trade_id", "size"),
        )
        .reset_index()
    )
    bars["vwap_ghs_per_t"] = [
        (v / q).quantize(MICRO, rounding=ROUND_HALF_UP)
        for v, q in zip(bars.value_ghs, bars.volume_t, strict=True)
    ]
    return normalise(bars)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[BAR_COLUMNS].copy()
    out["bar_start_at"] = pd.to_datetime(out["bar_start_at"], utc=True)
    out["instrument_id"] = out["instrument_id"].astype(int)
    out["trade_count"] = out["trade_count"].astype(int)
    for column in BAR_COLUMNS[2:-1]:
        out[column] = out[column].map(lambda d: Decimal(d).normalize())
    return out.sort_values(["instrument_id", "bar_start_at"]).reset_index(drop=True)


def built_bars(warehouse, interval: str) -> pd.DataFrame:
    rows = warehouse.query(f"select {', '.join(BAR_COLUMNS)} from marts.fct_ohlcv_{interval}")
    return normalise(pd.DataFrame(rows, columns=BAR_COLUMNS))


def assert_bars_match(warehouse, trades: list[dict]) -> None:
    for interval in INTERVALS:
        pd.testing.assert_frame_equal(
            built_bars(warehouse, interval), expected_bars(trades, interval), obj=interval
        )


@pytest.fixture(scope="module")
def built(fresh_warehouse):
    """The hand-made raw rows plus seeded random trades, built once for the module."""
    trades = raw_rows.TRADES + raw_rows.random_trades()
    with fresh_warehouse.connect() as conn:
        raw_rows.load_all(conn, extra_trades=trades[len(raw_rows.TRADES) :])
    result = fresh_warehouse.dbt("build")
    return fresh_warehouse, trades, result


def test_build_runs_every_model_data_test_and_unit_test(built):
    _, _, result = built
    kinds = {}
    for r in result.result:
        kind = r.node.resource_type
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["model"] >= 50
    assert kinds["test"] >= 250
    assert kinds["unit_test"] >= 8
    assert kinds["snapshot"] == 1


def test_bars_equal_an_independent_computation_at_every_interval(built):
    warehouse, trades, _ = built
    assert_bars_match(warehouse, trades)


def test_an_empty_minute_has_no_bar_and_same_instant_trades_close_by_trade_id(built):
    warehouse, _, _ = built
    bars = warehouse.query(
        "select bar_start_at, open_ghs_per_t, high_ghs_per_t, close_ghs_per_t, trade_count from marts.fct_ohlcv_1m"
        " where instrument_id = 1 and bar_start_at < '2024-07-01 10:04:00+00' order by 1"
    )
    # T0001 3000 at 10:00:00, then T0002 3010 and T0003 3005 both at 10:00:30: T0003 closes.
    # 10:01 has no trade; T0004 at 10:02:59.999999 and T0005 at 10:03:00 are a minute apart.
    assert bars == [
        (ts("2024-07-01 10:00"), Decimal("3000"), Decimal("3010"), Decimal("3005"), 3),
        (ts("2024-07-01 10:02"), Decimal("2990"), Decimal("2990"), Decimal("2990"), 1),
        (ts("2024-07-01 10:03"), Decimal("2995"), Decimal("2995"), Decimal("2995"), 1),
    ]


def test_scenarios_come_out_as_the_rules_say(built):
    warehouse, _, _ = built
    q = warehouse.query
    assert {r[0] for r in q("select trade_id from compliance.fct_large_trades")} == {"T0009", "T0010"}
    breaches = q(
        "select member_id, breach_date, net_position_t, position_limit_id"
        " from compliance.fct_position_limit_breaches order by 2"
    )
    assert breaches == [
        ("MBR0003", ts("2024-07-01").date(), Decimal("600"), "L1"),  # bought 600 t, limit 500 t
        ("MBR0001", ts("2024-07-03").date(), Decimal("-150"), "L3"),  # sold 150 t, limit lowered to 100 t
    ]
    kyc = {
        r[0]: r[1:]
        for r in q(
            "select subject_id, kyc_status, is_expiring, is_expired, has_failed from compliance.dim_kyc_subjects"
        )
    }
    assert kyc["MBR0002"] == ("passed", True, False, False)
    assert kyc["BO000001"] == ("expired", False, True, False)
    assert kyc["MBR0003"] == ("passed", False, False, True)
    assert kyc["BO000002"][0] == "pending"
    settlements = {
        r[0]: r[1:]
        for r in q("select settlement_id, is_late, is_failed, settlement_status from marts.fct_settlements")
    }
    assert settlements == {
        1: (False, False, "settled"), 2: (True, False, "late"), 3: (False, True, "failed"), 4: (False, False, "settled")
    }  # fmt: skip
    assert q("select member_status from marts.dim_members where member_id = 'MBR0003' and is_current") == [
        ("suspended",)
    ]
    assert q("select tick_size_ghs from marts.dim_instruments where instrument_id = 1") == [
        (Decimal("1.0000"),)
    ]
    summary = q(
        "select settlement_price_method from marts.fct_daily_market_summary"
        " where symbol = 'GEJWM1' and trade_date = '2024-07-01'"
    )
    assert summary == [("closing_vwap",)]
    daily = q(
        "select position_breach_count, sanctions_confirmed_match_count, filings_missing_count"
        " from compliance.fct_compliance_daily where compliance_date = '2024-07-05'"
    )
    assert daily == [(0, 1, 1)]  # F3 due 07-01 and never filed
    mrr = dict(q("select plan, mrr_ghs from marts.fct_mrr_monthly where month_start = '2024-07-01'"))
    assert mrr == {"free": 0, "member": 0, "pro": 500}  # SUB1 pro 500; SUB2 cancelled on 07-02


EMAIL = re.compile(r"[^@\s*]+@[^@\s]+\.[A-Za-z]{2,}")


def test_no_clear_pii_outside_raw_and_restricted(built):
    warehouse, _, _ = built
    clear = {value.lower() for value in raw_rows.CLEAR_PII}
    assert len(clear) > 20
    columns = warehouse.query(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        where c.table_schema not in ('raw', 'restricted', 'pg_catalog', 'information_schema')
            and c.data_type in ('text', 'character varying')
        """
    )
    assert len({(s, t) for s, t, _ in columns}) > 40
    leaks = []
    for schema, table, column in columns:
        values = warehouse.query(
            f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null'
        )
        for (value,) in values:
            if value.lower() in clear or EMAIL.search(value):
                leaks.append(f"{schema}.{table}.{column}: {value}")
    assert not leaks, "clear PII outside restricted:\n" + "\n".join(leaks)
    # and the restricted marts do hold them, so the scan above looks at real values
    assert warehouse.query("select count(*) from restricted.dim_user_contacts where email like '%@%'") == [
        (3,)
    ]


def test_pii_columns_are_declared_only_in_restricted_models(dbt_manifest):
    pii_schemas = {
        node.schema
        for node in dbt_manifest.nodes.values()
        if node.resource_type == "model" and any(column.meta.get("pii") for column in node.columns.values())
    }
    assert pii_schemas == {"restricted"}


# Last: it changes the raw rows the tests above read.
def test_incremental_build_replaces_the_days_of_corrected_and_new_trades(built):
    warehouse, trades, _ = built
    later = clock.now()
    corrections = [
        # T0005 moves from 10:03:00 to 10:01:30 (its old minute may be left without a trade)
        {**next(t for t in raw_rows.TRADES if t["trade_id"] == "T0005"), "executed_at": ts("2024-07-01 10:01:30"), "updated_at": later},
        # T0012's third version: another price
        {**[t for t in raw_rows.TRADES if t["trade_id"] == "T0012"][-1], "price_ghs_per_t": Decimal("3041.5"), "updated_at": later},
        # a new day
        raw_rows.trade("T0100", 1, "2024-07-08 10:15:00", "3060", "12", "ACC000002", "ACC000005", later),
        raw_rows.trade("T0101", 1, "2024-07-08 10:15:00", "3055", "3", "ACC000005", "ACC000002", later),
    ]  # fmt: skip
    with warehouse.connect() as conn:
        raw_rows.insert(conn, "exchange__trades", corrections, loaded_at=later)
    result = warehouse.dbt(
        "build", "--select", "fct_trades", "fct_ohlcv_1m", "fct_ohlcv_5m", "fct_ohlcv_1h", "fct_ohlcv_1d"
    )
    daily = next(r for r in result.result if r.node.name == "fct_ohlcv_1d")
    # rewritten: the days of the new versions, 07-01 and 07-02 (two instruments each), the new day
    # 07-08 (one), and 07-05 (two), loaded last before the previous build and re-read as the
    # bars_lookback_minutes margin says; not the other 4 bars of 07-03 and 07-04
    assert daily.adapter_response["rows_affected"] == 7
    assert_bars_match(warehouse, trades + corrections)


@pytest.mark.attack("a dictionary run on the pseudonyms")
def test_pseudonyms_are_keyed_not_a_salted_hash_anyone_can_recompute(built):
    """A dictionary of e-mails finds nothing without the installation's key: the marts hold
    HMAC-SHA256 under it (the key of these tests: raw_rows.PII_KEY), not md5 of a public salt."""
    import hashlib

    from gcx.warehouse.pii import pseudonym

    warehouse, _, _ = built
    stored = dict(warehouse.query("select user_id, email_hash from marts.dim_users"))
    assert set(stored) == {user["user_id"] for user in raw_rows.USERS}
    for user in raw_rows.USERS:  # a user re-sent in a later drop keeps its e-mail
        assert stored[user["user_id"]] == pseudonym(raw_rows.PII_KEY, user["email"])
        dictionary_guess = hashlib.md5(("gcx-development-salt" + user["email"].lower()).encode()).hexdigest()
        assert stored[user["user_id"]] != dictionary_guess
