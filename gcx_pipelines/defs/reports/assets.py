"""The reports as partitioned Dagster assets, their jobs and their Africa/Accra schedules.

One asset per report kind, partitioned by its period: `daily_compliance_report` by day (the
platform's `daily_partitions`), the summaries by ISO week (Monday), month and quarter; a partition
key is the period's first day. A backfill over a range of partitions is one run (single-run
backfill policy) that writes one report per period.

Schedules (Africa/Accra = UTC): the daily report at 19:00, after the 18:00 warehouse build; the
weekly summary on Monday 07:00 for the previous week, the monthly on the 1st and the quarterly on
the 1st of January, April, July and October, each for the period that just ended.
"""

from datetime import date, timedelta

import dagster as dg

from gcx.reports import archive
from gcx.reports.archive import Period, ReportKind
from gcx.reports.build import generate_report
from gcx_pipelines.partitions import daily_partitions
from gcx_pipelines.resources import GcxResource

TIMEZONE = "Africa/Accra"
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

REPORTS_JOB = "compliance_reports_job"
"""The daily reports; `gcx materialize --job compliance_reports_job` also runs the summaries (report_runs)."""
JOB_NAMES: dict[ReportKind, str] = {
    "daily": REPORTS_JOB,
    "weekly": "weekly_compliance_summary_job",
    "monthly": "monthly_compliance_summary_job",
    "quarterly": "quarterly_compliance_summary_job",
}
REPORT_JOBS = {
    kind: dg.define_asset_job(
        JOB_NAMES[kind],
        selection=[REPORT_ASSETS[kind]],
        partitions_def=PARTITIONS[kind],
        description=f"The {kind} compliance reports of the selected partitions (one run for a range).",
    )
    for kind in REPORT_ASSETS
}

SCHEDULE_CRONS: dict[ReportKind, str] = {
    "daily": "0 19 * * *",
    "weekly": "0 7 * * 1",
    "monthly": "0 7 1 * *",
    "quarterly": "0 7 1 1,4,7,10 *",
}


def scheduled_period(kind: ReportKind, scheduled_on: date) -> Period:
    """The daily report is of its own day; a summary is of the period that ended the day before."""
    return archive.period_of(kind, scheduled_on if kind == "daily" else scheduled_on - timedelta(days=1))


def _report_schedule(kind: ReportKind) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{kind}_compliance_report_schedule",
        job=REPORT_JOBS[kind],
        cron_schedule=SCHEDULE_CRONS[kind],
        execution_timezone=TIMEZONE,
    )
    def report_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        period = scheduled_period(kind, context.scheduled_execution_time.date())
        return dg.RunRequest(run_key=f"{kind}-report-{period.name}", partition_key=period.start.isoformat())

    return report_schedule


REPORT_SCHEDULES = {kind: _report_schedule(kind) for kind in REPORT_ASSETS}


def report_runs(first: date, last: date) -> list[tuple[str, str, str]]:
    """The runs that make the reports of the days first..last: (job name, first and last partition key).

    The daily reports of every day, then for each summary kind the periods that end within the
    range (a period that ends later is not complete yet); kinds with no such period are left out.
    """
    runs = [(JOB_NAMES["daily"], first.isoformat(), last.isoformat())]
    for kind in ("weekly", "monthly", "quarterly"):
        periods = []
        period = archive.period_of(kind, first)
        while period.start <= last:
            if period.end <= last:
                periods.append(period)
            period = archive.period_of(kind, period.end + timedelta(days=1))
        if periods:
            runs.append((JOB_NAMES[kind], periods[0].start.isoformat(), periods[-1].start.isoformat()))
    return runs
