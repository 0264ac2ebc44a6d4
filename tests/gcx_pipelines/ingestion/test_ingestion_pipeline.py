"""End to end on hand-made sources: exchange rows and drop files with bad records, materialized
through the Dagster assets into the lake, raw and the quarantine, against the real PostgreSQL."""

import shutil
from datetime import date

import dagster as dg
import pyarrow.parquet as pq
import pytest

from gcx import database
from gcx.ingestion import extract, lake
from gcx.ingestion.datasets import DATASETS_BY_TABLE
from gcx.ingestion.reconcile import reconcile
from gcx_pipelines.defs.ingestion.assets import (
    build_bronze_asset,
    build_raw_asset,
    build_reconciliation_check,
)
from gcx_pipelines.resources import GcxResource

DAY = date(2024, 2, 6)  # a Tuesday
TABLES = ("exchange__trades", "exchange__members", "compliance__kyc_checks", "platform__api_usage")

KYC_FILE = (
    b"check_id,subject_type,subject_id,check_type,status,checked_at,expires_on\n"
    b"KYC1,member,MBR0001,identity,passed,2024-02-06T09:00:00Z,2026-02-06\n"  # 2
    b"KYC2,beneficial_owner,BO000001,address,pending,2024-02-06T09:05:00Z,\n"  # 3
    b"KYC3,member,MBR9999,identity,passed,2024-02-06T09:10:00Z,2026-02-06\n"  # 4 unknown subject
    b"KYC4,member,MBR0002,identity,passed,2099-12-31T23:59:59Z,2026-02-06\n"  # 5 from the future
    b"KYC5,member,MBR0002,addr\xe9ss,passed,2024-02-06T09:20:00Z,2026-02-06\n"  # 6 invalid UTF-8
    b"KYC1,member,MBR0001,identity,passed,2024-02-06T09:00:00Z,2026-02-06\n"  # 7 duplicate of line 2
    b'KYC6,member,"MBR0002,identity'  # 8 truncated, no final newline
)
API_USAGE_FILE = (
    b'{"request_id":"R1","user_id":"U1","endpoint":"/v1/trades","requested_at":"2024-02-06T10:00:00.123Z",'
    b'"status_code":200,"rows":10,"bytes":2048,"latency_ms":12.5}\n'
    b'{"request_id":"R2","user_id":"U1","endpoint":"/v1/ohlcv","requested_at":"2024-02-06T10:01:00.000Z",'
    b'"status_code":"abc","rows":0,"bytes":10,"latency_ms":3}\n'  # wrong type
    b'{"request_id":"R3","user_id":"U1","endpoint":"/v1/oh\n'  # broken JSON
    b'{"request_id":"R4\\u0000","user_id":"U1","endpoint":"/v1/trades","requested_at":"2024-02-06T10:02:00.000Z",'
    b'"status_code":200,"rows":1,"bytes":10,"latency_ms":3}\n'  # NUL, which PostgreSQL text cannot hold
)


def run_sql(statements: str) -> None:
    with database.connect("exchange") as conn:
        conn.execute(statements)


