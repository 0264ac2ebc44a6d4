"""Real platform processes for the fault and load tests: `gcx serve`, `gcx feed`, `gcx simulate --live`,
`gcx materialize` and the embedded PostgreSQL, each started as its own OS process on a throwaway
GCX_HOME, so a fault (SIGKILL, a stopped server, a full disk) hits them exactly as it would in
production. Also the recount that judges them: source = lake = raw + quarantine per day, counted
from where the rows are, never read from the pipeline's own log.

    with Platform.create(tmp_path) as platform:
        platform.gcx_run("simulate", "--days", "1")
        feed = platform.start("feed")
        platform.kill(feed)                      # SIGKILL, no chance to clean up
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
import pyarrow.parquet as pq
from psycopg import sql

from bench.realtime import _free_port, _stop
from gcx import database
from gcx.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER_UP_S = 120.0


def wait_until(condition: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.2):
    """Poll `condition` until it returns something truthy (returned); AssertionError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


@dataclass
class Platform(AbstractContextManager):
    """One GCX_HOME with its own embedded PostgreSQL, and the processes started on it (stopped on exit)."""

    home: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @classmethod
    def create(cls, folder: Path) -> Platform:
        platform = cls(folder.resolve())
        (platform.home / "logs").mkdir(parents=True, exist_ok=True)
        database.ensure_databases(platform.settings)
        return platform

    @property
    def settings(self) -> Settings:
        return Settings(home=self.home)

    def env(self) -> dict[str, str]:
        env = {**os.environ, "GCX_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        env.pop("GCX_DATABASE_URL", None)
        env.pop("GCX_RELIABILITY_LEDGER", None)
        return env

    def log(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.log(name)
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def start(self, *args: str, name: str | None = None) -> subprocess.Popen:
        """`gcx ARGS` as a process of its own session (a signal reaches it and its children only),
        its output in logs/<name>.log."""
        name = name or args[0]
        with self.log(name).open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gcx", *args],
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log_name = name  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def gcx_run(self, *args: str, timeout_s: float = 900, name: str | None = None) -> int:
        """Run `gcx ARGS` to completion; its exit code."""
        process = self.start(*args, name=name)
        try:
            return process.wait(timeout=timeout_s)
        finally:
            self.kill(process)

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Send `sig` (default SIGKILL: no handler, no cleanup) to the process's group and reap it."""
        if process.poll() is None:
            os.killpg(process.pid, sig)
            process.wait(timeout=30)

    @staticmethod
    def stop(process: subprocess.Popen) -> int | None:
        """Ctrl-C, then SIGKILL after 20 s (bench/realtime's way); the exit code."""
        _stop(process)
        return process.returncode

    def serve(self) -> str:
        """`gcx serve` on a free port; its URL once /health answers 200."""
        port = _free_port()
        self.api = self.start("serve", "--port", str(port))
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            if self.api.poll() is not None:
                raise AssertionError(f"gcx serve exited:\n{self.log_tail('serve')}")
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, SERVER_UP_S, "gcx serve to answer /health", 0.5)
        return url

    def connect(self, name: database.DatabaseName) -> psycopg.Connection:
        return psycopg.connect(database.database_url(name, settings=self.settings), autocommit=True)

    def scalar(self, name: database.DatabaseName, query: str, params: object = None):
        with self.connect(name) as conn:
            return conn.execute(query, params).fetchone()[0]

    def db_stop(self) -> None:
        assert self.gcx_run("db", "stop", timeout_s=60, name="db") == 0, self.log_tail("db")

    def db_start(self) -> None:
        assert self.gcx_run("db", "start", timeout_s=120, name="db") == 0, self.log_tail("db")

    def runs(self) -> list[tuple[str, str]]:
        """Dagster's run history from its storage (the `dagster` database): (run id, status)."""
        with self.connect("dagster") as conn:
            return conn.execute("select run_id, status from runs order by create_timestamp").fetchall()

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                self.stop(process)
        database.stop_embedded(self.settings)


# ---------------------------------------------------------------------------------------------
# Reconciliation, recounted from the source


@dataclass(frozen=True)
class DayCount:
    table: str
    day: date
    source: int
    lake: int
    raw: int
    quarantined: int
    loaded_twice: int
    """Rows of the lake file present more than once across raw and quarantine."""

    @property
    def lost(self) -> int:
        return max(self.source - (self.raw + self.quarantined - self.loaded_twice), 0)

    @property
    def exact(self) -> bool:
        return self.source == self.lake == self.raw + self.quarantined and not self.loaded_twice


def _count_source(platform: Platform, exchange: psycopg.Connection, dataset, day: date) -> int:
    """The day's rows as the source holds them: the exchange table's rows whose partition column falls
    on the UTC day, or the landing file's records (lines, minus a CSV header)."""
    if dataset.file_format is None:
        query = sql.SQL(
            "select count(*) from {table} where ({column} at time zone 'UTC')::date = %s"
            if dataset.partitioned_by != "calendar_date"
            else "select count(*) from {table} where {column} = %s"
        ).format(table=sql.Identifier(dataset.name), column=sql.Identifier(dataset.partitioned_by))
        return exchange.execute(query, (day,)).fetchone()[0]
    path = dataset.landing_file(platform.settings.landing_dir, day)
    if not path.exists():
        return 0
    data = path.read_bytes()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return lines - (1 if dataset.file_format == "csv" else 0)


def recount(platform: Platform, days: list[date]) -> list[DayCount]:
    """Every ingestion dataset on every day, counted at the source, in the lake file and in raw +
    quarantine (by lake row number, so a row loaded twice cannot hide a row lost)."""
    from gcx.ingestion import lake
    from gcx.ingestion.datasets import DATASETS

    counts = []
    with platform.connect("exchange") as exchange, platform.connect("warehouse") as warehouse:
        for dataset in DATASETS:
            for day in days:
                path = lake.partition_path(platform.settings.lake_dir, dataset.source, dataset.name, day)
                lake_rows = pq.read_metadata(path).num_rows if path.exists() else 0
                raw, quarantined, distinct = warehouse.execute(
                    sql.SQL(
                        """
                        with loaded as (
                            select _source_row as row, 1 as is_raw from raw.{table} where _partition_date = %(day)s
                            union all
                            select source_row, 0 from raw.quarantine
                             where source = %(source)s and dataset = %(dataset)s and partition_date = %(day)s
                        )
                        select coalesce(sum(is_raw), 0), count(*) - coalesce(sum(is_raw), 0), count(distinct row)
                          from loaded
                        """
                    ).format(table=sql.Identifier(dataset.table)),
                    {"day": day, "source": dataset.source, "dataset": dataset.name},
                ).fetchone()
                counts.append(
                    DayCount(
                        dataset.table,
                        day,
                        _count_source(platform, exchange, dataset, day),
                        lake_rows,
                        int(raw),
                        int(quarantined),
                        int(raw) + int(quarantined) - int(distinct),
                    )
                )
    return counts


def materialized_days(platform: Platform) -> list[date]:
    """The days `gcx materialize` covers on this platform (every day with source data)."""
    from gcx_pipelines.launch import days_with_source_data

    found = days_with_source_data(platform.settings)
    assert found is not None, "no source data"
    return [found.first + timedelta(days=n) for n in range((found.last - found.first).days + 1)]


# ---------------------------------------------------------------------------------------------
# The live feed, recounted from the exchange's feed and the simulator's ground truth


@dataclass(frozen=True)
class FeedCount:
    messages: int
    expected_bad: int
    """Messages the simulator logged as malformed (truth/bad_records.jsonl, source feed)."""
    hot: int
    quarantined: int
    lost: int
    """Valid messages not in hot.trades plus malformed ones not in quarantine."""
    duplicated: int
    """Messages stored more than once (hot and quarantine together)."""
    misplaced: int
    """Valid messages quarantined or malformed ones stored as trades."""

    @property
    def exact(self) -> bool:
        return not (self.lost or self.duplicated or self.misplaced)


def feed_count(platform: Platform) -> FeedCount:
    """Every feed message must be in hot.trades (valid, with its trade id) or in raw.quarantine
    (malformed), once, as the simulator's ground truth says."""
    with platform.connect("exchange") as exchange:
        payloads = dict(exchange.execute("select seq, payload from feed_messages").fetchall())
    truth = platform.settings.truth_dir / "bad_records.jsonl"
    entries = [json.loads(line) for line in truth.read_text().splitlines()] if truth.exists() else []
    bad = {int(e["record_key"]) for e in entries if e["source"] == "feed"} & payloads.keys()
    with platform.connect("warehouse") as warehouse:
        hot = warehouse.execute("select seq, trade_id from hot.trades").fetchall()
        quarantined = [
            int(key)
            for (key,) in warehouse.execute(
                "select record_key from raw.quarantine where source = 'feed' and dataset = 'feed_messages'"
            )
        ]
    stored = [seq for seq, _ in hot] + quarantined
    valid = payloads.keys() - bad
    hot_seqs = {seq for seq, _ in hot}
    wrong_ids = sum(1 for seq, trade_id in hot if json.loads(payloads[seq]).get("trade_id") != trade_id)
    return FeedCount(
        messages=len(payloads),
        expected_bad=len(bad),
        hot=len(hot),
        quarantined=len(quarantined),
        lost=len(payloads.keys() - set(stored)),
        duplicated=len(stored) - len(set(stored)),
        misplaced=len(hot_seqs - valid) + len(set(quarantined) - bad) + wrong_ids,
    )


def consumer_caught_up(platform: Platform) -> bool:
    """The feed consumer's checkpoint is at the feed's last message."""
    head = platform.scalar("exchange", "select coalesce(max(seq), 0) from feed_messages")
    try:
        position = platform.scalar("warehouse", "select coalesce(max(position), 0) from hot.consumer_offsets")
    except psycopg.errors.UndefinedTable:
        return False
    return head > 0 and position == head


# ---------------------------------------------------------------------------------------------
# API clients


def create_key(platform: Platform, tier: str = "pro", role: str = "quant", name: str = "reliability") -> str:
    from gcx.access import keys

    with database.connect("warehouse", settings=platform.settings) as conn:
        return keys.create_key(conn, name, tier, role)


def cursor_seq(cursor: str) -> int:
    from api.params import decode_cursor

    return decode_cursor(cursor, {"seq"}, "after")["seq"]


class SseSubscriber(threading.Thread):
    """An SSE client of /v1/stream/trades that reconnects with Last-Event-ID whenever its stream
    ends or fails (retrying through 503s), recording every trade id it receives."""

    def __init__(self, url: str, key: str, last_event_id: str | None = None):
        super().__init__(daemon=True)
        self.url, self.key, self.last_id = url, key, last_event_id
        self.trade_ids: list[str] = []
        self.statuses: list[int] = []
        self.errors: list[str] = []
        self.connections = 0
        self._stopping = threading.Event()
        self._response: httpx.Response | None = None

    def run(self) -> None:
        while not self._stopping.is_set():
            headers = {"Authorization": f"Bearer {self.key}"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            try:
                with httpx.stream(
                    "GET", f"{self.url}/v1/stream/trades", headers=headers, timeout=httpx.Timeout(10, read=30)
                ) as response:
                    self.statuses.append(response.status_code)
                    if response.status_code != 200:
                        response.read()
                        self._stopping.wait(0.5)
                        continue
                    self.connections += 1
                    self._response = response
                    event_id = None
                    for line in response.iter_lines():
                        if line.startswith("id: "):
                            event_id = line[4:]
                        elif line.startswith("data: ") and event_id is not None:
                            self.trade_ids.append(json.loads(line[6:])["trade_id"])
                            self.last_id, event_id = event_id, None
            except (httpx.HTTPError, RuntimeError) as error:  # RuntimeError: closed by stop()
                if not self._stopping.is_set():
                    self.errors.append(repr(error))
                    self._stopping.wait(0.5)

    def stop(self) -> None:
        self._stopping.set()
        if self._response is not None:
            with contextlib.suppress(Exception):
                self._response.close()
        self.join(timeout=30)
