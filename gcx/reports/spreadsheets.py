"""The underlying rows: one XLSX with a sheet per section, and a zip of one CSV per section.

Values are written as the marts hold them, with three conversions Excel and CSV need: instants
become naive UTC (Excel has no time zones; every instant in the platform is UTC), lists are joined
with ", " and JSON is written as JSON text. A section that is not available holds its reason
instead of rows, so an empty sheet always means "no rows in the period".
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from gcx.reports.sections import Section

NOT_AVAILABLE_HEADER = "not_available"


def cell_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def section_table(section: Section) -> tuple[list[str], list[list[Any]]]:
    """Header and rows as written to the sheet and the CSV."""
    if not section.available:
        return [NOT_AVAILABLE_HEADER], [[section.note]]
    return section.columns, [[cell_value(value) for value in row] for row in section.rows]


def write_xlsx(path: Path, sections: list[Section], overview: list[tuple[str, Any]]) -> None:
    """One sheet "overview" (the report's header and counts), then one sheet per section."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("overview")
    for label, value in overview:
        sheet.append([label, cell_value(value)])
    for section in sections:
        header, rows = section_table(section)
        sheet = workbook.create_sheet(section.spec.key)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def write_csv_zip(path: Path, sections: list[Section]) -> None:
    """`<section>.csv` per section, UTF-8 with a header row; instants as ISO 8601 UTC."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for section in sections:
            header, rows = section_table(section)
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(header)
            writer.writerows([_csv_value(value) for value in row] for row in rows)
            archive.writestr(f"{section.spec.key}.csv", text.getvalue())


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"  # naive UTC from cell_value
    return value