@pytest.fixture
def sources(empty_exchange):
    """The exchange rows and landing files of DAY, with the lake and raw of earlier runs removed."""
    settings = empty_exchange
    run_sql(
        """
        insert into warehouses values ('EJ', 'Ejura warehouse', 'Ashanti', 30000, '2023-01-01');
        insert into instruments (instrument_id, symbol, commodity_code, tick_size_ghs, lot_size_t,
                                 listed_on, delisted_on, updated_at) values
            (1, 'GEJWM1', 'WM', 0.5, 50, '2019-01-01', null, '2023-01-01'),
            (2, 'GEJWM4', 'WM', 0.5, 50, '2019-01-01', '2024-02-01', '2024-02-01 07:00+00');
        insert into members values
            ('MBR0001', 'Ejura Grains Ltd', 'trader', '2019-01-01', 'active', 'a@x.gh', '+233', '2024-02-06 09:00+00'),
            ('MBR0002', 'Volta Brokers Ltd', 'broker', '2019-01-01', 'actif', null, null, '2024-02-06 17:00+00'),
            ('MBR0003', 'Late Update Ltd', 'bank', '2019-01-01', 'active', null, null, '2024-02-07 00:00+00');
        insert into beneficial_owners (owner_id, full_name, country, updated_at)
            values ('BO000001', 'Ama Mensah', 'GH', '2023-01-01');
        insert into trading_calendar values
            ('2024-02-06', true, null, '2024-02-06 10:00+00', '2024-02-06 14:00+00');
        insert into trades (trade_id, instrument_id, executed_at, price_ghs_per_t, quantity_t,
                            buyer_member_id, seller_member_id, aggressor_side, updated_at) values
            ('T01', 1, '2024-02-06 10:30+00', 3200.5, 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-06 10:30+00'),
            ('T02', 1, '2024-02-06 11:00+00', -3200, 50, 'MBR0001', 'MBR0002', 'sell', '2024-02-06 11:00+00'),
            ('T03', 1, '2024-02-06 11:30+00', 3210, null, 'MBR0001', 'MBR0002', 'buy', '2024-02-06 11:30+00'),
            ('T04', 1, '2024-02-06 12:00+00', 3220, 50, null, 'MBR0002', 'buy', '2024-02-06 12:00+00'),
            ('T05', 1, '2024-02-06 16:00+00', 3230, 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-06 16:00+00'),
            ('T06', 2, '2024-02-06 12:30+00', 2900, 50, 'MBR0001', 'MBR0002', 'sell', '2024-02-06 12:30+00'),
            ('T07', 1, '2024-02-06 13:00+00', 3240, 50, 'MBR0002', 'MBR0001', null, '2024-02-06 13:00+00'),
            ('T08', 1, '2024-02-07 10:00+00', 3250, 50, 'MBR0002', 'MBR0001', 'buy', '2024-02-07 10:00+00');
        """
    )
    for dataset, content in (("kyc_checks", KYC_FILE), ("api_usage", API_USAGE_FILE)):
        path = DATASETS_BY_TABLE[
            f"{'compliance' if dataset == 'kyc_checks' else 'platform'}__{dataset}"
        ].landing_file(settings.landing_dir, DAY)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    shutil.rmtree(settings.lake_dir, ignore_errors=True)
    return settings


def materialize(settings, day: date = DAY, tables=TABLES) -> dg.ExecuteInProcessResult:
    datasets = [DATASETS_BY_TABLE[table] for table in tables]
    definitions = [
        *(build_bronze_asset(d) for d in datasets),
        *(build_raw_asset(d) for d in datasets),
        *(build_reconciliation_check(d) for d in datasets),
    ]
    return dg.materialize(
        definitions, partition_key=day.isoformat(), resources={"gcx": GcxResource(home=str(settings.home))}
    )


def warehouse_rows(query: str, *params) -> list[tuple]:
    with database.connect("warehouse") as conn:
        return conn.execute(query, params).fetchall()


def quarantine(dataset: str) -> list[tuple]:
    return warehouse_rows(
        "select source_row, record_key, reason from raw.quarantine where dataset = %s and partition_date = %s "
        "order by source_row",
        dataset,
        DAY,
    )


