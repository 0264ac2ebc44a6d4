"""What `gcx materialize` shows while a run goes: steps done of the plan's total, the step running,
the time so far and the rows materialized per second, on one line (a terminal) or a line every
`REPORT_EVERY_S` (a log, CI). Dagster's own event log goes to a file under `<GCX_HOME>/logs/`
instead of the terminal (`--verbose` prints it as before).

It reads the run's events from the instance's event log (the `dagster` database) from a thread,
so it needs nothing from the run but its id.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import dagster as dg
from dagster._core.events import DagsterEventType

POLL_S = 0.5
REPORT_EVERY_S = 10.0
WATCHED = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
    DagsterEventType.ASSET_MATERIALIZATION,
}


@dataclass
class RunProgress:
    total_steps: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    failed: int = 0
    rows: int = 0
    running: dict[str, float] = field(default_factory=dict)

    def take(self, event: dg.DagsterEvent) -> None:
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            self.running[event.step_key] = time.monotonic()
        elif kind in (
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.STEP_SKIPPED,
        ):
            self.running.pop(event.step_key, None)
            self.done += 1
            self.failed += kind == DagsterEventType.STEP_FAILURE
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            count = event.step_materialization_data.materialization.metadata.get("dagster/row_count")
            self.rows += int(count.value) if count is not None else 0

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        current = max(self.running, key=self.running.get) if self.running else "-"
        rate = self.rows / elapsed if elapsed > 0 else 0.0
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"[{self.done}/{self.total_steps} steps{failed}] {elapsed:5.0f} s, {self.rows:,} rows "
            f"({rate:,.0f}/s); now: {current}"
        )


class ProgressWatcher:
    """Follows a run's events from a thread and reports `RunProgress` on `out`."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, total_steps: int, out: TextIO = sys.stdout):
        self.instance, self.run_id, self.out = instance, run_id, out
        self.progress = RunProgress(total_steps)
        self.interactive = out.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="gcx-run-progress", daemon=True)
        self._cursor: str | None = None
        self._reported = 0.0

    def __enter__(self) -> ProgressWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._read()
        self._report(final=True)

    def _follow(self) -> None:
        while not self._stop.wait(POLL_S):
            self._read()
            self._report()

    def _read(self) -> None:
        while True:
            page = self.instance.get_records_for_run(
                self.run_id, cursor=self._cursor, of_type=WATCHED, limit=1000
            )
            for record in page.records:
                if record.event_log_entry.dagster_event is not None:
                    self.progress.take(record.event_log_entry.dagster_event)
            self._cursor = page.cursor
            if not page.has_more:
                return

    def _report(self, final: bool = False) -> None:
        now = time.monotonic()
        if self.interactive:
            self.out.write("\r" + self.progress.line()[:160].ljust(160) + ("\n" if final else ""))
            self.out.flush()
        elif final or now - self._reported >= REPORT_EVERY_S:
            self.out.write(self.progress.line() + "\n")
            self.out.flush()
            self._reported = now


def write_event_log(instance: dg.DagsterInstance, run_id: str, path: Path) -> Path:
    """Every event of the run, one line each (what `dagster dev` shows in its run view)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for entry in instance.all_logs(run_id):
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.timestamp))
            kind = entry.dagster_event.event_type_value if entry.dagster_event else "LOG"
            step = entry.step_key or "-"
            message = (
                entry.dagster_event.message
                if entry.dagster_event and entry.dagster_event.message
                else entry.user_message
            )
            level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else entry.level
            out.write(f"{stamp} {level:<7} {kind:<24} {step} {message}\n")
    return path
