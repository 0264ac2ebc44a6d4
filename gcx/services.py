"""`gcx up`: the platform's long-running services, started together and stopped together.

    live feed      gcx simulate --live      trades in real time into the exchange, NOTIFY gcx_feed
    feed consumer  gcx feed                 validates the feed into the hot tables, NOTIFY the API
    API            gcx serve                history, tail/stream, catalog, exports, dashboards
    Dagster UI     dagster dev              the data team's UI, with the daemon for schedules

Each runs in its own process group; Ctrl-C (or any service dying) stops them all, each with SIGINT
first (Dagster's `dev` only honours SIGINT) and SIGKILL if it has not exited after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gcx import database
from gcx.settings import Settings

STOP_GRACE_S = 15.0
API_WORKERS = 2
"""API processes: the realtime fan-out of each trade is shared between them (one per core here)."""
DEMO_KEYS = (
    ("free", "quant"),
    ("member", "quant"),
    ("pro", "quant"),
    ("pro", "compliance"),
    ("pro", "executive"),
    ("pro", "admin"),
)
"""The keys `gcx up --demo-keys` creates: one per tier, plus the roles the dashboards and the
compliance data need."""


@dataclass
class Service:
    name: str
    command: list[str]
    url: str | None = None
    env: dict[str, str] | None = None
    cwd: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, start_new_session=True)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


def gcx_command(*args: str) -> list[str]:
    """The `gcx` command of this Python environment."""
    return [sys.executable, "-m", "gcx", *args]


def platform_services(
    settings: Settings, host: str, api_port: int, ui_port: int, trades_per_second: float
) -> list[Service]:
    from gcx_pipelines.instance import PROJECT_ROOT
    from gcx_pipelines.launch import dagster_ui_command

    ui_command, ui_env = dagster_ui_command(settings, host, ui_port)
    return [
        Service(
            "live feed", gcx_command("simulate", "--live", "--trades-per-second", str(trades_per_second))
        ),
        Service("feed consumer", gcx_command("feed")),
        Service(
            "API",
            gcx_command("serve", "--host", host, "--port", str(api_port), "--workers", str(API_WORKERS)),
            url=f"http://{host}:{api_port}/docs  (dashboards: http://{host}:{api_port}/dashboards/)",
        ),
        Service("Dagster UI", ui_command, url=f"http://{host}:{ui_port}", env=ui_env, cwd=PROJECT_ROOT),
    ]


def create_demo_keys(settings: Settings) -> list[tuple[str, str, str]]:
    """One new key per demo tier/role, as (tier, role, key); earlier demo keys are revoked."""
    from gcx.access import keys

    database.ensure_databases(settings)
    with database.connect("warehouse", settings=settings) as conn:
        for key in keys.list_keys(conn):
            if key.name.startswith("demo ") and key.revoked_at is None:
                keys.revoke_key(conn, key.key_id)
        return [
            (tier, role, keys.create_key(conn, f"demo {tier} {role}", tier, role)) for tier, role in DEMO_KEYS
        ]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_services(services: list[Service]) -> int:
    """Start every service, wait until Ctrl-C (or SIGTERM) or until one exits, then stop them all."""
    # Also when started in the background, where a shell may have set SIGINT to be ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    for service in services:
        service.start()
        print(
            f"started {service.name} (pid {service.process.pid})"
            + (f": {service.url}" if service.url else "")
        )
    print("Ctrl-C stops everything.", flush=True)
    exit_code = 0
    try:
        while True:
            for service in services:
                code = service.process.poll()
                if code is not None:
                    print(f"{service.name} exited with code {code}: stopping the others", flush=True)
                    exit_code = code or 1
                    raise StopIteration
            time.sleep(0.5)
    except (KeyboardInterrupt, StopIteration):
        pass
    finally:
        for service in reversed(services):
            service.stop()
    return exit_code
