"""Validation rules on tiny batches: each kind of fault gives its own, readable reason."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from gcx.ingestion.datasets import DATASETS_BY_TABLE
from gcx.ingestion.validate import (
    READ_ERROR,
    SOURCE_ROW,
    TEXT,
    Reference,
    find_duplicates,
    validate,
)

TRADES = DATASETS_BY_TABLE["exchange__trades"]
KYC = DATASETS_BY_TABLE["compliance__kyc_checks"]
API_USAGE = DATASETS_BY_TABLE["platform__api_usage"]
DAY = date(2024, 3, 5)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def reference() -> Reference:
    return Reference(
        ids={
            "member": frozenset({"MBR0001", "MBR0002"}),
            "beneficial_owner": frozenset({"BO000001"}),
            "instrument": frozenset({1, 2, 3}),
        },
        instruments=pd.DataFrame(
            {
                "venue": ["GCX", "GCX", "external"],
                "delisted_on": pd.to_datetime([None, "2024-03-01", None]).astype("datetime64[us]"),
            },
            index=pd.Index([1, 2, 3], name="instrument_id"),
        ),
        sessions=pd.DataFrame(
            {"session_open_at": [pd.Timestamp(at(10))], "session_close_at": [pd.Timestamp(at(14))]},
            index=pd.DatetimeIndex([pd.Timestamp(DAY)], name="calendar_date"),
        ).astype("datetime64[us, UTC]"),
    )


def good_trade(**changes) -> dict:
    trade = {
        "trade_id": "T1",
        "instrument_id": 1,
        "executed_at": at(11),
        "price_ghs_per_t": 3200.5,
        "quantity_t": 50.0,
        "buy_order_id": 1,
        "sell_order_id": 2,
        "buyer_member_id": "MBR0001",
        "buyer_account_id": "ACC1",
        "seller_member_id": "MBR0002",
        "seller_account_id": "ACC2",
        "aggressor_side": "buy",
        "updated_at": at(11),
    }
    return trade | changes


def trades_batch(*trades: dict) -> pa.Table:
    """Trades typed as the exchange extract types them (bronze)."""
    schema = pa.schema([pa.field(SOURCE_ROW, pa.int32())] + [(c.name, c.type) for c in TRADES.columns])
    rows = [{SOURCE_ROW: n, **t} for n, t in enumerate(trades, start=1)]
    for row in rows:
        for column in ("price_ghs_per_t", "quantity_t"):
            if row[column] is not None:
                row[column] = Decimal(str(row[column]))
    return pa.Table.from_pylist(rows, schema=schema)


def trade_reasons(trade: dict, reference: Reference) -> str:
    verdict = validate(trades_batch(trade), TRADES.columns, TRADES.rules, reference, key=TRADES.key)
    assert not verdict.valid[0]
    return verdict.reasons[0]


def test_a_good_trade_passes(reference):
    verdict = validate(trades_batch(good_trade()), TRADES.columns, TRADES.rules, reference)
    assert verdict.valid.tolist() == [True]
    assert verdict.reasons == {}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"price_ghs_per_t": -12.5}, "price_ghs_per_t: must be > 0 (got -12.5)"),
        ({"price_ghs_per_t": 0}, "price_ghs_per_t: must be > 0 (got 0)"),
        ({"price_ghs_per_t": 5_000_000}, "price_ghs_per_t: must be < 1000000 (got 5000000)"),
        ({"quantity_t": None}, "quantity_t: must not be empty (got null)"),
        ({"quantity_t": -1}, "quantity_t: must be > 0 (got -1)"),
        (
            {"executed_at": datetime(1999, 12, 31, 11, tzinfo=UTC)},
            "executed_at: must be >= 2000-01-01T00:00:00+00:00",
        ),
        (
            {"executed_at": at(11, day=date(2024, 3, 7))},
            "executed_at: must be at most 1 day after updated_at",
        ),
        (
            {"executed_at": at(9, 59)},
            "executed_at: must fall within its day's GCX trading session (got 2024-03-05T09:59:00+00:00)",
        ),
        ({"buyer_member_id": None}, "buyer_member_id: must be a known member on GCX trades (got null)"),
        (
            {"seller_member_id": "MBR9999"},
            "seller_member_id: must be a known member on GCX trades (got 'MBR9999')",
        ),
        ({"instrument_id": 2}, "instrument_id: must not be delisted on the trade date (got 2)"),
        ({"instrument_id": 42}, "instrument_id: must be a known instrument (got 42)"),
        ({"aggressor_side": "both"}, "aggressor_side: must be one of buy, sell (got 'both')"),
    ],
)
def test_each_trade_fault_has_its_reason(reference, change, reason):
    assert reason in trade_reasons(good_trade(**change), reference)


def test_a_row_lists_every_problem(reference):
    reasons = trade_reasons(good_trade(price_ghs_per_t=-1, quantity_t=0), reference)
    assert reasons == "price_ghs_per_t: must be > 0 (got -1); quantity_t: must be > 0 (got 0)"


def test_other_venues_skip_gcx_session_and_counterparty_rules(reference):
    external = good_trade(instrument_id=3, executed_at=at(20), buyer_member_id=None, seller_member_id=None)
    assert validate(trades_batch(external), TRADES.columns, TRADES.rules, reference).valid.tolist() == [True]


def text_batch(columns, rows: list[dict], errors: list[str | None] | None = None) -> pa.Table:
    """Rows as a file drop's bronze holds them: every field as text."""
    table = pa.Table.from_pylist(
        [{SOURCE_ROW: n, **row} for n, row in enumerate(rows, start=2)],
        schema=pa.schema([pa.field(SOURCE_ROW, pa.int32())] + [(c.name, TEXT) for c in columns]),
    )
    return table.append_column(READ_ERROR, pa.array(errors or [None] * len(rows), pa.string()))


