"""The reports' jobs and their Africa/Accra schedules.

The daily report at 19:00, after the 18:00 warehouse build; the weekly summary on Monday 07:00 for
the previous week, the monthly on the 1st and the quarterly on the 1st of January, April, July and
October, each for the period that just ended. `report_runs` turns a range of days into the runs
that make their reports (`gcx materialize --job compliance_reports_job`).
"""

from datetime import date, timedelta

import dagster as dg

from gcx.reports import archive
from gcx.reports.archive import Period, ReportKind
from gcx_pipelines.defs.reports.assets import PARTITIONS, REPORT_ASSETS
from gcx_pipelines.partitions import TIMEZONE

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
report_jobs = list(REPORT_JOBS.values())  # module-level lists: what the code location loads
report_schedules = list(REPORT_SCHEDULES.values())


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
