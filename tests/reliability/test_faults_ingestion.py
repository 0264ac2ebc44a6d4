"""Fault: `gcx materialize` SIGKILLed while a raw partition is being loaded (its COPY into raw in flight),
then run again. Nothing may be lost or doubled (recounted from the source, per dataset and day), and
Dagster's run history must say what happened: the killed run not succeeded (the re-run marks it
FAILED, since no daemon watches an in-process run), the re-run succeeded."""

import signal
import time
from datetime import datetime

import ledger
from processes import Platform, materialized_days, recount, wait_until


def _loading_raw(platform: Platform, started: datetime) -> bool:
    """A raw partition is loaded already in this run, and another one's load transaction is open right
    now (its delete, COPY or log insert running, or Python validating a batch between them)."""
    with platform.connect("warehouse") as conn:
        loaded = conn.execute(
            "select count(*) from raw.ingestion_log where loaded_at > %s", (started,)
        ).fetchone()[0]
        loading = conn.execute(
            "select count(*) from pg_stat_activity where datname = 'warehouse' and pid <> pg_backend_pid()"
            " and xact_start is not null and state in ('active', 'idle in transaction')"
            " and (query ilike 'copy raw.%%' or query ilike 'delete from raw.%%'"
            " or query ilike 'select pg_advisory_xact_lock(hashtext(%%')"
        ).fetchone()[0]
    return loaded > 0 and loading > 0


def test_killed_ingestion_run_is_rerun_with_nothing_lost_or_doubled(tmp_path):
    with Platform.create(tmp_path / "home") as platform:
        assert platform.gcx_run("simulate", "--days", "2", "--seed", "11", "--bad-rate", "0.03") == 0
        days = materialized_days(platform)
        # a first load, so the kill hits a partition that has rows to lose or double
        assert platform.gcx_run("materialize", "--job", "ingestion_job", name="materialize-1") == 0
        before = {(c.table, c.day): c for c in recount(platform, days)}

        with platform.connect("warehouse") as conn:
            started = conn.execute("select now()").fetchone()[0]  # the clock raw.ingestion_log.loaded_at uses
        run = platform.start("materialize", "--job", "ingestion_job", name="materialize-killed")
        wait_until(lambda: run.poll() is not None or _loading_raw(platform, started), 600, "a raw load", 0.02)
        assert run.poll() is None, "the run ended before a raw partition was loading"
        platform.kill(run, signal.SIGKILL)
        killed_at = time.monotonic()

        runs = platform.runs()
        killed_id, killed_status = runs[-1]
        assert killed_status == "STARTED", "Dagster shows the killed run STARTED until something notices"
        leftovers = list(platform.settings.lake_dir.rglob("*.tmp"))
        # mid-kill: the loads that committed are whole, the one in flight rolled back with its session
        during = recount(platform, days)
        assert not [c for c in during if c.loaded_twice], "a partition loaded twice after the kill"

        assert platform.gcx_run("materialize", "--job", "ingestion_job", name="materialize-rerun") == 0, (
            platform.log_tail("materialize-rerun")
        )
        runs = platform.runs()
        statuses = dict(runs)
        assert statuses[killed_id] == "FAILURE", "the re-run marks the abandoned run FAILED"
        rerun_id = runs[-1][0]
        assert statuses[rerun_id] == "SUCCESS"

        after = recount(platform, days)
        wrong = [c for c in after if not c.exact]
        lost = sum(c.lost for c in after)
        duplicated = sum(c.loaded_twice for c in after)
        changed = [c for c in after if c != before[(c.table, c.day)]]
        ledger.fault(
            "SIGKILL gcx materialize mid raw load, re-run",
            survived=not wrong and not changed,
            rows_lost=lost,
            rows_duplicated=duplicated,
            detail=(
                f"{sum(c.source for c in after)} source rows in {len(after)} dataset-days reconciled "
                f"source = lake = raw + quarantine; killed run {killed_status} -> {statuses[killed_id]}, "
                f"re-run {statuses[rerun_id]} ({time.monotonic() - killed_at:.0f} s); "
                f"{len(leftovers)} temp lake file(s) left by the kill"
            ),
        )
        assert not wrong, wrong
        assert not changed, changed
        assert sum(c.source for c in after) > 0
