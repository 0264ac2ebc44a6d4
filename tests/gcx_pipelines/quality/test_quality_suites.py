"""Each raw dataset's suite passes on good hand-made rows and fails on bad ones, naming the expectation."""

from datetime import timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from quality_rows import DAY, GOOD_ROWS, replace_partition, replace_quarantine

from gcx.quality.suites import SUITES, suite_for
from gcx.quality.validation import lake_file, validate_bronze_partition, validate_raw_partition

GCX_PRICE = "expect_column_values_to_be_between(price_ghs_per_t) where venue = GCX"

# dataset -> (row index to change, the change, the one expectation that must fail)
BAD: dict[str, tuple[int, dict[str, Any], str]] = {
    "exchange__warehouses": (0, {"capacity_t": -5}, "expect_column_values_to_be_between(capacity_t)"),
    "exchange__instruments": (
        0,
        {"symbol": "GXXWM1"},
        "expect_column_values_to_match_regex(symbol) where venue = GCX",
    ),
    "exchange__members": (1, {"member_type": "farmer"}, "expect_column_values_to_be_in_set(member_type)"),
    "exchange__beneficial_owners": (
        0,
        {"date_of_birth": "2030-01-01"},
        "expect_column_values_to_be_between(date_of_birth)",
    ),
    "exchange__accounts": (
        1,
        {"closed_at": None},
        "expect_column_values_to_not_be_null(closed_at) where status = closed",
    ),
    "exchange__orders": (
        0,
        {"limit_price_ghs_per_t": 40000},
        "expect_column_values_to_be_between(limit_price_ghs_per_t) where venue = GCX",
    ),
    "exchange__order_events": (1, {"event_type": "amend"}, "expect_column_values_to_be_in_set(event_type)"),
    "exchange__trades": (0, {"price_ghs_per_t": 75000}, GCX_PRICE),
    "exchange__settlements": (0, {"obligation": "pay"}, "expect_column_values_to_be_in_set(obligation)"),
    "exchange__warehouse_receipts": (0, {"quantity_t": 0}, "expect_column_values_to_be_between(quantity_t)"),
    "exchange__trading_calendar": (
        0,
        {"session_open_at": None},
        "expect_column_values_to_not_be_null(session_open_at) where is_trading_day = True",
    ),
    "compliance__kyc_checks": (
        0,
        {"checked_at": "2015-06-01T00:00:00Z"},
        "expect_column_values_to_be_between(checked_at)",
    ),
    "compliance__sanctions_screening": (
        0,
        {"match_score": 1.7},
        "expect_column_values_to_be_between(match_score)",
    ),
    "compliance__regulatory_filings": (
        0,
        {"due_on": "2024-02-01"},
        "expect_column_pair_values_a_to_be_greater_than_b(due_on, period_end)",
    ),
    "compliance__position_limits": (
        1,
        {"commodity_code": "XX"},
        "expect_column_values_to_be_in_set(commodity_code)",
    ),
    "platform__users": (1, {"email": "not-an-email"}, "expect_column_values_to_match_regex(email)"),
    "platform__subscriptions": (1, {"event": "cancelled"}, "expect_column_values_to_be_in_set(event)"),
    "platform__api_usage": (0, {"latency_ms": -1.0}, "expect_column_values_to_be_between(latency_ms)"),
    "platform__app_sessions": (
        0,
        {"ended_at": "2024-03-05T09:00:00Z"},
        "expect_column_pair_values_a_to_be_greater_than_b(ended_at, started_at)",
    ),
}


def test_every_raw_dataset_has_a_suite_and_hand_made_cases():
    assert {s.name for s in SUITES} == set(GOOD_ROWS) == set(BAD)
    assert len(SUITES) == 19
    for suite in SUITES:
        names = [e.name for e in suite.all_expectations()]
        assert len(names) == len(set(names)), suite.name


@pytest.mark.parametrize("dataset", sorted(GOOD_ROWS))
def test_suite_passes_on_good_rows_and_fails_on_bad_ones(conn, reference_instruments, dataset):
    good = GOOD_ROWS[dataset]
    replace_partition(conn, dataset, DAY, good)
    result = validate_raw_partition(conn, dataset, DAY)
    assert result.success, result.details()
    assert result.rows == len(good)
    assert result.total == len(suite_for(dataset).all_expectations()) >= 5

    index, change, expectation = BAD[dataset]
    bad = [dict(row) for row in good]
    bad[index].update(change)
    replace_partition(conn, dataset, DAY, bad)
    result = validate_raw_partition(conn, dataset, DAY)
    assert [f.expectation for f in result.failures] == [expectation]
    assert result.severity == "critical"
    assert result.passed_count == result.total - 1
    failure = result.details()["failures"][0]
    assert failure["expectation"] == expectation
    assert failure.get("unexpected_count") == 1 or "observed_value" in failure


def test_key_must_be_unique_within_the_partition(conn, reference_instruments):
    trade = GOOD_ROWS["exchange__trades"][0]
    replace_partition(conn, "exchange__trades", DAY, [trade, {**trade, "updated_at": "2024-03-05T13:00:00Z"}])
    assert validate_raw_partition(conn, "exchange__trades", DAY).success  # two versions of one trade

    replace_partition(conn, "exchange__trades", DAY, [trade, trade])
    result = validate_raw_partition(conn, "exchange__trades", DAY)
    assert [f.expectation for f in result.failures] == [
        "expect_compound_columns_to_be_unique(trade_id, updated_at)"
    ]
    assert result.failures[0].observed["unexpected_count"] == 2