def test_every_source_row_lands_in_raw_or_quarantine_with_its_reason(sources):
    result = materialize(sources)
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert len(result.get_asset_check_evaluations()) == len(TABLES)

    trades = warehouse_rows(
        "select trade_id from raw.exchange__trades where _partition_date = %s order by 1", DAY
    )
    assert [t for (t,) in trades] == ["T01", "T07"]
    assert [(key, reason) for _, key, reason in quarantine("trades")] == [
        ("T02", "price_ghs_per_t: must be > 0 (got -3200)"),
        ("T03", "quantity_t: must not be empty (got null)"),
        ("T04", "buyer_member_id: must be a known member on GCX trades (got null)"),
        (
            "T05",
            "executed_at: must fall within its day's GCX trading session (got 2024-02-06T16:00:00+00:00)",
        ),
        ("T06", "instrument_id: must not be delisted on the trade date (got 2)"),
    ]
    assert quarantine("members") == [
        (2, "MBR0002", "status: must be one of active, suspended, terminated (got 'actif')")
    ]
    assert quarantine("kyc_checks") == [
        (4, "KYC3", "subject_id: must be a known member or beneficial owner (got 'MBR9999')"),
        (
            5,
            "KYC4",
            "checked_at: must be no later than the end of the day after 2024-02-06 (got 2099-12-31T23:59:59+00:00)",
        ),
        (6, "KYC5", "line: must be valid UTF-8 (got byte 0xe9 at position 25)"),
        (7, "KYC1", "check_id: must be unique in the partition (got 'KYC1', first at source row 2)"),
        (8, None, "line: must be well-formed CSV (unexpected end of data)"),
    ]
    assert [(row, key) for row, key, _ in quarantine("api_usage")] == [(2, "R2"), (3, None), (4, "R4\\x00")]
    assert quarantine("api_usage")[2][2] == "request_id: must be text without NUL characters (got 'R4\\x00')"
    assert (
        quarantine("api_usage")[0][2] == "status_code: must be a whole number that fits 32 bits (got 'abc')"
    )

    [kyc_record] = warehouse_rows(
        "select source_file, record from raw.quarantine where dataset = 'kyc_checks' and source_row = 6 "
        "and partition_date = %s",
        DAY,
    )
    assert kyc_record == (
        "compliance/kyc_checks/kyc_checks_2024-02-06.csv",
        "KYC5,member,MBR0002,addr\\xe9ss,passed,2024-02-06T09:20:00Z,2026-02-06",
    )
    log = warehouse_rows(
        "select dataset, source_rows, lake_rows, raw_rows, quarantined_rows from raw.ingestion_log "
        "where partition_date = %s order by dataset",
        DAY,
    )
    assert log == [
        ("api_usage", 4, 4, 1, 3),
        ("kyc_checks", 7, 7, 2, 5),
        ("members", 2, 2, 1, 1),
        ("trades", 7, 7, 2, 5),
    ]


def test_raw_keeps_the_values_and_lineage(sources):
    materialize(sources, tables=("exchange__trades", "platform__api_usage"))
    [trade] = warehouse_rows(
        "select price_ghs_per_t::text, executed_at, _lake_file, _source_row from raw.exchange__trades "
        "where trade_id = 'T01' and _partition_date = %s",
        DAY,
    )
    assert trade[0] == "3200.5000"
    assert trade[1].isoformat() == "2024-02-06T10:30:00+00:00"
    assert trade[2:] == ("exchange/trades/date=2024-02-06/part-0.parquet", 1)
    [usage] = warehouse_rows(
        "select requested_at, latency_ms, rows from raw.platform__api_usage where request_id = 'R1'"
    )
    assert usage[0].isoformat() == "2024-02-06T10:00:00.123000+00:00"
    assert usage[1:] == (12.5, 10)


def test_the_lake_holds_every_source_row_as_received(sources):
    materialize(sources, tables=("exchange__trades", "compliance__kyc_checks"))
    trades = pq.read_table(lake.partition_path(sources.lake_dir, "exchange", "trades", DAY))
    assert trades.column("trade_id").to_pylist() == ["T01", "T02", "T03", "T04", "T05", "T06", "T07"]
    assert trades.column("_source_row").to_pylist() == list(range(1, 8))
    kyc = pq.read_table(lake.partition_path(sources.lake_dir, "compliance", "kyc_checks", DAY))
    assert kyc.column("_line").to_pylist() == KYC_FILE.split(b"\n")[1:]
    assert kyc.column("_source_row").to_pylist() == list(range(2, 9))


def test_rerunning_a_partition_replaces_it_exactly(sources):
    materialize(sources)
    path = lake.partition_path(sources.lake_dir, "exchange", "trades", DAY)
    first_bytes = path.read_bytes()
    first_log = warehouse_rows(
        "select * from raw.ingestion_log where partition_date = %s order by dataset", DAY
    )
    materialize(sources)
    assert path.read_bytes() == first_bytes, "the same source gives the same lake file"
    second_log = warehouse_rows(
        "select * from raw.ingestion_log where partition_date = %s order by dataset", DAY
    )
    assert [row[:8] for row in second_log] == [row[:8] for row in first_log]
    assert warehouse_rows("select count(*) from raw.exchange__trades where _partition_date = %s", DAY) == [
        (2,)
    ]
    assert len(quarantine("trades")) == 5
    assert len(quarantine("kyc_checks")) == 5


