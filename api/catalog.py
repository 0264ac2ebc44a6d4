"""The dataset catalog: every dataset the API serves, described from three places.

- the dbt manifest (dbt_project/target/manifest.json): which marts exist, their descriptions,
  owners (dbt group owner, or `meta.owner`), column descriptions and PII flags, and lineage
  (`parent_map` / `child_map`, as Dagster asset keys `[schema, model]`);
- the warehouse: the relation's real columns and types, row count, time coverage, last load;
- the quality results: `quality.check_results` per day for the dataset and every raw dataset it is
  built from (a day is `available` when every check passed, `degraded` when one failed, `missing`
  when no check looked at it), and the dataset's dbt tests as last evaluated by Dagster.

A dataset's id is its model name without `fct_`/`dim_` (`trades`, `ohlcv_1m`, `large_trades`), except
where `DATASET_IDS` says otherwise (`daily_summary`). Access follows the schema and dbt group: trading
marts are for every tier, platform and executive marts from the member tier, compliance marts for the
compliance and admin roles from the member tier (listed to everyone, readable by them only),
restricted marts (clear PII) listed and readable by those roles only, from the member tier too.

The catalog is built once and kept for `CACHE_TTL_S` per process (`Catalog.get`); the per-caller views
(free tier delay, samples) are computed on each request from it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg import sql

from gcx import clock
from gcx.access.entitlements import COMPLIANCE_ROLES, COMPLIANCE_TIER, ROLES, TIERS
from gcx.governance import roles
from gcx.settings import Settings
from gcx.warehouse.dbt import MANIFEST_PATH, prepare_manifest
from ml.names import MEMBER_RISK_MODEL, SURVEILLANCE_MODEL

log = logging.getLogger(__name__)

CACHE_TTL_S = 60.0
"""How long a built catalog is served before it is rebuilt (row counts, coverage, quality)."""

MART_SCHEMAS = ("marts", "compliance", "restricted")
DATASET_IDS = {"fct_daily_market_summary": "daily_summary"}
"""Ids that are not simply the model name without fct_/dim_."""
TITLES = {
    "trades": "Trades",
    "orders": "Orders",
    "settlements": "Settlements",
    "instruments": "Instruments",
    "ohlcv_1m": "OHLCV bars, 1 minute",
    "ohlcv_5m": "OHLCV bars, 5 minutes",
    "ohlcv_1h": "OHLCV bars, 1 hour",
    "ohlcv_1d": "OHLCV bars, 1 day",
    "daily_summary": "Daily market summary and settlement prices",
    "live_trades": "Live trades (hot table)",
    "surveillance_alerts": "Surveillance alerts",
    "member_risk_scores": "Member settlement-risk scores",
}
TIME_COLUMNS = {
    "trades": "executed_at",
    "live_trades": "executed_at",
    "ohlcv_1m": "bar_start_at",
    "ohlcv_5m": "bar_start_at",
    "ohlcv_1h": "bar_start_at",
    "ohlcv_1d": "bar_start_at",
}
"""The time axis of datasets whose first `_at`/`_date` column is not it (coverage, windows, samples)."""
TIME_COLUMN_SKIP = {"_loaded_at", "valid_from", "valid_to", "effective_to", "dbt_valid_from", "dbt_valid_to"}
LIVE_TRADES_RELATIONS = (("hot", "trades"), ("live", "trades"), ("realtime", "trades"))
"""Where the live feed consumer may keep its hot trades; the first that exists is listed as `live_trades`."""

UNIT_SUFFIXES = (
    ("_ghs_per_t", "GHS/t"),
    ("_ghs", "GHS"),
    ("_t", "t"),
    ("_at", "UTC instant"),
    ("_date", "UTC date"),
    ("_on", "UTC date"),
    ("_ms", "ms"),
    ("_days", "days"),
    ("_ratio", "ratio"),
)
"""Units read from column names (the project's naming convention: price_ghs_per_t, quantity_t)."""

GROUP_TIERS = {"trading": "free", "platform": "member", "executive": "member", "compliance": COMPLIANCE_TIER}
"""The lowest tier that may read a dataset of each dbt group (exports need pro whatever the group)."""
ALL_ROLES = frozenset(ROLES)
SAMPLE_ROWS = 10
Pii = Literal["none", "masked", "clear"]
Condition = Literal["available", "degraded", "missing"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    unit: str | None
    description: str | None
    pii: Pii


@dataclass(frozen=True)
class LineageNode:
    asset_key: tuple[str, ...]
    dataset_id: str | None


@dataclass(frozen=True)
class DayQuality:
    day: date
    condition: Condition
    checks_passed: int
    checks_total: int


@dataclass
class Dataset:
    id: str
    title: str
    description: str
    owner: str | None
    schema: str
    table: str
    tier: str
    roles: frozenset[str]
    listed_to_all: bool
    columns: list[Column]
    time_column: str | None
    symbol_column: str | None
    order_by: list[str]
    upstream: list[LineageNode] = field(default_factory=list)
    downstream: list[LineageNode] = field(default_factory=list)
    quality_datasets: list[str] = field(default_factory=list)
    """Names in quality.check_results whose results count for this dataset (itself and its raw inputs)."""
    row_count: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    last_loaded_at: datetime | None = None
    last_built_at: datetime | None = None
    days: list[DayQuality] = field(default_factory=list)
    dbt_tests_total: int = 0
    dbt_tests_passed: int = 0
    model: dict[str, Any] | None = None
    """For a table a model writes: its registered model, champion and the last training run's note."""

    @property
    def asset_key(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def relation(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.table))

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def visibility_condition(self) -> sql.Composable | None:
        """Rows a delayed tier may see at `%(visible_until)s`: a bar once its whole interval has ended,
        a day once it is over, anything else once its instant has passed."""
        if "bar_end_at" in self.column_names:
            return sql.SQL("bar_end_at <= %(visible_until)s")
        if self.time_column is None:
            return None
        if self.is_time_instant:
            return sql.SQL("{} < %(visible_until)s").format(sql.Identifier(self.time_column))
        return sql.SQL("{} < cast(%(visible_until)s as date)").format(sql.Identifier(self.time_column))

    @property
    def is_time_instant(self) -> bool:
        """True when the time axis is a timestamp (an instant), False for a date or no axis."""
        return self.time_column is not None and self.time_column.endswith("_at")

    def readable_by(self, role: str) -> bool:
        return role in self.roles

    def listed_to(self, role: str) -> bool:
        return self.listed_to_all or role in self.roles


# ---------------------------------------------------------------------------------------------
# the manifest


def manifest_path() -> Path:
    """dbt's manifest (gcx/warehouse/dbt.py); made now only where none was ever made (`make install`
    makes it), never re-parsed here: the API reads what the pipelines built with."""
    return MANIFEST_PATH if MANIFEST_PATH.exists() else prepare_manifest()


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def dataset_id(model_name: str) -> str:
    if model_name in DATASET_IDS:
        return DATASET_IDS[model_name]
    for prefix in ("fct_", "dim_"):
        if model_name.startswith(prefix):
            return model_name[len(prefix) :]
    return model_name


def unit_of(column: str) -> str | None:
    for suffix, unit in UNIT_SUFFIXES:
        if column.endswith(suffix):
            return unit
    return None


def pii_of(column: str, meta: dict[str, Any]) -> Pii:
    """Clear PII is flagged `meta: {pii: true}` in dbt; masked PII is a hash (`*_hash`)."""
    if meta.get("pii"):
        return "clear"
    return "masked" if column.endswith("_hash") else "none"


def node_asset_key(manifest: dict[str, Any], unique_id: str) -> tuple[str, ...] | None:
    """The Dagster asset key of a model, snapshot or source (gcx_pipelines/defs/dbt/assets.py)."""
    node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
    if node is None or node["resource_type"] not in {"model", "snapshot", "source"}:
        return None
    if node["resource_type"] == "source":
        return (node["schema"], node["identifier"])
    return (node["schema"], node.get("alias") or node["name"])


def raw_inputs(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """The source tables a node is built from, transitively (their names in quality.check_results)."""
    found, seen, stack = set(), set(), [unique_id]
    while stack:
        current = stack.pop()
        for parent in manifest["parent_map"].get(current, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                found.add(manifest["sources"][parent]["identifier"])
            elif parent.startswith(("model.", "snapshot.")):
                stack.append(parent)
    return found


def unique_key(manifest: dict[str, Any], unique_id: str) -> list[str]:
    """The columns a dbt test holds unique for the model (a `unique` column, else a
    `unique_combination_of_columns`): with the time axis first, the export's stable order.
    (dbt's inferred `primary_key` is not used: it takes any not_null column of a composite key.)"""
    single, combined = [], []
    for test in manifest["nodes"].values():
        metadata = test.get("test_metadata") or {}
        if test["resource_type"] != "test" or test.get("attached_node") != unique_id:
            continue
        if metadata.get("name") == "unique" and not (test.get("config") or {}).get("where"):
            single.append([metadata["kwargs"]["column_name"]])
        elif metadata.get("name") == "unique_combination_of_columns":
            combined.append(list(metadata["kwargs"]["combination_of_columns"]))
    return sorted(single)[0] if single else sorted(combined, key=len)[0] if combined else []


def datasets_from_manifest(manifest: dict[str, Any]) -> dict[str, tuple[str, Dataset]]:
    """Every mart of the manifest as a Dataset (no warehouse facts yet), by id, with its unique_id."""
    groups = {group["name"]: group for group in manifest.get("groups", {}).values()}
    found: dict[str, tuple[str, Dataset]] = {}
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["schema"] not in MART_SCHEMAS:
            continue
        identifier = dataset_id(node["name"])
        if identifier in found:
            raise ValueError(
                f"two marts give the dataset id {identifier!r}: {found[identifier][0]} and {unique_id}"
            )
        group = node.get("group") or node["config"].get("group")
        owner = node.get("meta", {}).get("owner") or (groups.get(group, {}).get("owner") or {}).get("name")
        restricted = node["schema"] in {"compliance", "restricted"}
        dataset = Dataset(
            id=identifier,
            title=TITLES.get(identifier, identifier.replace("_", " ").capitalize()),
            description=" ".join((node.get("description") or "").split()),
            owner=f"team:{owner}" if owner and "@" not in owner and ":" not in owner else owner,
            schema=node["schema"],
            table=node.get("alias") or node["name"],
            tier=GROUP_TIERS.get(group, "member"),
            roles=COMPLIANCE_ROLES if restricted else ALL_ROLES,
            listed_to_all=node["schema"] != "restricted",
            columns=[
                Column(
                    name=name,
                    type=column.get("data_type") or "",
                    unit=unit_of(name),
                    description=(column.get("description") or None),
                    pii=pii_of(name, {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}),
                )
                for name, column in node.get("columns", {}).items()
            ],
            time_column=None,
            symbol_column=None,
            order_by=unique_key(manifest, unique_id),
            quality_datasets=sorted(raw_inputs(manifest, unique_id) | {node["name"]}),
        )
        found[identifier] = (unique_id, dataset)
    ids_by_unique_id = {unique_id: identifier for identifier, (unique_id, _) in found.items()}
    for unique_id, dataset in found.values():
        dataset.upstream = lineage(manifest, manifest["parent_map"].get(unique_id, []), ids_by_unique_id)
        dataset.downstream = lineage(manifest, manifest["child_map"].get(unique_id, []), ids_by_unique_id)
    return found


def lineage(manifest: dict[str, Any], unique_ids: list[str], ids: dict[str, str]) -> list[LineageNode]:
    nodes = []
    for unique_id in sorted(unique_ids):
        key = node_asset_key(manifest, unique_id)
        if key is not None:
            nodes.append(LineageNode(key, ids.get(unique_id)))
    return nodes


# ---------------------------------------------------------------------------------------------
# the warehouse


def relation_columns(
    conn: psycopg.Connection, schemas: list[str]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type as PostgreSQL prints it)] for every table and view."""
    rows = conn.execute(
        """
        select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
        order by n.nspname, c.relname, a.attnum
        """,
        (schemas,),
    ).fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, type_name in rows:
        columns.setdefault((schema, table), []).append((column, type_name))
    return columns


def choose_time_column(dataset: Dataset, columns: list[tuple[str, str]]) -> str | None:
    """The dataset's time axis: as TIME_COLUMNS says, else a fact's first date or instant column; a
    dimension (dim_*) has none (its dates describe its rows, they do not place them in time)."""
    names = [name for name, _ in columns]
    if dataset.id in TIME_COLUMNS and TIME_COLUMNS[dataset.id] in names:
        return TIME_COLUMNS[dataset.id]
    if dataset.table.startswith("dim_"):
        return None
    for suffix in ("_date", "_at"):
        for name, type_name in columns:
            if (
                name.endswith(suffix)
                and name not in TIME_COLUMN_SKIP
                and type_name.startswith(("date", "timestamp"))
            ):
                return name
    return None


def attach_warehouse_facts(
    dataset: Dataset, columns: list[tuple[str, str]], conn: psycopg.Connection
) -> None:
    """Real columns and types, time axis, row count, coverage and last load."""
    described = {column.name: column for column in dataset.columns}
    dataset.columns = [
        Column(
            name=name,
            type=type_name,
            unit=unit_of(name),
            description=described[name].description if name in described else None,
            pii=described[name].pii if name in described else pii_of(name, {}),
        )
        for name, type_name in columns
        if not (name.startswith("_") and name != "_loaded_at")
    ]
    names = {name for name, _ in columns}
    dataset.time_column = choose_time_column(dataset, columns)
    dataset.symbol_column = "symbol" if "symbol" in names else None
    # a stable order: the time axis, then the unique key (without one, every column: a total order)
    key = [column for column in dataset.order_by if column in names] or [
        column.name for column in dataset.columns
    ]
    dataset.order_by = [dataset.time_column] if dataset.time_column else []
    dataset.order_by += [column for column in key if column not in dataset.order_by]
    aggregates = [sql.SQL("count(*)")]
    if dataset.time_column:
        time_column = sql.Identifier(dataset.time_column)
        aggregates += [sql.SQL("min({})").format(time_column), sql.SQL("max({})").format(time_column)]
    else:
        aggregates += [sql.NULL, sql.NULL]
    aggregates.append(sql.SQL("max(_loaded_at)") if "_loaded_at" in names else sql.NULL)
    row = conn.execute(
        sql.SQL("select {} from {}").format(sql.SQL(", ").join(aggregates), dataset.relation)
    ).fetchone()
    dataset.row_count, first, last, dataset.last_loaded_at = row
    dataset.first_at, dataset.last_at = as_instant(first), as_instant(last)


def as_instant(value: date | datetime | None) -> datetime | None:
    """A time axis value as a UTC instant (a date is its 00:00 UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# quality


def quality_by_day(conn: psycopg.Connection, datasets: list[str]) -> dict[str, dict[date, tuple[int, int]]]:
    """quality dataset -> day -> (checks passed, checks total), from each check's latest result."""
    exists = conn.execute("select to_regclass('quality.check_results') is not null").fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute(
        """
        with latest as (
            select distinct on (dataset, partition_date, asset_key, check_name)
                   dataset, partition_date, passed
            from quality.check_results
            where dataset = any(%s) and partition_date is not null
            order by dataset, partition_date, asset_key, check_name, checked_at desc, id desc
        )
        select dataset, partition_date, (count(*) filter (where passed))::int, count(*)::int
        from latest group by dataset, partition_date
        """,
        (datasets,),
    ).fetchall()
    by_dataset: dict[str, dict[date, tuple[int, int]]] = {}
    for name, day, passed, total in rows:
        by_dataset.setdefault(name, {})[day] = (passed, total)
    return by_dataset


def day_conditions(dataset: Dataset, quality: dict[str, dict[date, tuple[int, int]]]) -> list[DayQuality]:
    """One entry per day of the coverage window (or, without a time axis, of the checked days):
    a day no check looked at is `missing`, whatever the data holds."""
    per_day: dict[date, tuple[int, int]] = {}
    for name in dataset.quality_datasets:
        for day, (passed, total) in quality.get(name, {}).items():
            before = per_day.get(day, (0, 0))
            per_day[day] = (before[0] + passed, before[1] + total)
    if dataset.first_at is not None and dataset.last_at is not None:
        first, last = dataset.first_at.astimezone(UTC).date(), dataset.last_at.astimezone(UTC).date()
    elif per_day:
        first, last = min(per_day), max(per_day)
    else:
        return []
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        passed, total = per_day.get(day, (0, 0))
        condition: Condition = "missing" if total == 0 else "available" if passed == total else "degraded"
        days.append(DayQuality(day, condition, passed, total))
    return days


def dagster_facts(
    settings: Settings, asset_keys: list[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Per asset key: the last materialization time and the latest result of each asset check (the
    dbt tests), read from Dagster's event storage in the `dagster` database. Empty when Dagster has
    not run here (or its storage is not readable): the catalog then shows no dbt test results."""
    keys = {json.dumps(list(key)): key for key in asset_keys}
    facts: dict[tuple[str, str], dict[str, Any]] = {
        key: {"built_at": None, "passed": 0, "total": 0} for key in asset_keys
    }
    try:
        # as the API's role, which reads Dagster's storage through these functions only (roles.py)
        with psycopg.connect(roles.api_database_url(settings, database_name="dagster")) as conn:
            for asset_key, timestamp in conn.execute(
                "select asset_key, last_materialization_timestamp from api_read.asset_materializations(%s)",
                (list(keys),),
            ):
                if timestamp is not None:
                    facts[keys[asset_key]]["built_at"] = timestamp.replace(tzinfo=UTC)
            for asset_key, passed, total in conn.execute(
                "select asset_key, passed, total from api_read.asset_check_results(%s)", (list(keys),)
            ):
                facts[keys[asset_key]].update(passed=passed, total=total)
    except psycopg.Error as error:
        log.info("no Dagster facts for the catalog: %s", error)
    return facts


# ---------------------------------------------------------------------------------------------
# the catalog


def build_catalog(settings: Settings, conn: psycopg.Connection) -> dict[str, Dataset]:
    """Every dataset whose relation exists in the warehouse, with its facts, by id."""
    manifest = load_manifest(manifest_path())
    candidates = datasets_from_manifest(manifest)
    columns = relation_columns(conn, [*MART_SCHEMAS, *{schema for schema, _ in LIVE_TRADES_RELATIONS}])
    datasets: dict[str, Dataset] = {}
    for identifier, (_, dataset) in sorted(candidates.items()):
        if dataset.asset_key in columns:
            attach_warehouse_facts(dataset, columns[dataset.asset_key], conn)
            datasets[identifier] = dataset
    live = next((relation for relation in LIVE_TRADES_RELATIONS if relation in columns), None)
    if live is not None:
        datasets["live_trades"] = live_trades_dataset(live, columns[live], conn, datasets.get("trades"))
    for output in MODEL_OUTPUTS:
        if output.relation in columns:
            datasets[output.id] = model_output_dataset(output, columns[output.relation], conn)
    quality = quality_by_day(conn, sorted({name for d in datasets.values() for name in d.quality_datasets}))
    dagster = dagster_facts(settings, [d.asset_key for d in datasets.values()])
    for dataset in datasets.values():
        dataset.days = day_conditions(dataset, quality)
        facts = dagster.get(dataset.asset_key, {})
        dataset.last_built_at = facts.get("built_at")
        dataset.dbt_tests_passed, dataset.dbt_tests_total = facts.get("passed", 0), facts.get("total", 0)
    return datasets


@dataclass(frozen=True)
class ModelOutput:
    """A table the models write (not a dbt model): described here, facts read like any other."""

    id: str
    relation: tuple[str, str]
    description: str
    roles: frozenset[str]
    order_by: tuple[str, ...]
    model_name: str


MODEL_OUTPUTS = (
    ModelOutput(
        "surveillance_alerts",
        ("compliance", "surveillance_alerts"),
        "Market-surveillance alerts scored daily by the champion model (ml/): pattern (wash trade, circular"
        " trading, spoofing, marking the close, pump and dump, anomaly), members and trades involved, score,"
        " detector and the reasons behind it. API: GET /v1/surveillance/alerts.",
        COMPLIANCE_ROLES,
        ("alert_id",),
        SURVEILLANCE_MODEL,
    ),
    ModelOutput(
        "member_risk_scores",
        ("marts", "member_risk_scores"),
        "Each active member's probability that, of its settlement obligations due in the next 7 days, one"
        " fails (unpaid 5 days after its deadline) or two are paid late; scored daily by the champion model"
        " (ml/, calibration measured in its model card), with the factors behind it."
        " API: GET /v1/risk/members/{id}, POST /v1/risk/score.",
        COMPLIANCE_ROLES,
        ("member_id",),
        MEMBER_RISK_MODEL,
    ),
)


def model_output_dataset(
    output: ModelOutput, columns: list[tuple[str, str]], conn: psycopg.Connection
) -> Dataset:
    dataset = Dataset(
        id=output.id,
        title=TITLES[output.id],
        description=output.description,
        owner="team:surveillance",
        schema=output.relation[0],
        table=output.relation[1],
        tier=COMPLIANCE_TIER,
        roles=output.roles,
        listed_to_all=True,
        columns=[],
        time_column=None,
        symbol_column=None,
        order_by=list(output.order_by),
    )
    attach_warehouse_facts(dataset, columns, conn)
    dataset.model = model_status(conn, output.model_name)
    return dataset


def model_status(conn: psycopg.Connection, model_name: str) -> dict[str, Any]:
    """The model's champion and the note of its last training run (ml.model_status, written by the
    ML assets); no note before the first run."""
    row = None
    if conn.execute("select to_regclass('ml.model_status')").fetchone()[0] is not None:
        row = conn.execute(
            "select champion_version, note, decided_at from ml.model_status where model_name = %s",
            (model_name,),
        ).fetchone()
    champion_version, note, decided_at = row or (None, None, None)
    return {"name": model_name, "champion_version": champion_version, "note": note, "decided_at": decided_at}


def live_trades_dataset(
    relation: tuple[str, str],
    columns: list[tuple[str, str]],
    conn: psycopg.Connection,
    trades: Dataset | None,
) -> Dataset:
    """The live feed's hot trades: the same record as `trades`, described from it."""
    dataset = Dataset(
        id="live_trades",
        title=TITLES["live_trades"],
        description="Trades from the live market feed, as the consumer stored them (validated, not yet"
        " through the nightly pipeline); the same record shape as trades.",
        owner=trades.owner if trades else "team:market-data",
        schema=relation[0],
        table=relation[1],
        tier="free",
        roles=ALL_ROLES,
        listed_to_all=True,
        columns=trades.columns if trades else [],
        time_column=None,
        symbol_column=None,
        order_by=["trade_id"],
        quality_datasets=[relation[1]],
    )
    attach_warehouse_facts(dataset, columns, conn)
    return dataset


class Catalog:
    """The catalog of one process: built on first use, rebuilt when older than `ttl_s`."""

    def __init__(self, settings: Settings, ttl_s: float = CACHE_TTL_S):
        self.settings = settings
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._datasets: dict[str, Dataset] | None = None
        self._built_at = 0.0

    def get(self, conn: psycopg.Connection) -> dict[str, Dataset]:
        with self._lock:
            if self._datasets is None or time.monotonic() - self._built_at > self.ttl_s:
                self._datasets = build_catalog(self.settings, conn)
                self._built_at = time.monotonic()
            return self._datasets

    def invalidate(self) -> None:
        with self._lock:
            self._datasets = None


def visible_facts(
    dataset: Dataset, conn: psycopg.Connection, tier_name: str, now: datetime | None = None
) -> tuple[int, datetime | None]:
    """Row count and last instant as the tier may see them: on a delayed tier, rows newer than its
    horizon are not counted (the free tier never learns of anything newer than now - 15 min)."""
    tier = TIERS[tier_name]
    visible_until = tier.visible_until(now or clock.now())
    recent = dataset.last_at is not None and dataset.last_at + timedelta(days=1) >= visible_until
    if not tier.delay or not recent or dataset.visibility_condition is None:
        return dataset.row_count, dataset.last_at
    row = conn.execute(
        sql.SQL("select count(*), max({t}) from {r} where {visible}").format(
            t=sql.Identifier(dataset.time_column), r=dataset.relation, visible=dataset.visibility_condition
        ),
        {"visible_until": visible_until},
    ).fetchone()
    return row[0], as_instant(row[1])


def sample_rows(
    dataset: Dataset, conn: psycopg.Connection, tier_name: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The newest `SAMPLE_ROWS` rows the tier may see (its delay and history), clear PII masked."""
    tier = TIERS[tier_name]
    now = now or clock.now()
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"visible_until": tier.visible_until(now), "oldest": tier.history_starts(now)}
    if dataset.time_column:
        time_column = sql.Identifier(dataset.time_column)
        if tier.delay:
            conditions.append(dataset.visibility_condition)
        if params["oldest"] is not None:
            cast = sql.SQL("") if dataset.is_time_instant else sql.SQL("::date")
            conditions.append(sql.SQL("{} >= %(oldest)s{}").format(time_column, cast))
        order = sql.SQL("{} desc").format(time_column)
    else:
        order = sql.SQL(", ").join(sql.Identifier(column) for column in dataset.order_by)
    query = sql.SQL("select {columns} from {relation} {where} order by {order} limit {limit}").format(
        columns=sql.SQL(", ").join(sql.Identifier(name) for name in dataset.column_names),
        relation=dataset.relation,
        where=sql.SQL("where ") + sql.SQL(" and ").join(conditions) if conditions else sql.SQL(""),
        order=order,
        limit=sql.Literal(SAMPLE_ROWS),
    )
    clear = {column.name for column in dataset.columns if column.pii == "clear"}
    with conn.cursor() as cursor:
        cursor.execute(query, params)
        return [
            {
                name: "***"
                if name in clear and value is not None
                else float(value)
                if isinstance(value, Decimal)
                else value
                for name, value in zip(dataset.column_names, row, strict=True)
            }
            for row in cursor.fetchall()
        ]
