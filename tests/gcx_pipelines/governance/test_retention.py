"""Retention: the policy covers every warehouse table and archives only what dbt will not rebuild;
old bar partitions move to the lake's archive (checked by row count) and the bulk export still
returns exactly the same file; the partitions are restored afterwards (the shared platform is left
as it was found)."""

from __future__ import annotations

import io
import shutil
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.catalog.manifest import load_manifest, manifest_path
from api.main import create_app
from gcx import clock, database
from gcx.access import keys
from gcx.governance import retention
from gcx_pipelines.defs.governance.assets import archived_partitions
from gcx_pipelines.defs.governance.schedules import retention_schedule
from gcx_pipelines.resources import GcxResource

ARCHIVED = [policy for policy in retention.POLICIES if policy.action == "archive"]
ONE_MINUTE_BARS = retention.POLICIES_BY_RELATION["marts.fct_ohlcv_1m"]


def test_only_incremental_models_replaced_per_partition_are_archived():
    """A table model is rebuilt from its inputs at every build: archiving it (or its inputs) would
    not stick, or would silently drop history downstream."""
    manifest = load_manifest(manifest_path())
    models = {
        (node["schema"], node.get("alias") or node["name"]): node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    assert ARCHIVED
    for policy in ARCHIVED:
        node = models[(policy.schema, policy.table)]
        assert node["config"]["materialized"] == "incremental", policy.relation
        assert node["config"]["unique_key"] == policy.partition_column, policy.relation
        assert policy.keep_days and policy.keep_days > 0


def test_every_warehouse_table_has_a_policy(built_platform):
    with database.connect("warehouse", settings=built_platform) as conn:
        tables = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg_%%'
            """
        ).fetchall()
    missing = [f"{schema}.{table}" for schema, table in tables if retention.policy_for(schema, table) is None]
    assert missing == []
    assert retention.policy_for("raw", "exchange__trades").action == "keep"


def test_the_schedule_runs_the_retention_job_nightly_on_accra_time():
    assert (retention_schedule.cron_schedule, retention_schedule.execution_timezone) == (
        "30 2 * * *",
        "Africa/Accra",
    )
    request = retention_schedule(
        dg.build_schedule_context(scheduled_execution_time=_midnight(date(2026, 3, 3)))
    )
    assert request.run_key == "retention-2026-03-03"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def export_client(built_platform):
    with TestClient(create_app(built_platform)) as client:
        with database.connect("warehouse", settings=built_platform) as conn:
            key = keys.create_key(conn, "retention test", "pro", "quant")
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def export(client: TestClient, settings, dataset: str, start: date, output: str = "csv") -> tuple[bytes, str]:
    shutil.rmtree(settings.home / "exports" / dataset, ignore_errors=True)  # not the cached file
    response = client.get(
        f"/v1/datasets/{dataset}/export",
        params={"start": f"{start.isoformat()}T00:00:00Z", "format": output},
    )
    assert response.status_code == 200, response.text
    return response.content, response.headers["X-Row-Count"]


def partition_counts(settings, policy: retention.RetentionPolicy) -> dict[date, int]:
    with database.connect("warehouse", settings=settings) as conn:
        return dict(
            conn.execute(
                f"select {policy.partition_column}, count(*) from {policy.relation} group by 1"
            ).fetchall()
        )


def test_archived_partitions_leave_the_warehouse_and_stay_in_the_export(built_platform, export_client):
    settings = built_platform
    before = {policy.relation: partition_counts(settings, policy) for policy in ARCHIVED}
    first_day = min(before[ONE_MINUTE_BARS.relation])
    simulated = sorted(
        day for day in before[ONE_MINUTE_BARS.relation] if day > clock.today() - timedelta(days=30)
    )
    # as of the day when the first simulated day's 1-minute bars pass their retention
    today = simulated[0] + timedelta(days=ONE_MINUTE_BARS.keep_days + 1)
    due = {
        policy.relation: {day: n for day, n in before[policy.relation].items() if day < policy.cutoff(today)}
        for policy in ARCHIVED
    }
    csv_before = export(export_client, settings, "ohlcv_1m", first_day)
    parquet_before = export(export_client, settings, "ohlcv_1m", first_day, "parquet")
    try:
        result = dg.materialize(
            [archived_partitions],
            resources={"gcx": GcxResource(home=str(settings.home))},
            run_config={"ops": {"archived_partitions": {"config": {"today": today.isoformat()}}}},
        )
        assert result.success
        metadata = result.get_asset_materialization_events()[0].materialization.metadata
        assert metadata["dagster/row_count"].value == sum(n for days in due.values() for n in days.values())
        for policy in ARCHIVED:
            after = partition_counts(settings, policy)
            assert set(after) == set(before[policy.relation]) - set(due[policy.relation])
            for day, rows in due[policy.relation].items():
                path = retention.archive_path(settings.lake_dir, policy.schema, policy.table, day)
                assert pq.read_metadata(path).num_rows == rows
        assert (
            simulated[0] in due[ONE_MINUTE_BARS.relation]
            and simulated[1] not in due[ONE_MINUTE_BARS.relation]
        )

        # the same export, byte for byte: archived days read back from the lake, in the same order
        assert export(export_client, settings, "ohlcv_1m", first_day) == csv_before
        parquet_after = export(export_client, settings, "ohlcv_1m", first_day, "parquet")
        assert parquet_after[1] == parquet_before[1]
        assert _table(parquet_after[0]).equals(_table(parquet_before[0]))
        # a window within the warehouse only reads no archive
        assert export(export_client, settings, "ohlcv_1m", simulated[1])[1] == str(
            sum(n for day, n in before[ONE_MINUTE_BARS.relation].items() if day >= simulated[1])
        )
    finally:
        with database.connect("warehouse", autocommit=True, settings=settings) as conn:
            for policy in ARCHIVED:
                for day in due[policy.relation]:
                    if retention.archive_path(settings.lake_dir, policy.schema, policy.table, day).exists():
                        retention.restore_partition(conn, policy.schema, policy.table, day)
    assert {policy.relation: partition_counts(settings, policy) for policy in ARCHIVED} == before
    assert export(export_client, settings, "ohlcv_1m", first_day) == csv_before


def test_a_partition_back_in_the_warehouse_wins_over_its_archive(built_platform):
    """After a dbt full refresh, the warehouse's rows are the newer truth: archiving again replaces
    the file, and nothing is counted twice."""
    settings = built_platform
    policy = ONE_MINUTE_BARS
    day = min(partition_counts(settings, policy))
    rows = partition_counts(settings, policy)[day]
    with database.connect("warehouse", autocommit=True, settings=settings) as conn:
        first = retention.archive_partition(conn, settings.lake_dir, policy, day)
        try:
            # a full refresh brings the day back: copy the archived rows in again
            with conn.transaction():
                retention.copy_parquet_into(conn, sql.Identifier(policy.schema, policy.table), first.path)
            again = retention.archive_partition(conn, settings.lake_dir, policy, day)
            assert (first.rows, again.rows) == (rows, rows)
            assert conn.execute(
                "select count(*) from governance.archived_partitions where table_name = %s and partition_date = %s",
                (policy.table, day),
            ).fetchone() == (1,)
        finally:
            assert retention.restore_partition(conn, policy.schema, policy.table, day) == rows
    assert partition_counts(settings, policy)[day] == rows


def _table(content: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(content))
