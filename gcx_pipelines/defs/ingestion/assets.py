"""Dagster assets of ingestion: per source dataset a bronze asset (lake) and a raw asset (warehouse).

Both are built by one factory from the dataset registry, so the 19 datasets share one code path:

    bronze/<source>__<dataset>   the day's source rows, as received, in the lake (Parquet)
    raw/<source>__<dataset>      the same rows validated into raw.<source>__<dataset>, the bad ones
                                 into raw.quarantine with their reasons
    check reconciles_with_source source rows = lake rows = raw rows + quarantined rows

Splitting the two lets raw be rebuilt from the lake (after a rule changes) without asking the
source again: the exchange keeps only the latest version of a row, so an old day's versions exist
only in the lake.
"""

import warnings
from contextlib import nullcontext
from datetime import date

import dagster as dg

from gcx_pipelines.defs.ingestion import extract, lake, load
from gcx_pipelines.defs.ingestion.datasets import DATASETS, Dataset
from gcx_pipelines.defs.ingestion.partitions import daily_partitions
from gcx_pipelines.defs.ingestion.reconcile import reconcile
from gcx_pipelines.defs.ingestion.validate import Column, Reference
from gcx_pipelines.resources import GcxResource

GROUP = "ingestion"
OWNERS = ["team:data-engineering"]
RECONCILIATION_CHECK = "reconciles_with_source"


def bronze_key(dataset: Dataset) -> dg.AssetKey:
    return dg.AssetKey(["bronze", dataset.table])


def raw_key(dataset: Dataset) -> dg.AssetKey:
    return dg.AssetKey(["raw", dataset.table])


def reconciliation_check_key(dataset: Dataset) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(raw_key(dataset), RECONCILIATION_CHECK)


def _source_description(dataset: Dataset) -> str:
    if dataset.file_format:
        return f"the landing file `landing/{dataset.source}/{dataset.name}/{dataset.name}_<date>.{dataset.file_format}`"
    return (
        f"the exchange table `{dataset.name}` whose `{dataset.partitioned_by}` falls on the day (UTC; the "
        "first partition also takes every earlier row)"
    )


def build_bronze_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """The dataset's daily bronze asset: the day's source rows, as received, in the lake."""

    @dg.asset(
        key=bronze_key(dataset),
        partitions_def=daily_partitions,
        group_name=GROUP,
        owners=OWNERS,
        kinds={"parquet", "postgres" if dataset.file_format is None else dataset.file_format},
        description=(
            f"{dataset.description}\n\nBronze: every row of {_source_description(dataset)}, good and bad, "
            f"as received, in `lake/{dataset.source}/{dataset.name}/date=<date>/part-0.parquet`. "
            "Re-running a day rewrites its file from the source."
        ),
        metadata={"source": dataset.source, "dataset": dataset.name},
    )
    def bronze(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        day = date.fromisoformat(context.partition_key)
        settings = gcx.settings()
        path = lake.partition_path(settings.lake_dir, dataset.source, dataset.name, day)
        exchange = gcx.connect("exchange", autocommit=True) if dataset.file_format is None else nullcontext()
        first = context.partition_key == daily_partitions.get_first_partition_key()
        with (
            exchange as conn,
            extract.partition(dataset, day, settings.landing_dir, conn, first_partition=first) as rows,
        ):
            written = lake.write_partition(
                path,
                extract.bronze_schema(dataset),
                rows.batches,
                source_rows=rows.source_rows,
                origin=rows.origin,
                day=day,
            )
        context.log.info(f"{dataset.table} {day}: {written.rows} rows from {written.origin}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": written.rows,
                "source_rows": written.source_rows,
                "origin": written.origin,
                "lake_file": dg.MetadataValue.path(str(path)),
            }
        )

    return bronze