def good_kyc(**changes) -> dict:
    row = {
        "check_id": "KYC1",
        "subject_type": "member",
        "subject_id": "MBR0001",
        "check_type": "identity",
        "status": "passed",
        "checked_at": "2024-03-05T09:30:00Z",
        "expires_on": "2025-03-05",
    }
    return row | changes


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"check_id": None}, "check_id: must not be empty (got null)"),
        ({"status": "ok"}, "status: must be one of passed, failed, pending (got 'ok')"),
        (
            {"checked_at": "yesterday"},
            "checked_at: must be an ISO-8601 timestamp with a UTC offset (got 'yesterday')",
        ),
        (
            {"checked_at": "2024-03-05T09:30:00"},
            "checked_at: must be an ISO-8601 timestamp with a UTC offset",
        ),
        (
            {"checked_at": "1970-01-01T00:00:00Z"},
            "checked_at: must be >= 2000-01-01T00:00:00+00:00 (got 1970-01-01T00:00:00+00:00)",
        ),
        ({"expires_on": "2025-02-30"}, "expires_on: must be a date (YYYY-MM-DD) (got '2025-02-30')"),
        ({"subject_id": "MBR9999"}, "subject_id: must be a known member or beneficial owner (got 'MBR9999')"),
        (
            {"subject_type": "beneficial_owner", "subject_id": "MBR0001"},
            "subject_id: must be a known member or beneficial owner",
        ),
        ({"check_id": "K\x00"}, "check_id: must be text without NUL characters"),
    ],
)
def test_each_drop_file_fault_has_its_reason(reference, change, reason):
    verdict = validate(text_batch(KYC.columns, [good_kyc(**change)]), KYC.columns, KYC.rules, reference)
    assert verdict.valid.tolist() == [False]
    assert reason in verdict.reasons[0]


def test_good_drop_rows_pass(reference):
    rows = [
        good_kyc(),
        good_kyc(check_id="KYC2", subject_type="beneficial_owner", subject_id="BO000001", expires_on=None),
    ]
    assert validate(text_batch(KYC.columns, rows), KYC.columns, KYC.rules, reference).valid.tolist() == [
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("value", "valid"),
    [("200", True), ("-1", False), ("200.0", False), ("1e3", False), ("true", False), ("99999999999", False)],
)
def test_integers_from_text_are_strict(value, valid):
    row = {
        "request_id": "R1",
        "user_id": "U1",
        "endpoint": "/v1/trades",
        "requested_at": "2024-03-05T10:00:00+00:00",
        "status_code": value,
        "rows": "10",
        "bytes": "2048",
        "latency_ms": "12.5",
    }
    verdict = validate(text_batch(API_USAGE.columns, [row]), API_USAGE.columns, API_USAGE.rules)
    assert verdict.valid.tolist() == [valid]


