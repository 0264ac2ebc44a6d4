"""The catalog built from the manifest and the facts, kept per process (Catalog), and what each
caller may see of a dataset (its tier's delay and history): row counts and sample rows."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from api.catalog.facts import (
    as_instant,
    attach_warehouse_facts,
    dagster_facts,
    day_conditions,
    quality_by_day,
    relation_columns,
)
from api.catalog.manifest import datasets_from_manifest, load_manifest, manifest_path
from api.catalog.models import (
    ALL_ROLES,
    CACHE_TTL_S,
    LIVE_TRADES_RELATIONS,
    MART_SCHEMAS,
    SAMPLE_ROWS,
    TITLES,
    Dataset,
)
from gcx import clock
from gcx.access.entitlements import COMPLIANCE_ROLES, COMPLIANCE_TIER, TIERS
from gcx.access.keys import Principal
from gcx.settings import Settings
from ml.names import MEMBER_RISK_MODEL, SURVEILLANCE_MODEL


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
        ("compliance", "member_risk_scores"),
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
    dataset: Dataset, conn: psycopg.Connection, principal: Principal, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The newest `SAMPLE_ROWS` rows the caller may see (its tier's delay and history, its own key's
    rows where the dataset has a key column), clear PII masked."""
    tier = principal.tier
    now = now or clock.now()
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"visible_until": tier.visible_until(now), "oldest": tier.history_starts(now)}
    own_key = dataset.only_key(principal)
    if own_key is not None:
        conditions.append(sql.SQL("{} = %(own_key)s").format(sql.Identifier(dataset.key_column)))
        params["own_key"] = own_key
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
