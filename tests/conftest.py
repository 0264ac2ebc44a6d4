"""Shared fixtures: one throwaway embedded PostgreSQL per test session, never a mock of it."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from gcx import clock, database
from gcx.settings import Settings, get_settings

REFERENCE_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reference"


SLOW_FIXTURES = {"built_platform", "scored_platform", "browser", "live_server", "feed"}
"""Fixtures that build a platform, a browser or a live server: what `make test-fast` leaves out."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="only the tests that need no built platform, browser or live server and are not marked slow",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--fast"):
        return
    slow = [
        item
        for item in items
        if item.get_closest_marker("slow") or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    config.hook.pytest_deselected(items=slow)
    items[:] = [item for item in items if item not in slow]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """A test marked `attack` is one attacker's step that the platform must stop: `make reliability`
    counts it as an attack tried, and as one that got through if the test failed."""
    report = yield
    marker = item.get_closest_marker("attack")
    if marker is not None and not report.skipped and (report.when == "call" or report.failed):
        from tests.reliability import ledger

        ledger.attack(marker.args[0], got_through=report.failed, detail=item.nodeid)
    return report


def pytest_configure(config: pytest.Config) -> None:
    """dbt's manifest before any test module imports the code location (importing never parses).

    The suite's requests all come from one address (the test client's, or 127.0.0.1) and thousands
    of them fail to authenticate on purpose: the per-address limit on those is raised for the
    session, and tests/api/test_failed_auth_limit.py tests it on addresses of its own."""
    os.environ.setdefault("GCX_FAILED_AUTH_PER_MINUTE", "1000000")
    from gcx.warehouse.dbt import prepare_manifest

    prepare_manifest()


@pytest.fixture(scope="session")
def gcx_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh GCX_HOME with its own embedded server, stopped at the end of the session.

    The environment variable is set (not just a Settings object passed around) so that code
    reading `get_settings()`, subprocesses and the `gcx` command all see the same home.
    """
    home = tmp_path_factory.mktemp("gcx")
    previous = {key: os.environ.get(key) for key in ("GCX_HOME", "GCX_DATABASE_URL")}
    os.environ["GCX_HOME"] = str(home)
    os.environ.pop("GCX_DATABASE_URL", None)
    get_settings.cache_clear()
    try:
        database.ensure_databases()
        yield home
    finally:
        database.stop_embedded(get_settings())
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture
def real_time(monkeypatch: pytest.MonkeyPatch) -> date:
    """The real clock for one test, and its day: Dagster stamps its runs with the real clock, which
    the platform's clock does not move, so a test of what Dagster recorded stands at real time."""
    monkeypatch.delenv(clock.OFFSET_VARIABLE, raising=False)
    return clock.today()


@pytest.fixture(scope="session")
def settings(gcx_home: Path) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """The real exchange data in ../shared/data/reference; tests using it skip when it is absent."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE_DATA}")
    return REFERENCE_DATA


@pytest.fixture
def empty_exchange(settings: Settings) -> Settings:
    """The exchange source database with its schema and no rows (tests in one session share it)."""
    from gcx import exchange_source

    with database.connect("exchange") as conn:
        exchange_source.ensure_schema(conn)
        tables = [
            row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public'")
        ]
        conn.execute(f"truncate {', '.join(tables)} restart identity cascade")
    return settings


WORLD_START = date(2026, 11, 17)
WORLD_DAYS = 3
"""`built_platform`'s world: Tuesday 17 to Thursday 19 November 2026, three sessions, no holiday
(the shortest history the ML models train from: two days to learn on, one to compare on)."""
WORLD_NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
"""Where every test stands: the Friday morning after the world, before that day's session opens, so
the history ends yesterday and live trading continues it. The clock runs on from here (a session
takes minutes, not the two hours to the open)."""


@pytest.fixture(scope="session", autouse=True)
def platform_clock() -> Iterator[datetime]:
    """The platform's clock (gcx.clock) at WORLD_NOW for the whole session, in this process and the
    processes it starts, so no test depends on the day the suite runs."""
    clock.set_now(WORLD_NOW)
    yield WORLD_NOW
    clock.reset()


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The platform as `make demo` leaves it, built once per session on its own GCX_HOME and server:
    the 3 sessions of WORLD_START.. with injected faults (seed 29, 3 % bad records) plus the real CME trades of
    the reference data when present, through `gcx materialize` (every asset, every check).

    Tests that only read (API, ML, reports, dashboards, end to end) share it; a test that changes
    it must leave it as it found it."""
    from gcx.importer import import_trades
    from gcx.simulator import simulate
    from gcx_pipelines.launch import materialize

    settings = Settings(home=tmp_path_factory.mktemp("built_platform"))
    try:
        simulate(
            WORLD_START,
            WORLD_DAYS,
            seed=29,
            bad_rate=0.03,
            settings=settings,
        )
        if REFERENCE_DATA.is_dir():
            cme = pd.read_csv(REFERENCE_DATA / "cme_esu4_trades_20240701.csv")
            path = settings.home / "esu4.csv"
            pd.DataFrame(
                {
                    "trade_id": [f"ESU4-{n:06d}" for n in range(len(cme))],  # the sample has no trade ids
                    "symbol": "ESU4",
                    "executed_at": cme.ts_event_ns,
                    "price": cme.price,
                    "quantity": cme["size"],
                    "aggressor_side": cme.side.map({"B": "buy", "A": "sell"}),
                }
            ).to_csv(path, index=False)
            import_trades(path, venue="CME", settings=settings)
        assert materialize(settings), "the run failed or a check did not pass"
        yield settings
    finally:
        database.stop_embedded(settings)


FAST_TRAINING = {
    "ops": {
        f"ml__{model}_model": {"config": {"search_budget_s": 3.0}}
        for model in ("surveillance", "member_risk")
    }
}
"""ml_job's run config in tests: a 3 s hyperparameter budget per model."""


def run_ml_job(settings: Settings, first: date, last: date):
    """`ml_job` over the days [first, last], in process on the platform's Dagster instance; its
    ExecuteInProcessResult (a failed step does not raise)."""
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from gcx_pipelines.definitions import defs
    from gcx_pipelines.instance import platform_instance

    tags = {
        ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
    }
    with platform_instance(settings) as instance:
        return defs.resolve_job_def("ml_job").execute_in_process(
            instance=instance, tags=tags, run_config=FAST_TRAINING, raise_on_error=False
        )


def remove_ml_outputs(settings: Settings) -> None:
    """What ml_job adds to a platform: the ml schema, the score tables, the registered models and
    their experiments and artifacts."""
    import shutil

    from ml import registry

    with database.connect("warehouse", settings=settings) as conn:
        conn.execute("drop schema if exists ml cascade")
        conn.execute("drop table if exists compliance.surveillance_alerts, compliance.member_risk_scores")
    client = registry.use_platform_tracking(settings)
    for name in (registry.SURVEILLANCE_MODEL, registry.MEMBER_RISK_MODEL):
        if client.search_registered_models(filter_string=f"name = '{name}'"):
            client.delete_registered_model(name)
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            client.delete_experiment(experiment.experiment_id)
    shutil.rmtree(registry.artifact_root(settings), ignore_errors=True)


@contextmanager
def clock_at(instant: datetime) -> Iterator[None]:
    """The platform's clock at `instant` for a block (a world on other dates than WORLD_START's)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(clock.OFFSET_VARIABLE, os.environ.get(clock.OFFSET_VARIABLE, ""))
        clock.set_now(instant)
        yield


@dataclass
class ScoredPlatform:
    settings: Settings
    result: object
    """The ml_job run's ExecuteInProcessResult."""
    days: tuple[date, date]


@pytest.fixture(scope="session")
def scored_platform(built_platform: Settings) -> Iterator[ScoredPlatform]:
    """`built_platform` after `ml_job` (the surveillance model trained, registered, promoted; member
    risk too short a history to learn from; every day scored), with a 3 s hyperparameter budget.
    What it adds (ml schema, score tables, registered models, artifacts) is removed at the end of
    the session."""
    with database.connect("warehouse", settings=built_platform) as conn:
        first, last = conn.execute(
            "select min(trade_date), max(trade_date) from marts.fct_trades where venue = 'GCX'"
        ).fetchone()
    try:
        yield ScoredPlatform(built_platform, run_ml_job(built_platform, first, last), (first, last))
    finally:
        remove_ml_outputs(built_platform)
