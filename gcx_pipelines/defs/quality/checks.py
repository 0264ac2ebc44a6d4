"""Dagster asset checks: Great Expectations on raw and bronze partitions, trades reconciled to the mart.

Asset keys are constants here, so this module loads without the ingestion or dbt modules.

Which partition a check looks at: Dagster gives every step of a partitioned run the run's partition
key, checks included, whether or not the check declares a `partitions_def`. So when the check runs
with its asset's partition (the ingestion jobs), it checks exactly that partition (or each day of a
partition range). When it runs without one (launched on its own from the UI, or after an
unpartitioned run), it checks the partitions loaded since it last checked them, from
raw.ingestion_log (at most `MAX_PARTITIONS_PER_RUN`, newest first), or else the latest loaded one.

`build_quality_checks(partitions_def=daily_partitions)` makes the raw and bronze checks partitioned
too, as ingestion's own reconciliation checks are (Dagster marks this preview): then the UI shows
their status per partition and can launch them for a chosen partition. Partitioned checks must be
loaded together with the assets they check and share their partitions definition, so the ones
the code location loads (`quality_checks`, no partitions_def) stay unpartitioned and load on their
own.
"""

import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import date

import dagster as dg
import psycopg

from gcx import clock
from gcx.quality.reconciliation import loaded_trade_days, reconcile_trades
from gcx.quality.results import record_check_result
from gcx.quality.suites import SUITES, DatasetSuite
from gcx.quality.validation import (
    SuiteResult,
    validate_bronze_partition,
    validate_raw_days,
)
from gcx_pipelines.partitions import run_days
from gcx_pipelines.resources import GcxResource

RAW_CHECK_NAME = "gx_suite"
BRONZE_CHECK_NAME = "gx_lake_file"
TRADES_RECONCILIATION_CHECK_NAME = "trades_reconciliation"
FCT_TRADES_ASSET_KEY = dg.AssetKey(["marts", "fct_trades"])  # dagster-dbt: [schema, model]
"""dagster-dbt's default key for the fct_trades model; change it here if the dbt assets get a prefix."""
MAX_PARTITIONS_PER_RUN = 31


def raw_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", dataset])


def bronze_asset_key(dataset: str) -> dg.AssetKey:
    return dg.AssetKey(["bronze", dataset])


def first_partition_day(context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey) -> date | None:
    """The first day of the checked asset's partitions, when the run's asset graph knows the asset."""
    graph = context.job_def.asset_layer.asset_graph
    if not graph.has(asset_key):
        return None
    partitions_def = graph.get(asset_key).partitions_def
    first = partitions_def.get_first_partition_key() if partitions_def is not None else None
    try:
        return date.fromisoformat(first) if first else None
    except ValueError:  # not a daily partitioning
        return None


def partitions_to_check(
    context: dg.AssetCheckExecutionContext,
    conn: psycopg.Connection,
    dataset: str,
    asset_key: dg.AssetKey,
    check_name: str,
) -> tuple[list[date], str]:
    """The days a check looks at and how they were chosen (see the module docstring)."""
    days = run_days(context) or None
    if days is not None:
        return days, "run partition"
    if conn.execute("select to_regclass('raw.ingestion_log')").fetchone()[0] is None:
        return [], "raw.ingestion_log does not exist"
    source, name = dataset.split("__", 1)
    has_results = conn.execute("select to_regclass('quality.check_results')").fetchone()[0] is not None
    unchecked = (
        """
        and not exists (select 1 from quality.check_results r
                        where r.asset_key = %(asset_key)s and r.check_name = %(check)s
                          and r.partition_date = l.partition_date and r.checked_at >= l.loaded_at)
        """
        if has_results
        else ""
    )
    params = {
        "source": source,
        "dataset": name,
        "asset_key": asset_key.to_user_string(),
        "check": check_name,
        "limit": MAX_PARTITIONS_PER_RUN,
    }
    base = "select l.partition_date from raw.ingestion_log l where l.source = %(source)s and l.dataset = %(dataset)s"
    rows = conn.execute(
        f"{base} {unchecked} order by l.partition_date desc limit %(limit)s", params
    ).fetchall()
    if rows:
        return sorted(row[0] for row in rows), "loaded since last checked (raw.ingestion_log)"
    rows = conn.execute(f"{base} order by l.loaded_at desc, l.partition_date desc limit 1", params).fetchall()
    return [row[0] for row in rows], "latest loaded (raw.ingestion_log)"


