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
from collections.abc import Callable
from contextlib import nullcontext
from datetime import date

import dagster as dg

from gcx.ingestion import extract, lake, load
from gcx.ingestion.datasets import DATASETS, Dataset
from gcx.ingestion.reconcile import reconcile
from gcx.ingestion.validate import Column, Reference
from gcx_pipelines.partitions import daily_partitions, run_days
from gcx_pipelines.resources import GcxResource

GROUP = "ingestion"
OWNERS = ["team:data-engineering"]
RECONCILIATION_CHECK = "reconciles_with_source"


def _daily_asset(**kwargs) -> Callable:
    """`dg.asset` for a daily asset: a partition range runs as one run, one step per asset.

    (see gcx_pipelines.partitions.run_days). Single-run backfills are "beta" in Dagster 1.13;
    the warning says only that, so it is silenced here rather than shown at every load.
    """

    def decorate(fn: Callable) -> dg.AssetsDefinition:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.BetaWarning)
            return dg.asset(
                partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run(), **kwargs
            )(fn)

    return decorate


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

    @_daily_asset(
        key=bronze_key(dataset),
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
        settings = gcx.settings()
        first_day = date.fromisoformat(daily_partitions.get_first_partition_key())
        totals = {"rows": 0, "source_rows": 0}
        exchange = gcx.connect("exchange", autocommit=True) if dataset.file_format is None else nullcontext()
        with exchange as conn:
            for day in run_days(context):
                path = lake.partition_path(settings.lake_dir, dataset.source, dataset.name, day)
                with extract.partition(
                    dataset, day, settings.landing_dir, conn, first_partition=day == first_day
                ) as rows:
                    written = lake.write_partition(
                        path,
                        extract.bronze_schema(dataset),
                        rows.batches,
                        source_rows=rows.source_rows,
                        origin=rows.origin,
                        day=day,
                    )
                context.log.info(f"{dataset.table} {day}: {written.rows} rows from {written.origin}")
                totals["rows"] += written.rows
                totals["source_rows"] += written.source_rows
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": totals["rows"],
                "source_rows": totals["source_rows"],
                "lake_folder": dg.MetadataValue.path(str(settings.lake_dir / dataset.source / dataset.name)),
            }
        )

    return bronze


def build_raw_asset(dataset: Dataset) -> dg.AssetsDefinition:
    """The dataset's daily raw asset: the day's lake rows validated into raw, the bad ones into quarantine."""

    @_daily_asset(
        key=raw_key(dataset),
        deps=[bronze_key(dataset)],
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
        reference = None
        if dataset.needs_reference:
            with gcx.connect("exchange") as exchange:
                reference = Reference.from_exchange(exchange)
        lake_dir = gcx.settings().lake_dir
        totals = {"raw_rows": 0, "quarantined_rows": 0, "source_rows": 0, "lake_rows": 0}
        with gcx.connect("warehouse") as conn:
            for day in run_days(context):
                result = load.load_partition(conn, dataset, day, lake_dir, reference)
                if result.quarantined_rows:
                    context.log.warning(
                        f"{dataset.table} {day}: {result.quarantined_rows} of {result.lake_rows} rows quarantined"
                    )
                for name in totals:
                    totals[name] += getattr(result, name)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": totals["raw_rows"],
                **{k: v for k, v in totals.items() if k != "raw_rows"},
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
            with gcx.connect("warehouse") as conn:
                outcomes = [
                    reconcile(conn, dataset, day, gcx.settings().lake_dir) for day in run_days(context)
                ]
            counts = ("source_rows", "lake_rows", "raw_rows", "quarantined_rows", "distinct_source_rows")
            return dg.AssetCheckResult(
                passed=all(outcome.passed for outcome in outcomes),
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(problem for outcome in outcomes for problem in outcome.problems)
                or None,
                metadata={
                    "days": len(outcomes),
                    **{name: sum(getattr(outcome, name) for outcome in outcomes) for name in counts},
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
