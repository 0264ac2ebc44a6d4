"""Scheduled compliance reports: daily end-of-day report; weekly, monthly and quarterly summaries.

  sections.py      what a report contains: one query on the marts per section
  content.py       a report's content read in one snapshot: header (freshness, input quality) + sections
  charts.py        section charts (matplotlib, Agg)
  pdf.py           the PDF (reportlab): header, summary, per section a count, chart and table
  spreadsheets.py  every row: one XLSX (a sheet per section) and a zip of one CSV per section
  mail.py          SMTP delivery of the PDF and XLSX when GCX_SMTP_HOST is set
  build.py         generate_report: all of the above, archived atomically (gcx/reports/archive.py)
  assets.py        partitioned assets, jobs, Africa/Accra schedules, report_runs for day ranges

The archive's layout and listing live in gcx/reports/archive.py (standard library only, for the API).
No resources are bound here: the assets need the `gcx` resource (GcxResource) from definitions.py.
"""

import dagster as dg

from gcx_pipelines.defs.reports.assets import (
    JOB_NAMES,
    REPORT_ASSETS,
    REPORT_JOBS,
    REPORT_SCHEDULES,
    REPORTS_JOB,
    report_runs,
)

defs = dg.Definitions(
    assets=list(REPORT_ASSETS.values()),
    jobs=list(REPORT_JOBS.values()),
    schedules=list(REPORT_SCHEDULES.values()),
)

__all__ = ["JOB_NAMES", "REPORTS_JOB", "defs", "report_runs"]