def build_raw_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """The dataset's daily raw asset: the day's lake rows validated into raw, the bad ones into quarantine."""

    @dg.asset(
        key=raw_key(dataset),
        deps=[bronze_key(dataset)],
        partitions_def=daily_partitions,
        group_name=GROUP,
        owners=OWNERS,
        kinds={"postgres"},
        description=(
            f"{dataset.description}\n\nRaw: the day's lake rows that pass validation, in "
            f"`raw.{dataset.table}` with lineage columns; the others are in `raw.quarantine` with the "
            "reason. Re-running a day replaces it (one transaction), never duplicates it."
        ),
        metadata={
            "dagster/table_name": f"warehouse.raw.{dataset.table}",
            "dagster/column_schema": _table_schema(dataset),
        },
    )
    def raw(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        day = date.fromisoformat(context.partition_key)
        reference = None
        if dataset.needs_reference:
            with gcx.connect("exchange") as exchange:
                reference = Reference.from_exchange(exchange)
        lake_dir = gcx.settings().lake_dir
        with gcx.connect("warehouse") as conn:
            load.ensure_raw_schema(conn)
            result = load.load_partition(conn, dataset, day, lake_dir, reference)
        if result.quarantined_rows:
            context.log.warning(
                f"{dataset.table} {day}: {result.quarantined_rows} of {result.lake_rows} rows quarantined"
            )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.raw_rows,
                "quarantined_rows": result.quarantined_rows,
                "source_rows": result.source_rows,
                "lake_rows": result.lake_rows,
                "lake_file": dg.MetadataValue.path(str(lake_dir / result.lake_file)),
            }
        )

    return raw


def build_reconciliation_check(dataset: Dataset) -> dg.AssetChecksDefinition:
    """The raw asset's blocking check that the day's rows add up from source to raw and quarantine.

    Blocking: a day that does not reconcile must not feed the dbt models downstream.
    """
    with warnings.catch_warnings():
        # partitioned asset checks are a "preview" feature of Dagster 1.13; the warning says only that
        warnings.simplefilter("ignore", dg.PreviewWarning)

        @dg.asset_check(
            asset=raw_key(dataset),
            name=RECONCILIATION_CHECK,
            partitions_def=daily_partitions,
            blocking=True,
            description=(
                "Nothing lost, nothing doubled: the source's row count (taken at extraction) equals "
                "the lake file's rows, equals the raw rows plus the quarantined rows of the day, "
                "every source row appears once, and raw.ingestion_log agrees with the recount."
            ),
        )
        def reconciles_with_source(
            context: dg.AssetCheckExecutionContext, gcx: GcxResource
        ) -> dg.AssetCheckResult:
            day = date.fromisoformat(context.partition_key)
            with gcx.connect("warehouse") as conn:
                load.ensure_raw_schema(conn)
                outcome = reconcile(conn, dataset, day, gcx.settings().lake_dir)
            return dg.AssetCheckResult(
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(outcome.problems) or None,
                metadata={
                    "source_rows": outcome.source_rows,
                    "lake_rows": outcome.lake_rows,
                    "raw_rows": outcome.raw_rows,
                    "quarantined_rows": outcome.quarantined_rows,
                    "distinct_source_rows": outcome.distinct_source_rows,
                },
            )

    return reconciles_with_source


def _table_schema(dataset: Dataset) -> dg.TableSchema:
    """The raw table's source columns with their rules, for the catalog."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                column.name,
                str(column.type),
                constraints=dg.TableColumnConstraints(
                    nullable=not column.required,
                    other=_constraints(column)
                    + (["unique within a day"] if column.name == dataset.key else []),
                ),
            )
            for column in dataset.columns
        ]
    )


def _constraints(column: Column) -> list[str]:
    found = [f"one of {', '.join(column.one_of)}"] if column.one_of else []
    for bound, operator in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if getattr(column, bound) is not None:
            found.append(f"{operator} {getattr(column, bound)}")
    if column.pattern:
        found.append(f"matches {column.pattern}")
    if column.known:
        found.append(f"a known {column.known}")
    return found


bronze_assets = [build_bronze_asset(dataset) for dataset in DATASETS]
raw_assets = [build_raw_asset(dataset) for dataset in DATASETS]
reconciliation_checks = [build_reconciliation_check(dataset) for dataset in DATASETS]
