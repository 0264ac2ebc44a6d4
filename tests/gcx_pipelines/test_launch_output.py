"""What `gcx materialize` and `gcx ui` are like to run from a terminal or a script: a progress line
and a summary instead of Dagster's debug flood (the event log goes to a file), a failed run
recorded like a scheduled one, and a `gcx ui` in the background that stops on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from gcx import database
from gcx.settings import Settings
from gcx_pipelines.launch import UI_STOP_GRACE_S

pytestmark = pytest.mark.slow  # runs the gcx command on a platform of its own


@pytest.fixture
def home(tmp_path):
    settings = Settings(home=tmp_path / "home")
    yield settings
    database.stop_embedded(settings)


def gcx(settings: Settings, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "GCX_HOME": str(settings.home)}
    return subprocess.run(
        [sys.executable, "-m", "gcx", *args], env=env, capture_output=True, text=True, **kwargs
    )


def test_materialize_shows_progress_and_keeps_the_event_log_in_a_file(home):
    assert gcx(home, "simulate", "--days", "1", "--start", "2026-11-17", "--seed", "5").returncode == 0
    done = gcx(home, "materialize", "--job", "ingestion_job")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) < 40, f"{len(lines)} lines: the run should not print its event log"
    assert "DEBUG" not in done.stdout + done.stderr
    progress = [line for line in lines if "steps" in line]
    assert progress and progress[-1].startswith("[") and "rows" in progress[-1]
    summary = lines[-1]
    assert "succeeded" in summary and "Event log: " in summary
    log = Path(summary.split("Event log: ")[1])
    assert log.exists() and len(log.read_text().splitlines()) > 100


def test_a_failed_command_line_run_is_recorded_like_a_scheduled_one(home):
    assert gcx(home, "simulate", "--days", "1", "--start", "2026-11-17", "--seed", "5").returncode == 0
    failed = gcx(home, "materialize", "--job", "ml_job")  # no warehouse built: the features cannot be read
    assert failed.returncode == 1 and "FAILED" in failed.stdout
    with database.connect("warehouse", settings=home) as conn:
        rows = conn.execute("select job_name, failed_steps, error from ops.pipeline_failures").fetchall()
    assert len(rows) == 1 and rows[0][0] == "ml_job" and rows[0][1] and rows[0][2]


def test_ui_started_in_the_background_stops_on_sigterm(home):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GCX_HOME": str(home.home)}
    ui = subprocess.Popen(
        [sys.executable, "-m", "gcx", "ui", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert ui.poll() is None and time.monotonic() < deadline, "the UI did not come up"
            time.sleep(0.5)
        children = psutil.Process(ui.pid).children(recursive=True)
        assert children, "dagster dev runs under gcx ui"
        ui.send_signal(signal.SIGTERM)
        assert ui.wait(UI_STOP_GRACE_S + 30) == 0
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], f"left running: {[p.cmdline() for p in alive]}"
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