def _failure_text(result: SuiteResult) -> str:
    parts = []
    for failure in result.failures:
        seen = failure.observed
        if "error" in seen:
            why = seen["error"]
        elif seen.get("unexpected_count"):
            why = f"{seen['unexpected_count']} unexpected, e.g. {seen.get('examples')}"
        else:
            why = f"observed {seen.get('observed_value')}"
        parts.append(f"{failure.expectation} [{failure.severity}]: {why}")
    return "; ".join(parts)


def suite_check_result(results: Sequence[SuiteResult], how: str) -> dg.AssetCheckResult:
    """One Dagster result for the suite runs of a check: ERROR if a critical expectation failed."""
    if not results:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"nothing to check: no partition ({how})",
            metadata={"partition_source": how},
        )
    failing = [
        {"partition": r.partition_date.isoformat() if r.partition_date else None, **o.as_dict()}
        for r in results
        for o in r.failures
    ]
    critical = any(r.severity == "critical" for r in results)
    passed = sum(r.passed_count for r in results)
    total = sum(r.total for r in results)
    days = ", ".join(r.partition_date.isoformat() for r in results if r.partition_date)
    lines = [f"{r.suite} {r.partition_date}: {_failure_text(r)}" for r in results if not r.success]
    summary = f"{passed} of {total} expectations passed on {days} ({how})"
    return dg.AssetCheckResult(
        passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
        description="\n".join([summary, *lines]),
        metadata={
            "partitions": days,
            "partition_source": how,
            "rows": sum(r.rows for r in results),
            "expectations_passed": passed,
            "expectations_total": total,
            "failing_expectations": dg.MetadataValue.json(failing),
            "seconds": round(sum(r.seconds for r in results), 3),
        },
    )


def _record(
    conn, context, check_name: str, asset_key: dg.AssetKey, dataset: str, result: SuiteResult
) -> None:
    record_check_result(
        conn,
        check_name=check_name,
        asset_key=asset_key,
        dataset=dataset,
        partition_date=result.partition_date,
        passed=result.success,
        expectations_total=result.total,
        expectations_passed=result.passed_count,
        details=result.details(),
        run_id=context.run.run_id,
    )


def _record_error(conn, context, check_name: str, asset_key: dg.AssetKey, dataset: str, day, exc) -> None:
    """A check that could not run is a failed check for the catalog too."""
    conn.rollback()
    record_check_result(
        conn,
        check_name=check_name,
        asset_key=asset_key,
        dataset=dataset,
        partition_date=day,
        passed=False,
        details={"error": f"{type(exc).__name__}: {exc}"},
        run_id=context.run.run_id,
    )
    conn.commit()


def _check_days(
    context: dg.AssetCheckExecutionContext,
    conn: psycopg.Connection,
    check_name: str,
    asset_key: dg.AssetKey,
    dataset: str,
    validate: Callable[[list[date]], Iterable[SuiteResult]],
) -> dg.AssetCheckResult:
    """Validate the days the check covers (one result per day, in order), recording every result
    (or the error of the day that could not be checked) in quality.check_results."""
    days, how = partitions_to_check(context, conn, dataset, asset_key, check_name)
    results: list[SuiteResult] = []
    try:
        for result in validate(days):
            _record(conn, context, check_name, asset_key, dataset, result)
            conn.commit()  # kept even if a later day fails
            results.append(result)
    except Exception as exc:
        _record_error(conn, context, check_name, asset_key, dataset, days[len(results)], exc)
        raise
    return suite_check_result(results, how)


def build_raw_check(
    suite: DatasetSuite, partitions_def: dg.PartitionsDefinition | None = None
) -> dg.AssetChecksDefinition:
    """A blocking check running the dataset's suite on the raw partition(s) (see `partitions_to_check`)."""
    asset_key = raw_asset_key(suite.name)

    @dg.asset_check(
        asset=asset_key,
        name=RAW_CHECK_NAME,
        blocking=True,
        partitions_def=partitions_def,
        description=(
            f"Great Expectations suite of {suite.table} on the loaded partition: keys, enums, ranges, "
            "timestamps. Blocks everything downstream when it fails."
        ),
        metadata={"expectations": len(suite.all_expectations())},
    )
    def _raw_check(context: dg.AssetCheckExecutionContext, gcx: GcxResource) -> dg.AssetCheckResult:
        first_day = first_partition_day(context, asset_key)
        with gcx.connect("warehouse") as conn:
            return _check_days(
                context,
                conn,
                RAW_CHECK_NAME,
                asset_key,
                suite.name,
                lambda days: validate_raw_days(conn, suite, days, first_day),
            )

    return _raw_check


