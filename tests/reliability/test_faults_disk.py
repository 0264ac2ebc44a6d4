"""Fault: the lake's disk fills up during `gcx materialize` (a real ENOSPC: the lake folder is a tmpfs
too small for it), then space returns. The run must fail clearly, leave no partial Parquet file
where readers look, load nothing half into raw, and the re-run must reconcile exactly."""

import subprocess

import ledger
import pyarrow.parquet as pq
import pytest
from processes import Platform, materialized_days, recount

FULL_SIZE = "256k"
"""Room for some of the lake's files (tmpfs counts 4 KiB pages), not all of them."""


def _mount_tmpfs(folder, size: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the lake here (needs root): {result.stderr.strip()}")


def test_lake_disk_full_fails_cleanly_and_rerun_reconciles(tmp_path):
    with Platform.create(tmp_path / "home") as platform:
        lake_dir = platform.settings.lake_dir
        assert platform.gcx_run("simulate", "--days", "2", "--seed", "13", "--bad-rate", "0.03") == 0
        days = materialized_days(platform)
        _mount_tmpfs(lake_dir, FULL_SIZE)
        try:
            code = platform.gcx_run("materialize", "--job", "ingestion_job", name="materialize-full")
            log = platform.log_tail("materialize-full", 400)
            run_id, status = platform.runs()[-1]
            parquet = sorted(lake_dir.rglob("*.parquet"))
            litter = [p for p in lake_dir.rglob("*") if p.is_file() and p.suffix != ".parquet"]
            unreadable = []
            for path in parquet:
                try:
                    pq.read_table(path)
                except Exception as error:  # any failure to read is the finding
                    unreadable.append(f"{path}: {error}")
            during = recount(platform, days)
            half_loaded = [c for c in during if c.raw + c.quarantined and (not c.exact or c.loaded_twice)]

            subprocess.run(["mount", "-o", "remount,size=64m", str(lake_dir)], check=True)
            rerun = platform.gcx_run("materialize", "--job", "ingestion_job", name="materialize-rerun")
            rerun_status = platform.runs()[-1][1]
            after = recount(platform, days)
        finally:
            subprocess.run(["umount", "-l", str(lake_dir)], check=False)
        wrong = [c for c in after if not c.exact]
        failed_clearly = code != 0 and status == "FAILURE" and "No space left on device" in log
        ledger.fault(
            "lake disk full (tmpfs ENOSPC) during gcx materialize, space back, re-run",
            survived=failed_clearly and not unreadable and not litter and not half_loaded and not wrong,
            rows_lost=sum(c.lost for c in after),
            rows_duplicated=sum(c.loaded_twice for c in after),
            detail=(
                f"run exit {code}, Dagster {status}; {len(parquet)} Parquet files written before ENOSPC, "
                f"{len(unreadable)} unreadable, {len(litter)} temp files left, {len(half_loaded)} "
                f"half-loaded raw partitions; re-run exit {rerun} {rerun_status}, "
                f"{sum(c.source for c in after)} source rows reconciled exactly"
            ),
        )
        assert code != 0 and status == "FAILURE", (code, status, run_id)
        assert "No space left on device" in log, log[-3000:]
        assert parquet, "the tmpfs held no file at all: the fault hit before any write"
        assert not unreadable, unreadable
        assert not litter, litter
        assert not half_loaded, half_loaded
        assert rerun == 0 and rerun_status == "SUCCESS", platform.log_tail("materialize-rerun")
        assert not wrong, wrong
