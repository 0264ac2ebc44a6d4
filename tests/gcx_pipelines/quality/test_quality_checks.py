"""The quality checks executed by Dagster: partitions, blocking, results kept in the warehouse."""

import subprocess
import sys
from datetime import date

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from quality_rows import DAY, GOOD_ROWS, log_load, replace_partition, replace_quarantine

from gcx import database
from gcx.quality import reconciliation
from gcx.quality.suites import SUITES
from gcx.quality.validation import lake_file
from gcx_pipelines.defs.quality.checks import (
    BRONZE_CHECK_NAME,
    FCT_TRADES_ASSET_KEY,
    RAW_CHECK_NAME,
    TRADES_RECONCILIATION_CHECK_NAME,
    build_quality_checks,
    quality_checks,
)
from gcx_pipelines.resources import GcxResource

QUALITY = dg.Definitions(asset_checks=quality_checks)
"""The quality checks as the code location loads them."""
daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
TRADES = "exchange__trades"
GCX_PRICE = "expect_column_values_to_be_between(price_ghs_per_t) where venue = GCX"


@pytest.fixture
def resources(warehouse):
    return {"gcx": GcxResource(home=str(warehouse.home))}


def check_def(defs: dg.Definitions, asset_key: dg.AssetKey, name: str) -> dg.AssetChecksDefinition:
    key = dg.AssetCheckKey(asset_key, name)
    return next(c for c in defs.asset_checks if key in c.check_keys)


def results_of_run(run_id: str) -> list[tuple]:
    with database.connect("warehouse") as conn:
        return conn.execute(
            """
            select asset_key, check_name, partition_date, passed, expectations_total, expectations_passed, details
            from quality.check_results where run_id = %s order by partition_date, id
            """,
            (run_id,),
        ).fetchall()


def test_checks_load_on_their_own_and_only_raw_suites_block(resources):
    dg.Definitions.validate_loadable(dg.Definitions.merge(QUALITY, dg.Definitions(resources=resources)))
    specs = [spec for checks in QUALITY.asset_checks for spec in checks.check_specs]
    assert len(specs) == 2 * len(SUITES) + 1 == 39
    assert {s.asset_key for s in specs if s.blocking} == {dg.AssetKey(["raw", s.name]) for s in SUITES}
    assert {s.asset_key for s in specs if s.name == BRONZE_CHECK_NAME} == {
        dg.AssetKey(["bronze", s.name]) for s in SUITES
    }
    assert [s.asset_key for s in specs if s.name == TRADES_RECONCILIATION_CHECK_NAME] == [
        FCT_TRADES_ASSET_KEY
    ]