def test_an_unreadable_line_gets_only_its_read_error():
    batch = text_batch(KYC.columns, [{}], errors=["line: must be valid JSON (Expecting value)"])
    verdict = validate(batch, KYC.columns, KYC.rules)
    assert verdict.reasons == {0: "line: must be valid JSON (Expecting value)"}


def test_duplicates_keep_the_first_readable_occurrence():
    keys = pd.Series(["A", "B", "A", "C", "C", "A"])
    rows = pd.Series([2, 3, 4, 5, 6, 7])
    readable = pd.Series([True, True, True, False, True, True])
    assert find_duplicates(keys, rows, readable) == {4: 2, 7: 2}


def test_duplicate_reason_names_the_first_row(reference):
    batch = text_batch(KYC.columns, [good_kyc(), good_kyc()])
    verdict = validate(batch, KYC.columns, KYC.rules, reference, key="check_id", duplicate_of={3: 2})
    assert verdict.valid.tolist() == [True, False]
    assert (
        verdict.reasons[1] == "check_id: must be unique in the partition (got 'KYC1', first at source row 2)"
    )


SANCTIONS = DATASETS_BY_TABLE["compliance__sanctions_screening"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # pandas failed on the whole column (NotImplementedError) when one instant left years 1-9999
        (
            {"checked_at": "0000-03-05T09:30:00Z"},
            "checked_at: must be an ISO-8601 timestamp with a UTC offset",
        ),
        (
            {"checked_at": "0001-01-01T00:00:00+01:00"},
            "checked_at: must be an ISO-8601 timestamp with a UTC offset",
        ),
        # these passed validation and then failed the whole partition's COPY in PostgreSQL
        ({"expires_on": "0000-01-01"}, "expires_on: must be a date (YYYY-MM-DD) (got '0000-01-01')"),
        (
            {"checked_at": "2024-03-05T09:30:00+16:00"},
            "checked_at: must be an ISO-8601 timestamp with a UTC offset",
        ),
    ],
)
def test_values_postgresql_refuses_are_quarantined_not_fatal(reference, change, reason):
    rows = [good_kyc(check_id="KYC0"), good_kyc(**change)]
    verdict = validate(text_batch(KYC.columns, rows), KYC.columns, KYC.rules, reference)
    assert verdict.valid.tolist() == [True, False]
    assert reason in verdict.reasons[1]


def test_a_double_that_underflows_to_zero_is_quarantined(reference):
    """PostgreSQL refuses '1e-400' as double precision; it passed as 0 and failed the load."""
    row = {
        "screening_id": "S1",
        "subject_type": "member",
        "subject_id": "MBR0001",
        "list_name": "UN",
        "screened_at": "2024-03-05T09:30:00Z",
        "result": "clear",
        "match_score": "1e-400",
    }
    zero = row | {"screening_id": "S2", "match_score": "0e-400"}
    verdict = validate(
        text_batch(SANCTIONS.columns, [row, zero]), SANCTIONS.columns, SANCTIONS.rules, reference
    )
    assert verdict.valid.tolist() == [False, True]
    assert verdict.reasons[0] == "match_score: must be a finite number (got '1e-400')"


def test_decimals_are_judged_as_postgresql_rounds_them(reference):
    """'0.0001' in numeric(14, 3) is stored as 0: it passed '> 0' and raw held a limit of 0 tonnes."""
    limits = DATASETS_BY_TABLE["compliance__position_limits"]
    row = {
        "limit_id": "L1",
        "member_id": "MBR0001",
        "commodity_code": "WM",
        "max_net_position_t": "0.0001",
        "effective_from": "2024-03-05",
        "effective_to": None,
    }
    verdict = validate(text_batch(limits.columns, [row]), limits.columns, limits.rules, reference)
    assert verdict.reasons == {0: "max_net_position_t: must be > 0 (got 0)"}


def test_trades_validate_against_an_empty_trading_calendar():
    """An exchange with no calendar yet (only `gcx import trades`) made the session rule raise TypeError."""
    verdict = validate(
        trades_batch(good_trade()), TRADES.columns, TRADES.rules, Reference.empty(), key=TRADES.key
    )
    assert verdict.valid.tolist() == [False]
    assert "instrument_id: must be a known instrument" in verdict.reasons[0]
