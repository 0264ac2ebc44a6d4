"""The landing-folder sensor: a run per new or changed drop file, a SkipReason otherwise, a cursor that advances."""

import json
import shutil
from datetime import timedelta

import dagster as dg
import pytest

from gcx import clock, database
from gcx_pipelines.defs.ingestion.sensors import landing_drops_job, landing_folder_sensor
from gcx_pipelines.resources import GcxResource


@pytest.fixture
def home(settings):
    """The session's GCX_HOME (its server holds raw.ingestion_log) with an empty landing folder."""
    shutil.rmtree(settings.landing_dir, ignore_errors=True)
    with database.connect("warehouse") as conn:
        conn.execute("delete from raw.ingestion_log where source in ('compliance', 'platform')")
    return settings.home


def drop(home, relative: str, content: bytes = b"x\n"):
    path = home / "landing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def tick(home, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"gcx": GcxResource(home=str(home))})
    result = landing_folder_sensor(context)
    if isinstance(result, dg.SkipReason):
        return result, context.cursor
    return result, result.cursor


def test_new_files_request_runs_for_their_dataset_and_day(home):
    drop(home, "compliance/kyc_checks/kyc_checks_2024-02-06.csv")
    drop(home, "platform/users/users_2024-02-07.jsonl")
    drop(home, "compliance/kyc_checks/notes.txt")  # not a drop: ignored
    drop(home, "compliance/unknown/unknown_2024-02-06.csv")  # not a dataset: ignored

    result, cursor = tick(home, None)
    requests = sorted(result.run_requests, key=lambda r: r.partition_key)
    assert [(r.partition_key, [k.to_user_string() for k in r.asset_selection]) for r in requests] == [
        ("2024-02-06", ["bronze/compliance__kyc_checks", "raw/compliance__kyc_checks"]),
        ("2024-02-07", ["bronze/platform__users", "raw/platform__users"]),
    ]
    assert [str(k) for k in requests[0].asset_check_keys] == [
        str(dg.AssetCheckKey(dg.AssetKey(["raw", "compliance__kyc_checks"]), "reconciles_with_source"))
    ]
    assert set(json.loads(cursor)) == {
        "compliance/kyc_checks/kyc_checks_2024-02-06.csv",
        "platform/users/users_2024-02-07.jsonl",
    }


def test_nothing_new_is_a_skip_and_a_changed_file_runs_again(home):
    path = drop(home, "compliance/kyc_checks/kyc_checks_2024-02-06.csv")
    _, cursor = tick(home, None)

    skipped, same_cursor = tick(home, cursor)
    assert isinstance(skipped, dg.SkipReason)
    assert same_cursor == cursor

    path.write_bytes(b"x\ny\n")  # rewritten by the compliance team
    result, new_cursor = tick(home, cursor)
    [request] = result.run_requests
    assert request.partition_key == "2024-02-06"
    assert new_cursor != cursor
    assert isinstance(tick(home, new_cursor)[0], dg.SkipReason)


def test_a_file_dated_beyond_the_last_partition_waits_for_its_day(home):
    later = (clock.now() + timedelta(days=5)).date()
    drop(home, f"platform/users/users_{later}.jsonl")
    result, cursor = tick(home, None)
    assert isinstance(result, dg.SkipReason)
    assert "1 file(s) dated after the last partition" in result.skip_message
    assert json.loads(cursor) == {}


def test_the_sensor_targets_the_drop_job():
    assert landing_folder_sensor.job_name == landing_drops_job.name


def test_a_file_loaded_after_it_was_written_is_not_ingested_again(home):
    """`gcx materialize` (or a schedule) loaded the day already: the sensor's first tick leaves it."""
    drop(home, "compliance/kyc_checks/kyc_checks_2024-02-06.csv")
    drop(home, "platform/users/users_2024-02-07.jsonl")
    with database.connect("warehouse") as conn:
        conn.execute(
            "insert into raw.ingestion_log (source, dataset, partition_date, source_rows, lake_rows, raw_rows,"
            " quarantined_rows, lake_file, loaded_at) values ('compliance', 'kyc_checks', '2024-02-06',"
            " 1, 1, 1, 0, 'x', now() + interval '1 second')"
        )

    result, cursor = tick(home, None)

    assert [r.partition_key for r in result.run_requests] == ["2024-02-07"]
    assert "compliance/kyc_checks/kyc_checks_2024-02-06.csv" in json.loads(cursor)