def test_a_day_without_source_data_is_an_empty_partition(sources):
    quiet_day = date(2024, 2, 10)
    result = materialize(sources, day=quiet_day, tables=("exchange__trades", "compliance__kyc_checks"))
    assert result.success
    for key in ("raw/exchange__trades", "raw/compliance__kyc_checks"):
        materialization = result.asset_materializations_for_node(key.replace("/", "__"))[0]
        assert materialization.metadata["dagster/row_count"].value == 0
    assert all(check.passed for check in result.get_asset_check_evaluations())


def test_reconciliation_catches_rows_lost_or_doubled_after_the_load(sources):
    materialize(sources, tables=("exchange__trades",))
    trades = DATASETS_BY_TABLE["exchange__trades"]
    with database.connect("warehouse") as conn:
        assert reconcile(conn, trades, DAY, sources.lake_dir).passed
        conn.execute("delete from raw.exchange__trades where trade_id = 'T07'")
        lost = reconcile(conn, trades, DAY, sources.lake_dir)
        assert not lost.passed
        assert "the lake file holds 7 rows but raw has 1 and the quarantine 5" in lost.problems
        conn.execute(
            "insert into raw.quarantine (source, dataset, partition_date, source_file, source_row, reason, record) "
            "values ('exchange', 'trades', %s, 'x', 1, 'copied', '{}')",
            (DAY,),
        )
        doubled = reconcile(conn, trades, DAY, sources.lake_dir)
        assert "1 source rows are loaded more than once across raw and quarantine" in doubled.problems
        conn.rollback()


def test_the_first_partition_takes_all_earlier_rows(sources):
    """Reference data written before the platform's first day is not lost."""
    members = DATASETS_BY_TABLE["exchange__members"]
    run_sql("update members set updated_at = '2019-05-01' where member_id = 'MBR0003'")
    with database.connect("exchange", autocommit=True) as conn:
        with extract.partition(
            members, date(2024, 1, 1), sources.landing_dir, conn, first_partition=True
        ) as rows:
            assert rows.source_rows == 1
            assert [r["member_id"] for b in rows.batches for r in b.to_pylist()] == ["MBR0003"]
        with extract.partition(members, date(2024, 1, 1), sources.landing_dir, conn) as rows:
            assert rows.source_rows == 0


def test_values_arrow_cannot_hold_are_quarantined_not_fatal(sources):
    """'infinity', BC and year-10000 instants, numeric NaN and a value longer than Arrow's CSV block
    each failed the whole partition's extract (ArrowInvalid)."""
    day = date(2024, 2, 8)
    run_sql(
        f"""
        insert into trades (trade_id, instrument_id, executed_at, price_ghs_per_t, quantity_t,
                            buyer_member_id, seller_member_id, aggressor_side, updated_at) values
            ('T20', 1, '2024-02-08 10:30+00', 'NaN', 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-08 10:30+00'),
            ('T21', 1, 'infinity', 3200, 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-08 10:31+00'),
            ('T22', 1, '0044-03-15 10:00+00 BC', 3200, 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-08 10:32+00'),
            ('T23', 1, '2024-02-08 11:00+00', 3200, 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-08 11:00+00');
        insert into trading_calendar values
            ('2024-02-08', true, null, '2024-02-08 10:00+00', '2024-02-08 14:00+00');
        insert into members values
            ('MBR0009', repeat('x', {9 << 20}), 'trader', '2019-01-01', 'active', null, null, '2024-02-08 09:00+00');
        """
    )
    result = materialize(sources, day=day, tables=("exchange__trades", "exchange__members"))
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    reasons = warehouse_rows(
        "select record_key, reason from raw.quarantine where dataset = 'trades' and partition_date = %s "
        "order by record_key",
        day,
    )
    assert reasons == [
        ("T20", "price_ghs_per_t: must be a number (got 'NaN')"),
        ("T21", "executed_at: must be a timestamp in years 1-9999 (got 'infinity')"),
        ("T22", "executed_at: must be a timestamp in years 1-9999 (got '0044-03-15 10:00:00+00 BC')"),
    ]
    assert warehouse_rows("select length(name) from raw.exchange__members where member_id = 'MBR0009'") == [
        (9 << 20,)
    ]
