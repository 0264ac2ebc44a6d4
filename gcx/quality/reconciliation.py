"""Trades reconciled across layers: for each day (UTC date of `updated_at`), the trades the exchange
source holds equal the trades in the mart plus the trades quarantined on the way.

    source (exchange db, trades)  =  marts.fct_trades  +  raw.quarantine (exchange / trades)

A trade's latest version counts on the day of its `updated_at`, in the source and in the mart alike;
quarantined rows count on their partition's day, which for the exchange is that same date.

Known limit: a trade whose versions straddle days with one of them quarantined (a bad version on
day 1 corrected on day 2, or the reverse) shows as a mismatch on the day of the version that is
no longer the source's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
from psycopg import sql

FCT_TRADES_TABLE = ("marts", "fct_trades")
"""(schema, table) of the trades mart dbt builds."""
FCT_TRADES_DAY_COLUMN = "updated_at"
"""The mart's column holding the trade's source `updated_at`."""
SOURCE_TRADES_TABLE = "trades"


@dataclass(frozen=True)
class TradesDay:
    day: date
    source_trades: int
    mart_trades: int
    quarantined_trades: int

    @property
    def difference(self) -> int:
        """Source trades neither in the mart nor quarantined (negative: more downstream than at source)."""
        return self.source_trades - self.mart_trades - self.quarantined_trades

    @property
    def passed(self) -> bool:
        return self.difference == 0

    def as_dict(self) -> dict[str, int | str]:
        return {
            "day": self.day.isoformat(),
            "source_trades": self.source_trades,
            "mart_trades": self.mart_trades,
            "quarantined_trades": self.quarantined_trades,
            "difference": self.difference,
        }


def _counts_by_day(
    conn: psycopg.Connection, table: sql.Composable, column: str, days: list[date], first_day: date | None
) -> dict[date, int]:
    """Rows per UTC day of `column`; with `first_day`, earlier rows count on that day."""
    day = sql.SQL("({} at time zone 'UTC')::date").format(sql.Identifier(column))
    if first_day is not None:
        day = sql.SQL("greatest({}, {})").format(day, sql.Literal(first_day))
    start = None if first_day in days else min(days)
    query = sql.SQL("select {day}, count(*) from {table} where {col} < %(end)s {since} group by 1").format(
        day=day,
        table=table,
        col=sql.Identifier(column),
        since=sql.SQL("and {} >= %(start)s").format(sql.Identifier(column)) if start else sql.SQL(""),
    )
    params = {"start": start, "end": max(days) + timedelta(days=1)}
    wanted = set(days)
    return {d: int(n) for d, n in conn.execute(query, params) if d in wanted}


def reconcile_trades(
    warehouse: psycopg.Connection,
    exchange: psycopg.Connection,
    days: Iterable[date],
    first_day: date | None = None,
) -> list[TradesDay]:
    """Per day: trades at the source, in marts.fct_trades and in raw.quarantine.

    `first_day` is ingestion's first partition, which also takes every earlier row: on that day the
    source and the mart count every trade updated up to its end.
    """
    days = sorted(set(days))
    if not days:
        return []
    source = _counts_by_day(exchange, sql.Identifier(SOURCE_TRADES_TABLE), "updated_at", days, first_day)
    mart = _counts_by_day(
        warehouse, sql.Identifier(*FCT_TRADES_TABLE), FCT_TRADES_DAY_COLUMN, days, first_day
    )
    quarantined = dict(
        warehouse.execute(
            """
            select partition_date, count(*)::integer from raw.quarantine
            where source = 'exchange' and dataset = 'trades' and partition_date = any(%s)
            group by partition_date
            """,
            (days,),
        ).fetchall()
    )
    return [TradesDay(d, source.get(d, 0), mart.get(d, 0), quarantined.get(d, 0)) for d in days]


def loaded_trade_days(warehouse: psycopg.Connection, limit: int) -> list[date]:
    """The most recent days whose trades partition was loaded (raw.ingestion_log), newest first."""
    if warehouse.execute("select to_regclass('raw.ingestion_log')").fetchone()[0] is None:
        return []
    rows = warehouse.execute(
        """
        select partition_date from raw.ingestion_log
        where source = 'exchange' and dataset = 'trades'
        order by partition_date desc limit %s
        """,
        (limit,),
    ).fetchall()
    return [row[0] for row in rows]
