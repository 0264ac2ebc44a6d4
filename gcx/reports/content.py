"""A report's content, read from the warehouse in one transaction: header facts and sections.

The header says how far the data can be trusted: how fresh the marts are (the latest GCX trade
and the compliance marts' as-of date) and the quality of the inputs over the period, from
quality.dataset_daily_quality (each dataset and day: available, degraded or missing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg

from gcx import clock
from gcx.reports.archive import Period
from gcx.reports.sections import SECTIONS, Section, fetch_section, table_exists

TIMEZONE_LABEL = "Africa/Accra (UTC+0, no daylight saving)"


@dataclass(frozen=True)
class DatasetQuality:
    dataset: str
    partition_date: date
    condition: str
    checks_passed: int
    checks_total: int


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: datetime
    latest_trade_at: datetime | None
    marts_as_of: date | None
    quality: list[DatasetQuality] | None
    """Every dataset-day of the period; None when no quality results exist in the warehouse."""
    sections: list[Section]

    @property
    def title(self) -> str:
        kind = (
            "Daily compliance report"
            if self.period.kind == "daily"
            else f"{self.period.kind.title()} compliance summary"
        )
        return f"GCX {kind}"

    @property
    def period_label(self) -> str:
        if self.period.kind == "daily":
            return f"{self.period.start:%A %d %B %Y} ({self.period.name})"
        return f"{self.period.name}: {self.period.start.isoformat()} to {self.period.end.isoformat()}"

    @property
    def is_period_to_date(self) -> bool:
        """Generated before the period was over: a summary of the period so far."""
        return self.generated_at.date() <= self.period.end

    @property
    def freshness_label(self) -> str:
        trade = (
            f"{self.latest_trade_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
            if self.latest_trade_at
            else "none"
        )
        as_of = self.marts_as_of.isoformat() if self.marts_as_of else "not built"
        return f"latest GCX trade in the warehouse {trade}; compliance marts as of {as_of}"

    @property
    def quality_label(self) -> str:
        """One line: all inputs checked and passed, or which dataset-days are degraded or missing."""
        if self.quality is None:
            return "UNKNOWN: no quality check results in the warehouse"
        if not self.quality:
            return "UNKNOWN: no quality check results for the period"
        problems = self.quality_problems
        checked = len(self.quality)
        if not problems:
            return f"OK: {checked} dataset-days checked, every check passed"
        degraded = sum(1 for q in problems if q.condition == "degraded")
        missing = sum(1 for q in problems if q.condition == "missing")
        return (
            f"ATTENTION: {degraded} dataset-days degraded and {missing} missing of {checked} (listed below)"
        )

    @property
    def quality_problems(self) -> list[DatasetQuality]:
        return [q for q in self.quality or [] if q.condition != "available"]

    def overview(self) -> list[tuple[str, object]]:
        """The header and the counts, as label-value pairs (the XLSX's overview sheet)."""
        lines: list[tuple[str, object]] = [
            ("report", self.title),
            ("kind", self.period.kind),
            ("period", self.period.name),
            ("period start", self.period.start),
            ("period end", self.period.end),
            ("time zone", TIMEZONE_LABEL),
            ("generated at (UTC)", self.generated_at),
            ("data freshness", self.freshness_label),
            ("input quality", self.quality_label),
        ]
        for section in self.sections:
            lines.append((f"{section.spec.key} count", section.count if section.available else section.note))
        return lines


def collect_report(conn: psycopg.Connection, period: Period, generated_at: datetime | None = None) -> Report:
    """Everything the report shows, read in one repeatable-read transaction (one consistent snapshot
    even if the warehouse is rebuilt meanwhile)."""
    conn.execute("set transaction isolation level repeatable read, read only")
    latest_trade_at = conn.execute(
        "select max(executed_at) from marts.fct_trades where venue = 'GCX'"
    ).fetchone()[0]
    marts_as_of = conn.execute("select max(compliance_date) from compliance.fct_compliance_daily").fetchone()[
        0
    ]
    quality = None
    if table_exists(conn, "quality.dataset_daily_quality"):
        quality = [
            DatasetQuality(*row)
            for row in conn.execute(
                """
                select dataset, partition_date, condition, checks_passed, checks_total
                from quality.dataset_daily_quality
                where partition_date between %s and %s
                order by partition_date, dataset
                """,
                (period.start, period.end),
            )
        ]
    sections = [fetch_section(conn, spec, period) for spec in SECTIONS]
    return Report(
        period=period,
        generated_at=generated_at or clock.now(),
        latest_trade_at=latest_trade_at,
        marts_as_of=marts_as_of,
        quality=quality,
        sections=sections,
    )