def build_bronze_check(
    suite: DatasetSuite, partitions_def: dg.PartitionsDefinition | None = None
) -> dg.AssetChecksDefinition:
    """A check on the lake file: the source's columns, and every row (raw rows + quarantined rows).

    It reads the counts the raw load leaves, so it runs after the raw asset (an additional dependency)
    and cannot block it: that would be a cycle.
    """
    asset_key = bronze_asset_key(suite.name)

    @dg.asset_check(
        asset=asset_key,
        name=BRONZE_CHECK_NAME,
        additional_deps=[raw_asset_key(suite.name)],
        partitions_def=partitions_def,
        description=(
            f"The lake's Parquet partition of {suite.name} has the source's columns and as many rows as "
            f"{suite.table} plus raw.quarantine hold for that day (Great Expectations)."
        ),
    )
    def _bronze_check(context: dg.AssetCheckExecutionContext, gcx: GcxResource) -> dg.AssetCheckResult:
        lake_dir = gcx.settings().lake_dir
        with gcx.connect("warehouse") as conn:
            return _check_days(
                context,
                conn,
                BRONZE_CHECK_NAME,
                asset_key,
                suite.name,
                lambda days: (validate_bronze_partition(conn, lake_dir, suite.name, day) for day in days),
            )

    return _bronze_check


def build_trades_reconciliation_check(
    asset_key: dg.AssetKey = FCT_TRADES_ASSET_KEY,
) -> dg.AssetChecksDefinition:
    """Per day: exchange source trades = trades in the mart + quarantined trades."""
    dataset = asset_key.path[-1]

    @dg.asset_check(
        asset=asset_key,
        name=TRADES_RECONCILIATION_CHECK_NAME,
        description=(
            "Per day of updated_at: trades in the exchange source = trades in marts.fct_trades + trades "
            "in raw.quarantine. Looks at the run's partition, else the last loaded days "
            f"(up to {MAX_PARTITIONS_PER_RUN}). A mismatch on today's still open day is only a warning."
        ),
    )
    def _trades_reconciliation(
        context: dg.AssetCheckExecutionContext, gcx: GcxResource
    ) -> dg.AssetCheckResult:
        with gcx.connect("warehouse") as warehouse, gcx.connect("exchange") as exchange:
            days = run_days(context) or None
            how = "run partition"
            if days is None:
                days, how = (
                    loaded_trade_days(warehouse, MAX_PARTITIONS_PER_RUN),
                    "last loaded days (raw.ingestion_log)",
                )
            first_day = first_partition_day(context, raw_asset_key("exchange__trades"))
            outcome = reconcile_trades(warehouse, exchange, days, first_day)
            for day in outcome:
                record_check_result(
                    warehouse,
                    check_name=TRADES_RECONCILIATION_CHECK_NAME,
                    asset_key=asset_key,
                    dataset=dataset,
                    partition_date=day.day,
                    passed=day.passed,
                    expectations_total=1,
                    expectations_passed=int(day.passed),
                    details=day.as_dict(),
                    run_id=context.run.run_id,
                )
        if not outcome:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description="no loaded trades partition to reconcile",
            )
        mismatched = [d for d in outcome if not d.passed]
        today = clock.today()
        closed_mismatch = [d for d in mismatched if d.day < today]
        text = "; ".join(
            f"{d.day}: source {d.source_trades} != mart {d.mart_trades} + quarantined {d.quarantined_trades}"
            for d in mismatched
        )
        return dg.AssetCheckResult(
            passed=not mismatched,
            severity=dg.AssetCheckSeverity.ERROR if closed_mismatch else dg.AssetCheckSeverity.WARN,
            description=text or f"{len(outcome)} day(s) reconcile ({how})",
            metadata={
                "days": len(outcome),
                "days_mismatched": len(mismatched),
                "partition_source": how,
                "source_trades": sum(d.source_trades for d in outcome),
                "mart_trades": sum(d.mart_trades for d in outcome),
                "quarantined_trades": sum(d.quarantined_trades for d in outcome),
                "mismatches": dg.MetadataValue.json([d.as_dict() for d in mismatched]),
            },
        )

    return _trades_reconciliation


def build_quality_checks(
    partitions_def: dg.PartitionsDefinition | None = None,
) -> list[dg.AssetChecksDefinition]:
    """Every quality check: a blocking suite per raw dataset, a lake-file check per bronze dataset,
    and the trades reconciliation on the mart."""
    with warnings.catch_warnings():
        # partitioned asset checks are "preview" in Dagster 1.13; the warning says only that
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return [
            *(build_raw_check(suite, partitions_def) for suite in SUITES),
            *(build_bronze_check(suite, partitions_def) for suite in SUITES),
            build_trades_reconciliation_check(),
        ]


quality_checks = build_quality_checks()
"""The checks the code location loads: unpartitioned, so they also run on their own (see above)."""
