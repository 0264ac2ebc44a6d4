"""The compliance-report archive under ``settings.reports_dir``: its layout, listing and safe paths.

Standard library only, so the API can list and serve reports without importing the report
builder (matplotlib, reportlab). The builder (gcx/reports/build.py) writes through
`staging_dir` and `publish` from here, so the layout is written down once.

Layout, one folder per report (kind and period), periods in Africa/Accra time (= UTC):

    <reports_dir>/daily/2026-11-18/gcx-compliance-daily-2026-11-18.pdf
                                   gcx-compliance-daily-2026-11-18.xlsx     one sheet per section
                                   gcx-compliance-daily-2026-11-18-csv.zip  one CSV per section
    <reports_dir>/weekly/2026-W47/...       ISO week, Monday to Sunday
    <reports_dir>/monthly/2026-11/...
    <reports_dir>/quarterly/2026-Q4/...
    <reports_dir>/.staging/                 reports being written (never listed)

A report is written whole in ``.staging/`` and then renamed into place, so the listing never sees
a half-written report; re-running a period replaces its folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from gcx.settings import Settings

ReportKind = Literal["daily", "weekly", "monthly", "quarterly"]
ReportFormat = Literal["pdf", "xlsx", "csv"]

KINDS: tuple[ReportKind, ...] = ("daily", "weekly", "monthly", "quarterly")
FORMAT_SUFFIXES: dict[ReportFormat, str] = {"pdf": ".pdf", "xlsx": ".xlsx", "csv": "-csv.zip"}
"""`csv` is a zip holding one CSV file per report section."""
STAGING = ".staging"

_PERIOD_PATTERNS: dict[ReportKind, re.Pattern[str]] = {
    "daily": re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    "weekly": re.compile(r"(\d{4})-W(\d{2})"),
    "monthly": re.compile(r"(\d{4})-(\d{2})"),
    "quarterly": re.compile(r"(\d{4})-Q([1-4])"),
}


class ReportNameError(ValueError):
    """A name that is not a report of the archive (unknown kind, bad period, traversal...)."""


@dataclass(frozen=True)
class Period:
    """A report's period: `start` to `end`, both days included."""

    kind: ReportKind
    start: date
    end: date

    @property
    def name(self) -> str:
        if self.kind == "daily":
            return self.start.isoformat()
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "monthly":
            return f"{self.start:%Y-%m}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class ReportFile:
    """One file of the archive; `name` is what `report_path` accepts (and what an API links to)."""

    name: str
    kind: ReportKind
    period: str
    period_start: date
    period_end: date
    format: ReportFormat
    path: Path
    size_bytes: int
    created_at: datetime


def period_of(kind: ReportKind, day: date) -> Period:
    """The period of a kind that contains `day` (weeks run Monday to Sunday)."""
    if kind == "daily":
        return Period(kind, day, day)
    if kind == "weekly":
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind == "monthly":
        start = day.replace(day=1)
    elif kind == "quarterly":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    else:
        raise ReportNameError(f"unknown report kind {kind!r}; expected one of {', '.join(KINDS)}")
    months = 1 if kind == "monthly" else 3
    next_month = start.month - 1 + months
    next_start = start.replace(year=start.year + next_month // 12, month=next_month % 12 + 1)
    return Period(kind, start, next_start - timedelta(days=1))


def parse_period(kind: str, name: str) -> Period:
    """The period named `name` (e.g. ``2026-W47``) of a report kind; ReportNameError if it is not one."""
    if kind not in _PERIOD_PATTERNS:
        raise ReportNameError(f"unknown report kind {kind!r}; expected one of {', '.join(KINDS)}")
    match = _PERIOD_PATTERNS[kind].fullmatch(name)
    if match is None:
        raise ReportNameError(f"{name!r} is not a {kind} period")
    year, number = int(match[1]), int(match[2])
    try:
        if kind == "daily":
            day = date(year, number, int(match[3]))
        elif kind == "weekly":
            day = date.fromisocalendar(year, number, 1)
        elif kind == "monthly":
            day = date(year, number, 1)
        else:
            day = date(year, (number - 1) * 3 + 1, 1)
    except ValueError as error:
        raise ReportNameError(f"{name!r} is not a {kind} period: {error}") from None
    period = period_of(kind, day)  # type: ignore[arg-type]
    if period.name != name:
        raise ReportNameError(f"{name!r} is not a {kind} period")
    return period


def file_name(period: Period, report_format: ReportFormat) -> str:
    return f"gcx-compliance-{period.kind}-{period.name}{FORMAT_SUFFIXES[report_format]}"


def report_dir(settings: Settings, period: Period) -> Path:
    return settings.reports_dir / period.kind / period.name


def list_reports(settings: Settings) -> list[ReportFile]:
    """Every complete report file in the archive, newest period first (then kind, then format).

    Only the archive's own names are listed: stray files, unknown folders and reports still being
    written (``.staging/``) are not.
    """
    found: list[ReportFile] = []
    for kind in KINDS:
        kind_dir = settings.reports_dir / kind
        if not kind_dir.is_dir():
            continue
        for folder in kind_dir.iterdir():
            try:
                period = parse_period(kind, folder.name)
            except ReportNameError:
                continue
            for report_format in FORMAT_SUFFIXES:
                path = folder / file_name(period, report_format)
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                found.append(
                    ReportFile(
                        name=f"{kind}/{period.name}/{path.name}",
                        kind=kind,
                        period=period.name,
                        period_start=period.start,
                        period_end=period.end,
                        format=report_format,
                        path=path,
                        size_bytes=stat.st_size,
                        created_at=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
    found.sort(key=lambda f: (-f.period_end.toordinal(), KINDS.index(f.kind), f.format))
    return found


def report_path(settings: Settings, name: str) -> Path:
    """The file of the archive named `name` (``<kind>/<period>/<file>``, as in ReportFile.name).

    Raises ReportNameError for anything that is not such a name (absolute paths, ``..``, other
    files, a symlink leading out of the archive) and FileNotFoundError when the report is absent.
    """
    parts = name.split("/")
    if len(parts) != 3 or "\\" in name or "\x00" in name:
        raise ReportNameError(f"{name!r} is not a report name (<kind>/<period>/<file>)")
    kind, period_name, base = parts
    period = parse_period(kind, period_name)
    if base not in {file_name(period, report_format) for report_format in FORMAT_SUFFIXES}:
        raise ReportNameError(f"{base!r} is not a file of the {period} report")
    archive = settings.reports_dir.resolve()
    path = (archive / kind / period_name / base).resolve()
    if not path.is_relative_to(archive):
        raise ReportNameError(f"{name!r} leads outside the report archive")
    if not path.is_file():
        raise FileNotFoundError(f"no report {name}")
    return path


def staging_dir(settings: Settings, period: Period) -> Path:
    """A new empty folder to write a report in before `publish` moves it into the archive."""
    root = settings.reports_dir / STAGING
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{period.kind}-{period.name}-", dir=root))


def publish(settings: Settings, period: Period, staged: Path) -> Path:
    """Move a fully written report folder into the archive, replacing the period's previous report.

    Renames within one file system: the listing shows the old report, then (for an instant) none,
    then the new one, and never a partly written one.
    """
    target = report_dir(settings, period)
    target.parent.mkdir(parents=True, exist_ok=True)
    replaced = None
    if target.exists():
        replaced = Path(tempfile.mkdtemp(prefix="replaced-", dir=staged.parent))
        os.replace(target, replaced / period.name)
    os.replace(staged, target)
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    return target
