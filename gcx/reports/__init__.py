"""Compliance reports: daily end-of-day report; weekly, monthly and quarterly summaries.

  sections.py      what a report contains: one query on the marts per section
  content.py       a report's content read in one snapshot: header (freshness, input quality) + sections
  charts.py        section charts (matplotlib, Agg)
  pdf.py           the PDF (reportlab): header, summary, per section a count, chart and table
  spreadsheets.py  every row: one XLSX (a sheet per section) and a zip of one CSV per section
  mail.py          SMTP delivery of the PDF and XLSX when GCX_SMTP_HOST is set
  build.py         generate_report: all of the above, archived atomically
  archive.py       the archive's layout and listing (standard library only, for the API)

Dagster's partitioned assets and schedules call generate_report (gcx_pipelines/defs/reports/).
"""
