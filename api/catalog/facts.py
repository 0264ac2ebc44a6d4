"""What the warehouse, the quality results and Dagster say of a dataset: real columns and types,
rows and coverage, per-day condition, last build and dbt tests."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from api.catalog.manifest import pii_of, unit_of
from api.catalog.models import TIME_COLUMN_SKIP, TIME_COLUMNS, Column, Condition, Dataset, DayQuality
from gcx.governance import roles
from gcx.settings import Settings

log = logging.getLogger(__name__)


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