def test_exchange_rows_must_be_updated_on_the_partition_day(conn, reference_instruments):
    late = {**GOOD_ROWS["exchange__trades"][0], "updated_at": "2024-03-06T00:00:00Z"}
    replace_partition(conn, "exchange__trades", DAY, [late])
    result = validate_raw_partition(conn, "exchange__trades", DAY)
    assert [f.expectation for f in result.failures] == ["expect_column_values_to_be_between(updated_at)"]
    assert result.failures[0].observed["examples"] == ["2024-03-06T00:00:00+00:00"]


def test_only_the_checked_partition_counts(conn, reference_instruments):
    bad = {**GOOD_ROWS["exchange__trades"][0], "price_ghs_per_t": -1, "updated_at": "2024-03-07T12:00:00Z"}
    replace_partition(conn, "exchange__trades", DAY + timedelta(days=2), [bad])
    replace_partition(conn, "exchange__trades", DAY, GOOD_ROWS["exchange__trades"])
    assert validate_raw_partition(conn, "exchange__trades", DAY).success
    assert not validate_raw_partition(conn, "exchange__trades", DAY + timedelta(days=2)).success


def test_an_empty_partition_passes(conn):
    replace_partition(conn, "platform__api_usage", DAY, [])
    result = validate_raw_partition(conn, "platform__api_usage", DAY)
    assert result.success and result.rows == 0


def test_a_warning_expectation_reports_without_blocking(conn):
    rows = [dict(row) for row in GOOD_ROWS["platform__api_usage"]]
    rows[0]["endpoint"] = "v1/trades"
    replace_partition(conn, "platform__api_usage", DAY, rows)
    result = validate_raw_partition(conn, "platform__api_usage", DAY)
    assert [f.expectation for f in result.failures] == ["expect_column_values_to_match_regex(endpoint)"]
    assert result.severity == "warning"


def test_the_first_partition_also_holds_earlier_rows(conn):
    member = {**GOOD_ROWS["exchange__members"][0], "updated_at": "2019-01-01T09:00:00Z"}
    replace_partition(conn, "exchange__members", DAY, [member])
    assert validate_raw_partition(conn, "exchange__members", DAY, first_partition=True).success
    result = validate_raw_partition(conn, "exchange__members", DAY)
    assert [f.expectation for f in result.failures] == ["expect_column_values_to_be_between(updated_at)"]


def _write_lake_file(settings, dataset: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    path = lake_file(settings.lake_dir, dataset, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            c: pa.array([str(r.get(c)) if r.get(c) is not None else None for r in rows], pa.string())
            for c in columns
        }
    )
    pq.write_table(table, path)


def test_bronze_file_has_the_source_columns_and_every_row(conn, settings):
    dataset = "platform__api_usage"
    columns = [
        "request_id",
        "user_id",
        "endpoint",
        "requested_at",
        "status_code",
        "rows",
        "bytes",
        "latency_ms",
    ]
    good = GOOD_ROWS[dataset]
    replace_partition(conn, dataset, DAY, good)
    replace_quarantine(conn, dataset, DAY, 1)
    source_rows = [*good, {"request_id": "R3", "latency_ms": "-7"}]  # the third row is the quarantined one
    _write_lake_file(settings, dataset, source_rows, [*columns, "_source_row"])
    result = validate_bronze_partition(conn, settings.lake_dir, dataset, DAY)
    assert result.success, result.details()
    assert result.rows == 3 and result.total == 2

    _write_lake_file(settings, dataset, source_rows[:2], [*columns[:-1], "latency"])
    result = validate_bronze_partition(conn, settings.lake_dir, dataset, DAY)
    assert [f.expectation for f in result.failures] == [
        "expect_table_columns_to_match_set()",
        "expect_table_row_count_to_equal()",
    ]
    row_count = result.failures[1].observed
    assert (row_count["observed_value"], row_count["raw_rows"], row_count["quarantined_rows"]) == (2, 2, 1)


def test_a_missing_lake_file_fails(conn, settings):
    result = validate_bronze_partition(conn, settings.lake_dir, "platform__users", DAY + timedelta(days=300))
    assert not result.success
    assert result.failures[0].expectation.startswith("lake_file_exists(platform/users/date=2024-12-30")


def test_suites_agree_with_the_ingestion_registry():
    """What ingestion lets into raw must not fail a suite for a value set or a missing value."""
    from gcx.ingestion.datasets import DATASETS_BY_TABLE

    assert set(DATASETS_BY_TABLE) == {s.name for s in SUITES}
    for suite in SUITES:
        dataset = DATASETS_BY_TABLE[suite.name]
        assert suite.key[0] == dataset.key, suite.name
        columns = {c.name: c for c in dataset.columns}
        for expect in suite.all_expectations():
            column = expect.kwargs.get("column")
            if expect.where is not None or column not in columns:
                continue
            if expect.type == "expect_column_values_to_not_be_null":
                assert columns[column].required, f"{suite.name}.{column} may be empty in raw"
            if expect.type == "expect_column_values_to_be_in_set" and columns[column].one_of:
                assert set(expect.kwargs["value_set"]) == set(columns[column].one_of), (
                    f"{suite.name}.{column}"
                )
        enums = {c.name for c in dataset.columns if c.one_of}
        checked = {
            e.kwargs["column"] for e in suite.expectations if e.type == "expect_column_values_to_be_in_set"
        }
        assert enums <= checked, f"{suite.name}: enums without a value set: {enums - checked}"
