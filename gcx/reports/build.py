"""Make one report: read the marts, render PDF, XLSX and CSV, archive them atomically, e-mail them.

Plain Python (the Dagster assets and the benchmark call `generate_report`); every stage is timed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gcx import database
from gcx.reports import archive
from gcx.reports.archive import Period
from gcx.reports.content import Report, collect_report
from gcx.reports.mail import send_report
from gcx.reports.pdf import render_pdf, section_heading
from gcx.reports.spreadsheets import write_csv_zip, write_xlsx
from gcx.settings import Settings


@dataclass
class GeneratedReport:
    report: Report
    files: dict[str, Path]
    """Archived files by format (pdf, xlsx, csv)."""
    pdf_pages: int
    delivery: str
    timings: dict[str, float] = field(default_factory=dict)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    began = time.perf_counter()
    yield
    timings[stage] = time.perf_counter() - began


def generate_report(settings: Settings, period: Period, *, send: bool = True) -> GeneratedReport:
    """Build the report of a period, replace its archived version, and e-mail it when configured."""
    timings: dict[str, float] = {}
    with _timed(timings, "query marts"), database.connect("warehouse", settings=settings) as conn:
        report = collect_report(conn, period)
    staged = archive.staging_dir(settings, period)
    try:
        names = {fmt: archive.file_name(period, fmt) for fmt in archive.FORMAT_SUFFIXES}
        with _timed(timings, "PDF (charts + layout)"):
            pages = render_pdf(report, staged / names["pdf"])
        with _timed(timings, "XLSX + CSV"):
            write_xlsx(staged / names["xlsx"], report.sections, report.overview())
            write_csv_zip(staged / names["csv"], report.sections)
        with _timed(timings, "archive"):
            folder = archive.publish(settings, period, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    files = {fmt: folder / name for fmt, name in names.items()}
    delivery = "not e-mailed: sending disabled by the caller"
    if send:
        with _timed(timings, "e-mail"):
            delivery = send_report(settings, *email_text(report), attachments=[files["pdf"], files["xlsx"]])
    return GeneratedReport(report=report, files=files, pdf_pages=pages, delivery=delivery, timings=timings)


def email_text(report: Report) -> tuple[str, str]:
    """Subject and body: the counts, so the e-mail is useful before the PDF is opened."""
    subject = f"{report.title} {report.period.name}"
    lines = [
        f"{report.title}, {report.period_label}.",
        f"Input quality: {report.quality_label}.",
        f"Data freshness: {report.freshness_label}.",
        "",
        *(section_heading(number, section) for number, section in enumerate(report.sections, start=1)),
        "",
        "The PDF and the XLSX (every row, one sheet per section) are attached.",
    ]
    return subject, "\n".join(lines)
