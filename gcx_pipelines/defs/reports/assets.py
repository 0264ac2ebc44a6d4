"""The reports as partitioned Dagster assets (the reports themselves: gcx/reports/).

One asset per report kind, partitioned by its period: `daily_compliance_report` by day (the
platform's `daily_partitions`), the summaries by ISO week (Monday), month and quarter; a partition
key is the period's first day. A backfill over a range of partitions is one run (single-run
backfill policy) that writes one report per period. Jobs and schedules: schedules.py.
"""

from datetime import date

import dagster as dg

from gcx.reports import archive
from gcx.reports.archive import Period, ReportKind
from gcx.reports.build import generate_report
from gcx_pipelines.partitions import daily_partitions
from gcx_pipelines.resources import GcxResource

GROUP = "reports"
OWNERS = ["team:compliance"]
FIRST_DAY = "2024-01-01"  # a Monday, the first day of daily_partitions: every period starts on it or later

weekly_partitions = dg.WeeklyPartitionsDefinition(start_date=FIRST_DAY, day_offset=1, end_offset=1)
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_DAY, end_offset=1)
quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1,4,7,10 *", start=FIRST_DAY, fmt="%Y-%m-%d", end_offset=1
)
"""`end_offset=1`: the running period is a partition too, so a summary can be made to date."""

PARTITIONS: dict[ReportKind, dg.TimeWindowPartitionsDefinition] = {
    "daily": daily_partitions,
    "weekly": weekly_partitions,
    "monthly": monthly_partitions,
    "quarterly": quarterly_partitions,
}
MART_DEPS = [
    dg.AssetKey(["compliance", "fct_large_trades"]),
    dg.AssetKey(["compliance", "fct_position_limit_breaches"]),
    dg.AssetKey(["compliance", "dim_kyc_subjects"]),
    dg.AssetKey(["compliance", "fct_sanctions_hits"]),
    dg.AssetKey(["compliance", "fct_compliance_daily"]),
    dg.AssetKey(["marts", "fct_settlements"]),
    dg.AssetKey(["marts", "fct_trades"]),
    dg.AssetKey(["compliance", "surveillance_alerts"]),  # the ML domain's daily scores
]


def period_of_partition(kind: ReportKind, partition_key: str) -> Period:
    return archive.period_of(kind, date.fromisoformat(partition_key))


def _materialize_reports(
    context: dg.AssetExecutionContext, gcx: GcxResource, kind: ReportKind
) -> dg.MaterializeResult:
    settings = gcx.settings()
    metadata: dict[str, dg.RawMetadataValue] = {}
    rows = 0
    for key in context.partition_keys:
        period = period_of_partition(kind, key)
        generated = generate_report(settings, period)
        counts = {s.spec.key: s.count if s.available else s.note for s in generated.report.sections}
        rows += sum(s.count or 0 for s in generated.report.sections)
        context.log.info(f"{period}: {counts}; {generated.delivery}")
        metadata[period.name] = dg.MetadataValue.json(
            {
                "pdf": str(generated.files["pdf"]),
                "counts": counts,
                "input quality": generated.report.quality_label,
                "e-mail": generated.delivery,
            }
        )
    if len(context.partition_keys) == 1:
        metadata.update(
            {
                "pdf": dg.MetadataValue.path(str(generated.files["pdf"])),
                "xlsx": dg.MetadataValue.path(str(generated.files["xlsx"])),
                "csv": dg.MetadataValue.path(str(generated.files["csv"])),
                "pdf pages": generated.pdf_pages,
                "e-mail": generated.delivery,
                "input quality": generated.report.quality_label,
                "data freshness": generated.report.freshness_label,
            }
        )
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **metadata})


def _report_asset(kind: ReportKind, name: str, description: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        key_prefix=["reports"],
        group_name=GROUP,
        owners=OWNERS,
        kinds={"python", "pdf"},
        partitions_def=PARTITIONS[kind],
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=MART_DEPS,
        description=description,
    )
    def report_asset(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
        return _materialize_reports(context, gcx, kind)

    return report_asset


DESCRIPTION = (
    "as a PDF (header with data freshness and input quality, a count, chart and table per section), an XLSX "
    "(a sheet per section) and a zip of CSVs, archived in <GCX_HOME>/reports/{kind}/<period>/ and e-mailed "
    "when SMTP is configured. Sections: large trades, position-limit breaches, surveillance alerts, KYC "
    "expiring/expired/failed, sanctions hits, settlement fails."
)
daily_compliance_report = _report_asset(
    "daily",
    "daily_compliance_report",
    "The end-of-day compliance report of a day, " + DESCRIPTION.format(kind="daily"),
)
weekly_compliance_summary = _report_asset(
    "weekly",
    "weekly_compliance_summary",
    "The compliance summary of an ISO week (Monday to Sunday), " + DESCRIPTION.format(kind="weekly"),
)
monthly_compliance_summary = _report_asset(
    "monthly",
    "monthly_compliance_summary",
    "The compliance summary of a month, " + DESCRIPTION.format(kind="monthly"),
)
quarterly_compliance_summary = _report_asset(
    "quarterly",
    "quarterly_compliance_summary",
    "The compliance summary of a calendar quarter, " + DESCRIPTION.format(kind="quarterly"),
)
REPORT_ASSETS: dict[ReportKind, dg.AssetsDefinition] = {
    "daily": daily_compliance_report,
    "weekly": weekly_compliance_summary,
    "monthly": monthly_compliance_summary,
    "quarterly": quarterly_compliance_summary,
}
