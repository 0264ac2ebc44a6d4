"""The report as a PDF (reportlab, pure Python): header, summary of counts, then one page part per
section with its count, chart and table.

Long tables are cut at MAX_TABLE_ROWS with a line saying how many rows are left out and where they
are ("N more rows in the CSV/XLSX"), never silently.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from gcx.reports.charts import bar_chart_png
from gcx.reports.content import TIMEZONE_LABEL, Report
from gcx.reports.sections import Section, category_counts

MAX_TABLE_ROWS = 40
MAX_CELL_CHARS = 36
MAX_QUALITY_ROWS = 20
PAGE = landscape(A4)

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("ReportTitle", parent=_styles["Title"], fontSize=18, spaceAfter=6)
HEADING = ParagraphStyle("Section", parent=_styles["Heading2"], fontSize=13, spaceBefore=10, spaceAfter=4)
BODY = ParagraphStyle("Body", parent=_styles["BodyText"], fontSize=9, leading=12)
NOTE = ParagraphStyle("Note", parent=BODY, textColor=colors.HexColor("#a02020"))


def section_heading(number: int, section: Section) -> str:
    """``1. Large trades: 12`` (or ``: not available``): the line tests and readers look for."""
    count = "not available" if section.count is None else str(section.count)
    return f"{number}. {section.spec.title}: {count}"


def render_pdf(report: Report, path: Path) -> int:
    """Write the PDF and return its page count."""
    document = SimpleDocTemplate(
        str(path),
        pagesize=PAGE,
        leftMargin=1.2 * cm,
        rightMargin=1.2 * cm,
        topMargin=1.2 * cm,
        bottomMargin=1.4 * cm,
        title=f"{report.title} {report.period.name}",
        author="GCX data platform",
    )
    story: list[Flowable] = [*_header(report), *_summary(report)]
    for number, section in enumerate(report.sections, start=1):
        story += _section(number, section, report)

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(1.2 * cm, 0.7 * cm, f"{report.title} {report.period.name}")
        canvas.drawRightString(PAGE[0] - 1.2 * cm, 0.7 * cm, f"page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return document.page


def _header(report: Report) -> list[Flowable]:
    to_date = " (period to date)" if report.is_period_to_date and report.period.kind != "daily" else ""
    lines = [
        Paragraph(escape(report.title), TITLE),
        Paragraph(f"Period: {escape(report.period_label)}{to_date}", BODY),
        Paragraph(f"Time zone: {TIMEZONE_LABEL}", BODY),
        Paragraph(f"Generated at: {report.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC", BODY),
        Paragraph(f"Data freshness: {escape(report.freshness_label)}", BODY),
        Paragraph(
            f"Input quality: {escape(report.quality_label)}",
            BODY if report.quality_label.startswith("OK") else NOTE,
        ),
    ]
    problems = report.quality_problems
    if problems:
        rows = [["dataset", "day", "condition", "checks passed"]]
        rows += [
            [q.dataset, q.partition_date.isoformat(), q.condition, f"{q.checks_passed}/{q.checks_total}"]
            for q in problems[:MAX_QUALITY_ROWS]
        ]
        lines += [Spacer(1, 4), _table(rows)]
        if len(problems) > MAX_QUALITY_ROWS:
            lines.append(
                Paragraph(f"{len(problems) - MAX_QUALITY_ROWS} more dataset-days in the XLSX overview", BODY)
            )
    return lines


def _summary(report: Report) -> list[Flowable]:
    rows = [["section", "count"]]
    rows += [
        [section.spec.title, "not available" if section.count is None else str(section.count)]
        for section in report.sections
    ]
    return [Paragraph("Summary", HEADING), _table(rows)]


def _section(number: int, section: Section, report: Report) -> list[Flowable]:
    parts: list[Flowable] = [
        Paragraph(escape(section_heading(number, section)), HEADING),
        Paragraph(escape(section.spec.description), BODY),
    ]
    if not section.available:
        return [*parts, Paragraph(escape(section.note), NOTE)]
    if not section.rows:
        return [*parts, Paragraph("No rows in the period.", BODY)]
    counts = category_counts(section, report.period, through=report.marts_as_of)
    if len(counts) > 1:
        by = "day" if section.spec.date_column and report.period.days > 1 else section.spec.category_column
        png = bar_chart_png(counts, f"{section.spec.title} per {by.replace('_', ' ')}")
        parts.append(Image(BytesIO(png), width=24 * cm, height=24 * cm * 2.6 / 9.0))
    header = [textwrap.fill(column.replace("_", " "), 14) for column in section.columns]  # narrow columns
    rows = [header] + [[_cell(value) for value in row] for row in section.rows[:MAX_TABLE_ROWS]]
    parts.append(_table(rows, font_size=6))
    left_out = len(section.rows) - MAX_TABLE_ROWS
    if left_out > 0:
        parts.append(Paragraph(f"{left_out} more rows in the CSV/XLSX (sheet {section.spec.key})", BODY))
    return parts


def _table(rows: list[list[str]], font_size: float = 8) -> Table:
    table = Table(rows, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", font_size),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde6ee")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


def _cell(value: Any) -> str:
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if value.tzinfo else f"{value:%Y-%m-%d %H:%M:%S}"
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, Decimal | float):
        text = f"{value:,.2f}"
    elif isinstance(value, list | tuple):
        text = ", ".join(str(item) for item in value)
    else:
        text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"