def test_importing_the_checks_imports_neither_great_expectations_nor_ingestion():
    code = (
        "import sys, gcx_pipelines.defs.quality.checks; "
        "print(sorted(m for m in ('great_expectations', 'pandas', 'gcx.ingestion', 'gcx_pipelines.defs.ingestion')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _raw_trades_stand_in(rows):
    @dg.asset(key=["raw", TRADES], partitions_def=daily)
    def raw_trades(context: dg.AssetExecutionContext, gcx: GcxResource) -> None:
        day = date.fromisoformat(context.partition_key)
        with gcx.connect("warehouse") as conn:
            replace_partition(conn, TRADES, day, rows)
            log_load(conn, TRADES, day, raw_rows=len(rows))

    @dg.asset(deps=[raw_trades], partitions_def=daily)
    def stg_trades() -> None:
        """Stands in for dbt staging: must not run when the raw check fails."""

    return [raw_trades, stg_trades, check_def(QUALITY, raw_trades.key, RAW_CHECK_NAME)]


def test_raw_check_passes_on_the_runs_partition_and_lets_downstream_run(resources, reference_instruments):
    result = dg.materialize(
        _raw_trades_stand_in(GOOD_ROWS[TRADES]), partition_key=DAY.isoformat(), resources=resources
    )
    assert result.success
    assert dg.AssetKey("stg_trades") in {m.asset_key for m in result.get_asset_materialization_events()}
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    metadata = {k: v.value for k, v in evaluation.metadata.items()}
    assert metadata["partitions"] == "2024-03-05" and metadata["partition_source"] == "run partition"
    assert metadata["rows"] == 2 and metadata["expectations_passed"] == metadata["expectations_total"] > 10
    [(asset_key, check, day, passed, total, ok, details)] = results_of_run(result.run_id)
    assert (asset_key, check, day, passed, total, ok) == (
        "raw/exchange__trades",
        RAW_CHECK_NAME,
        DAY,
        True,
        total,
        total,
    )
    assert details["rows"] == 2 and details["failures"] == []


def test_failing_raw_check_blocks_downstream_and_names_the_expectation(resources, reference_instruments):
    bad = [dict(row) for row in GOOD_ROWS[TRADES]]
    bad[0]["price_ghs_per_t"] = 75000
    result = dg.materialize(
        _raw_trades_stand_in(bad), partition_key=DAY.isoformat(), resources=resources, raise_on_error=False
    )
    assert not result.success
    assert {m.asset_key for m in result.get_asset_materialization_events()} == {dg.AssetKey(["raw", TRADES])}
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    [failure] = evaluation.metadata["failing_expectations"].value
    assert failure["expectation"] == GCX_PRICE and failure["examples"] == [75000.0]
    assert GCX_PRICE in evaluation.description
    [(_, _, day, passed, total, ok, details)] = results_of_run(result.run_id)
    assert (day, passed, ok) == (DAY, False, total - 1)
    assert details["failures"][0]["expectation"] == GCX_PRICE


def test_in_ingestions_first_partition_earlier_rows_pass(resources):
    dataset = "exchange__members"
    rows = [{**GOOD_ROWS[dataset][0], "updated_at": "2019-01-01T09:00:00Z"}]

    @dg.asset(key=["raw", dataset], partitions_def=daily)
    def raw_members(context: dg.AssetExecutionContext, gcx: GcxResource) -> None:
        with gcx.connect("warehouse") as conn:
            replace_partition(conn, dataset, date.fromisoformat(context.partition_key), rows)

    check = check_def(QUALITY, raw_members.key, RAW_CHECK_NAME)
    first = dg.materialize([raw_members, check], partition_key="2024-01-01", resources=resources)
    assert first.get_asset_check_evaluations()[0].passed
    later = dg.materialize(
        [raw_members, check], partition_key="2024-01-02", resources=resources, raise_on_error=False
    )
    [evaluation] = later.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["failing_expectations"].value[0]["expectation"] == (
        "expect_column_values_to_be_between(updated_at)"
    )


def test_check_without_a_partition_checks_what_ingestion_loaded_since(resources, conn):
    dataset, days = "platform__app_sessions", [date(2024, 6, 1), date(2024, 6, 2)]
    conn.execute("delete from raw.ingestion_log where source = 'platform' and dataset = 'app_sessions'")
    for day in days:
        replace_partition(conn, dataset, day, GOOD_ROWS[dataset])
        log_load(conn, dataset, day, raw_rows=2)
    key = dg.AssetKey(["raw", dataset])
    run = [dg.AssetSpec(key), check_def(QUALITY, key, RAW_CHECK_NAME)]

    first = dg.materialize(run, selection=dg.AssetSelection.checks_for_assets(key), resources=resources)
    assert [row[2] for row in results_of_run(first.run_id)] == days
    [evaluation] = first.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["partition_source"].value == "loaded since last checked (raw.ingestion_log)"

    second = dg.materialize(run, selection=dg.AssetSelection.checks_for_assets(key), resources=resources)
    assert [row[2] for row in results_of_run(second.run_id)] == [days[-1]]
    [evaluation] = second.get_asset_check_evaluations()
    assert evaluation.metadata["partition_source"].value == "latest loaded (raw.ingestion_log)"


@pytest.mark.filterwarnings("error::dagster.PreviewWarning")
def test_partitioned_checks_report_per_partition(resources, conn):
    dataset = "platform__users"
    defs = dg.Definitions(asset_checks=build_quality_checks(partitions_def=daily))

    @dg.asset(key=["raw", dataset], partitions_def=daily)
    def raw_users(context: dg.AssetExecutionContext, gcx: GcxResource) -> None:
        with gcx.connect("warehouse") as connection:
            replace_partition(
                connection, dataset, date.fromisoformat(context.partition_key), GOOD_ROWS[dataset]
            )

    check = check_def(defs, raw_users.key, RAW_CHECK_NAME)
    assert check.check_specs and next(iter(check.check_specs)).partitions_def == daily
    result = dg.materialize([raw_users, check], partition_key="2024-03-05", resources=resources)
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.partition == "2024-03-05"


def test_bronze_check_runs_after_the_raw_load_and_counts_every_row(resources):
    dataset = "compliance__position_limits"
    rows = GOOD_ROWS[dataset]
    columns = [
        "limit_id",
        "member_id",
        "commodity_code",
        "max_net_position_t",
        "effective_from",
        "effective_to",
    ]

    @dg.asset(key=["bronze", dataset], partitions_def=daily)
    def bronze(context: dg.AssetExecutionContext, gcx: GcxResource) -> None:
        path = lake_file(gcx.settings().lake_dir, dataset, date.fromisoformat(context.partition_key))
        path.parent.mkdir(parents=True, exist_ok=True)
        source_rows = [*rows, {"limit_id": "L9", "commodity_code": "??"}]
        pq.write_table(pa.table({c: [str(r.get(c)) for r in source_rows] for c in columns}), path)

    @dg.asset(key=["raw", dataset], deps=[bronze], partitions_def=daily)
    def raw(context: dg.AssetExecutionContext, gcx: GcxResource) -> None:
        day = date.fromisoformat(context.partition_key)
        with gcx.connect("warehouse") as conn:
            replace_partition(conn, dataset, day, rows)
            replace_quarantine(conn, dataset, day, 1)
            log_load(conn, dataset, day, raw_rows=2, quarantined=1)

    check = check_def(QUALITY, bronze.key, BRONZE_CHECK_NAME)
    result = dg.materialize([bronze, raw, check], partition_key="2024-07-01", resources=resources)
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed, evaluation.description
    [row] = results_of_run(result.run_id)
    assert row[:6] == ("bronze/compliance__position_limits", BRONZE_CHECK_NAME, date(2024, 7, 1), True, 2, 2)


D1, D2 = date(2024, 4, 1), date(2024, 4, 2)


def _exchange_trades(conn) -> None:
    conn.execute(
        "insert into instruments (instrument_id, symbol, tick_size_ghs, lot_size_t, listed_on) "
        "values (1, 'GEJWM1', 0.5, 50, '2019-01-02')"
    )
    for n, updated in enumerate(
        [
            "2024-04-01T10:00Z",
            "2024-04-01T11:00Z",
            "2024-04-01T23:59Z",
            "2024-04-02T10:00Z",
            "2024-04-02T11:00Z",
        ]
    ):
        conn.execute(
            "insert into trades (trade_id, instrument_id, executed_at, price_ghs_per_t, quantity_t, updated_at)"
            " values (%s, 1, %s, 4000, 50, %s)",
            (f"T{n}", updated, updated),
        )


@pytest.fixture
def fct_trades_table(monkeypatch, conn) -> str:
    """A stand-in for dbt's marts.fct_trades in a schema of its own (the real mart is left alone)."""
    monkeypatch.setattr(reconciliation, "FCT_TRADES_TABLE", ("test_quality_marts", "fct_trades"))
    conn.execute("create schema if not exists test_quality_marts")
    conn.execute("drop table if exists test_quality_marts.fct_trades")
    conn.execute("create table test_quality_marts.fct_trades (trade_id text, updated_at timestamptz)")
    return "test_quality_marts.fct_trades"


def _fct_trades_stand_in(updated_ats: list[str]):
    @dg.asset(key=FCT_TRADES_ASSET_KEY)
    def fct_trades(gcx: GcxResource) -> None:
        """Stands in for the dbt model."""
        with gcx.connect("warehouse") as conn:
            conn.execute("truncate test_quality_marts.fct_trades")
            for n, updated in enumerate(updated_ats):
                conn.execute("insert into test_quality_marts.fct_trades values (%s, %s)", (f"T{n}", updated))

    return [fct_trades, check_def(QUALITY, FCT_TRADES_ASSET_KEY, TRADES_RECONCILIATION_CHECK_NAME)]


def test_trades_reconcile_from_source_to_mart(resources, conn, empty_exchange, fct_trades_table):
    with database.connect("exchange") as exchange:
        _exchange_trades(exchange)
    conn.execute("delete from raw.ingestion_log where source = 'exchange' and dataset = 'trades'")
    for day in (D1, D2):
        log_load(conn, TRADES, day)
    replace_quarantine(conn, TRADES, D1, 1)
    replace_quarantine(conn, TRADES, D2, 0)

    # the mart holds 2 of D1's 3 trades (the third was quarantined) and both of D2's
    good = dg.materialize(
        _fct_trades_stand_in(
            ["2024-04-01T10:00Z", "2024-04-01T11:00Z", "2024-04-02T10:00Z", "2024-04-02T11:00Z"]
        ),
        resources=resources,
    )
    [evaluation] = good.get_asset_check_evaluations()
    assert evaluation.passed, evaluation.description
    rows = results_of_run(good.run_id)
    assert [(r[2], r[3]) for r in rows] == [(D1, True), (D2, True)]
    assert rows[0][6] == {
        "day": "2024-04-01",
        "source_trades": 3,
        "mart_trades": 2,
        "quarantined_trades": 1,
        "difference": 0,
    }

    bad = dg.materialize(
        _fct_trades_stand_in(["2024-04-01T10:00Z", "2024-04-01T11:00Z", "2024-04-02T10:00Z"]),
        resources=resources,
        raise_on_error=False,
    )
    [evaluation] = bad.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.description == "2024-04-02: source 2 != mart 1 + quarantined 0"
    assert [(r[2], r[3]) for r in results_of_run(bad.run_id)] == [(D1, True), (D2, False)]


def test_trades_before_the_first_partition_count_on_its_day(conn, empty_exchange, fct_trades_table):
    with database.connect("exchange") as exchange:
        _exchange_trades(exchange)
        exchange.execute(
            "insert into trades (trade_id, instrument_id, executed_at, price_ghs_per_t, quantity_t, updated_at)"
            " values ('T9', 1, '2024-03-30T10:00Z', 4000, 50, '2024-03-30T10:00Z')"
        )
    replace_quarantine(conn, TRADES, D1, 1)
    replace_quarantine(conn, TRADES, D2, 0)
    conn.execute(
        f"insert into {fct_trades_table} values ('T0', '2024-04-01T10:00Z'), ('T1', '2024-04-01T11:00Z'),"
        " ('T3', '2024-04-02T10:00Z'), ('T4', '2024-04-02T11:00Z')"
    )
    with database.connect("exchange") as exchange:
        assert all(d.passed for d in reconciliation.reconcile_trades(conn, exchange, [D1, D2]))
        [day1, day2] = reconciliation.reconcile_trades(conn, exchange, [D1, D2], first_day=D1)
        assert (day1.source_trades, day1.mart_trades, day1.difference, day2.passed) == (4, 2, 1, True)
        conn.execute(f"insert into {fct_trades_table} values ('T9', '2024-03-30T10:00Z')")
        assert all(d.passed for d in reconciliation.reconcile_trades(conn, exchange, [D1, D2], first_day=D1))
