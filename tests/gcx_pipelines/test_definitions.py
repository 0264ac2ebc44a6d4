"""The code location loads, and every job, schedule and sensor in it resolves and behaves."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from gcx import database
from gcx_pipelines.defs.orchestration.schedules import end_of_day_schedule, hourly_ingestion_schedule
from gcx_pipelines.defs.orchestration.sensors import record_run_failure
from gcx_pipelines.resources import GcxResource


@pytest.fixture(scope="module")
def defs(settings):
    from gcx_pipelines.definitions import defs

    return defs


def test_definitions_load_and_every_job_resolves(defs):
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    jobs = {job.name for job in repository.get_all_jobs()}
    assert {
        "ingestion_job",
        "warehouse_job",
        "end_of_day_job",
        "executive_kpis_job",
        "landing_drops_job",
    } <= jobs
    for name in jobs:
        assert repository.get_job(name).nodes, f"{name} selects nothing"


def test_every_asset_has_a_description_owner_and_group(defs):
    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.group_name and node.group_name != "default", f"{key.to_user_string()} has no group"
        assert node.owners, f"{key.to_user_string()} has no owner"


def test_dbt_sources_hang_off_the_raw_ingestion_assets(defs):
    graph = defs.get_repository_def().asset_graph
    staged_trades = next(key for key in graph.get_all_asset_keys() if key.path[-1] == "stg_exchange__trades")
    assert dg.AssetKey(["raw", "exchange__trades"]) in graph.get(staged_trades).parent_keys


@pytest.mark.parametrize(
    ("name", "cron"),
    [
        ("hourly_ingestion_schedule", "15 * * * *"),
        ("end_of_day_schedule", "0 18 * * *"),
        ("weekly_kpis_schedule", "0 6 * * 1"),
        ("monthly_kpis_schedule", "0 6 1 * *"),
        ("quarterly_kpis_schedule", "0 6 1 1,4,7,10 *"),
    ],
)
def test_schedules_run_on_accra_time(defs, name, cron):
    schedule = defs.get_repository_def().get_schedule_def(name)
    assert (schedule.cron_schedule, schedule.execution_timezone) == (cron, "Africa/Accra")


def test_hourly_schedule_ingests_the_current_day():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 3, 11, 15, tzinfo=UTC))
    request = hourly_ingestion_schedule(context)
    assert (request.partition_key, request.run_key) == (
        "2026-03-03",
        "hourly_ingestion_schedule-2026-03-03T11:15",
    )


def test_end_of_day_schedule_builds_the_day_once():
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 3, 18, 0, tzinfo=UTC))
    request = end_of_day_schedule(context)
    assert (request.partition_key, request.run_key) == ("2026-03-03", "end_of_day_schedule-2026-03-03T18:00")


def test_failed_runs_are_recorded_in_the_warehouse(settings):
    @dg.asset
    def broken_asset() -> None:
        raise ValueError("the source is unreachable")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([broken_asset], instance=instance, raise_on_error=False)
    assert not result.success
    context = dg.build_run_status_sensor_context(
        sensor_name="record_run_failure",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()

    record_run_failure(context, gcx=GcxResource(home=str(settings.home)))
    record_run_failure(context, gcx=GcxResource(home=str(settings.home)))  # a re-delivered event adds nothing

    with database.connect("warehouse") as conn:
        rows = conn.execute(
            "select job_name, failed_steps, error from ops.pipeline_failures where run_id = %s",
            (result.run_id,),
        ).fetchall()
    assert len(rows) == 1
    job_name, failed_steps, error = rows[0]
    assert (job_name, failed_steps) == (result.dagster_run.job_name, ["broken_asset"])
    assert "broken_asset" in error


@pytest.mark.slow
def test_the_dagster_command_works_from_the_checkout_with_nothing_set(tmp_path):
    """`dagster definitions validate -w workspace.yaml` as a newcomer types it: no DAGSTER_HOME, no
    storage URL; dagster.yaml's classes find the platform's database from GCX_HOME."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from gcx.settings import Settings

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")} | {"GCX_HOME": str(tmp_path)}
    dagster = Path(sys.executable).with_name("dagster")
    try:
        done = subprocess.run(
            [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
            cwd=root, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        database.stop_embedded(Settings(home=tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All code locations passed validation" in done.stderr + done.stdout
