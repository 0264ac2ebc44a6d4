"""A `gcx materialize` whose process was killed leaves its run STARTED in Dagster's run history; the next
`gcx materialize` marks it FAILED, and leaves alone a run whose process still holds its liveness lock.
(The real SIGKILL is in tests/reliability/test_faults_ingestion.py.)"""

from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
from dagster._core.utils import make_new_run_id

from gcx_pipelines.instance import platform_instance
from gcx_pipelines.launch import (
    LAUNCHED_BY_TAG,
    LIVENESS_LOCK_TAG,
    _liveness_lock,
    _lock_id,
    fail_abandoned_runs,
)


def _started_run(instance, run_id: str) -> None:
    tags = {LAUNCHED_BY_TAG: "gcx materialize", LIVENESS_LOCK_TAG: str(_lock_id(run_id))}
    instance.add_run(
        DagsterRun(job_name="ingestion_job", run_id=run_id, status=DagsterRunStatus.STARTED, tags=tags)
    )


def test_a_run_whose_process_is_gone_is_marked_failed_and_a_live_one_is_not(settings):
    gone, alive = make_new_run_id(), make_new_run_id()
    with platform_instance(settings) as instance:
        _started_run(instance, gone)
        _started_run(instance, alive)
        # another process holds the live run's lock (as its `gcx materialize` would)
        with _liveness_lock(settings, alive):
            assert fail_abandoned_runs(instance, settings) == [gone]
        assert instance.get_run_by_id(gone).status == DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive).status == DagsterRunStatus.STARTED
        # the live run's process ends without finishing it: now it is abandoned too
        assert fail_abandoned_runs(instance, settings) == [alive]
        assert instance.get_run_by_id(alive).status == DagsterRunStatus.FAILURE
