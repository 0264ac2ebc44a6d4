"""Reconciliation of one partition: source rows = lake rows = raw rows + quarantined rows.

Every figure is counted again from where the rows are (the lake file's footer, the raw table, the
quarantine), never taken from the ingestion log alone; the log is compared with the recount too.
Beyond the totals, every source row must appear exactly once across raw and quarantine, so a
row loaded twice cannot hide a row that was lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from gcx.ingestion import lake
from gcx.ingestion.datasets import Dataset


@dataclass(frozen=True)
class Reconciliation:
    source_rows: int
    """Counted at extraction, independently of the rows written (kept in the lake file's metadata)."""
    lake_rows: int
    raw_rows: int
    quarantined_rows: int
    distinct_source_rows: int
    """Distinct `_source_row` numbers across raw and quarantine: must equal the lake's rows."""
    logged: dict[str, int] | None
    """The counts raw.ingestion_log holds for the partition (None if it was never loaded)."""
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def reconcile(conn: psycopg.Connection, dataset: Dataset, day: date, lake_dir: Path) -> Reconciliation:
    """Count the partition everywhere it lives and say what does not add up."""
    path = lake.partition_path(lake_dir, dataset.source, dataset.name, day)
    problems: list[str] = []
    if path.is_file():
        described = lake.describe(path)
        source_rows, lake_rows = described.source_rows, described.rows
    else:
        source_rows = lake_rows = 0
        problems.append(f"no lake file at {path}")

    raw_rows, quarantined_rows, covered = conn.execute(
        sql.SQL(
            """
            with loaded as (
                select _source_row as source_row, 1 as is_raw from raw.{table} where _partition_date = %(day)s
                union all
                select source_row, 0 from raw.quarantine
                where source = %(source)s and dataset = %(dataset)s and partition_date = %(day)s
            )
            select coalesce(sum(is_raw), 0), count(*) - coalesce(sum(is_raw), 0), count(distinct source_row)
            from loaded
            """
        ).format(table=sql.Identifier(dataset.table)),
        {"day": day, "source": dataset.source, "dataset": dataset.name},
    ).fetchone()
    row = conn.execute(
        """
        select source_rows, lake_rows, raw_rows, quarantined_rows from raw.ingestion_log
        where source = %s and dataset = %s and partition_date = %s
        """,
        (dataset.source, dataset.name, day),
    ).fetchone()
    logged = (
        dict(zip(("source_rows", "lake_rows", "raw_rows", "quarantined_rows"), row, strict=True))
        if row
        else None
    )

    if source_rows != lake_rows:
        problems.append(f"the source had {source_rows} rows but the lake file holds {lake_rows}")
    if lake_rows != raw_rows + quarantined_rows:
        problems.append(
            f"the lake file holds {lake_rows} rows but raw has {raw_rows} and the quarantine {quarantined_rows}"
        )
    if covered != raw_rows + quarantined_rows:
        problems.append(
            f"{raw_rows + quarantined_rows - covered} source rows are loaded more than once across raw and quarantine"
        )
    recount = {
        "source_rows": source_rows,
        "lake_rows": lake_rows,
        "raw_rows": raw_rows,
        "quarantined_rows": quarantined_rows,
    }
    if logged is None:
        problems.append("raw.ingestion_log has no entry for the partition: it was never loaded")
    elif logged != recount:
        problems.append(f"raw.ingestion_log says {logged} but the recount is {recount}")
    return Reconciliation(
        source_rows=source_rows,
        lake_rows=lake_rows,
        raw_rows=int(raw_rows),
        quarantined_rows=int(quarantined_rows),
        distinct_source_rows=int(covered),
        logged=logged,
        problems=problems,
    )
