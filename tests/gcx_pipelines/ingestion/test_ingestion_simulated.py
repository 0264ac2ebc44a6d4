"""Against the simulator's ground truth: what ingestion quarantines is exactly what was injected."""

import json
import shutil
from datetime import date, timedelta

import dagster as dg
import pytest

from gcx import database
from gcx.simulator import simulate
from gcx_pipelines.defs.ingestion.assets import bronze_assets, raw_assets, reconciliation_checks
from gcx_pipelines.resources import GcxResource

START = date(2024, 3, 4)
DAYS = 5


@pytest.mark.slow
def test_quarantine_equals_the_injected_bad_records(empty_exchange):
    settings = empty_exchange
    simulate(START, DAYS, seed=11, scale=1.0, bad_rate=0.05, settings=settings)
    shutil.rmtree(settings.lake_dir, ignore_errors=True)
    days = [START + timedelta(days=offset) for offset in range(DAYS)]
    for day in days:
        result = dg.materialize(
            [*bronze_assets, *raw_assets, *reconciliation_checks],
            partition_key=day.isoformat(),
            resources={"gcx": GcxResource(home=str(settings.home))},
        )
        failed = [(c.asset_key, c.description) for c in result.get_asset_check_evaluations() if not c.passed]
        assert result.success and not failed, failed

    truth = [json.loads(line) for line in (settings.truth_dir / "bad_records.jsonl").read_text().splitlines()]
    expected = {
        (t["dataset"], t["file"], t["line"]) if "file" in t else (t["dataset"], t["record_key"])
        for t in truth
    }
    with database.connect("warehouse") as conn:
        rows = conn.execute(
            "select source, dataset, source_file, source_row, record_key from raw.quarantine "
            "where partition_date between %s and %s",
            (days[0], days[-1]),
        ).fetchall()
        log = conn.execute(
            "select source_rows, lake_rows, raw_rows, quarantined_rows from raw.ingestion_log "
            "where partition_date between %s and %s",
            (days[0], days[-1]),
        ).fetchall()
    quarantined = {
        (dataset, file, line) if source != "exchange" else (dataset, key)
        for source, dataset, file, line, key in rows
    }
    assert len(truth) > 50, "the simulation should inject enough faults to be a test"
    assert len(quarantined) == len(rows), "each bad record is quarantined once"
    assert sorted(quarantined - expected, key=str) == [], "quarantined but not injected"
    assert sorted(expected - quarantined, key=str) == [], "injected but not quarantined"
    assert len(log) == 19 * DAYS
    assert all(source == lake == raw + bad for source, lake, raw, bad in log)
