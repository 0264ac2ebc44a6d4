"""Compliance reports on the built platform: PDF sections and counts, XLSX/CSV rows, e-mail, schedules.

The PDF is read back with pypdf (an independent PDF parser, not the reportlab that wrote it); the
expected counts and rows are queried from the marts here, independently of the report's own queries.
Reports written into the shared platform's archive are removed at the end of the module.
"""

import csv
import io
import math
import shutil
import socket
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from openpyxl import load_workbook
from pypdf import PdfReader

from gcx import database
from gcx.reports import archive, pdf
from gcx.reports.build import generate_report
from gcx.reports.content import collect_report
from gcx.reports.mail import NOT_CONFIGURED
from gcx.reports.sections import SECTIONS, fetch_section
from gcx.settings import Settings
from gcx_pipelines.defs.reports import schedules
from gcx_pipelines.defs.reports.assets import REPORT_ASSETS, weekly_compliance_summary
from gcx_pipelines.defs.reports.schedules import REPORT_SCHEDULES, report_runs
from gcx_pipelines.resources import GcxResource
from tests.conftest import WORLD_DAYS, WORLD_START

SURVEILLANCE_NOT_AVAILABLE = "surveillance alerts not available: the scoring model has not run"

EXPECTED_ROWS = {
    # section -> (mart, the period condition): written here independently of sections.py
    "large_trades": ("compliance.fct_large_trades", "trade_date between %(start)s and %(end)s"),
    "position_limit_breaches": (
        "compliance.fct_position_limit_breaches",
        "breach_date between %(start)s and %(end)s",
    ),
    "surveillance_alerts": ("compliance.surveillance_alerts", "alert_date between %(start)s and %(end)s"),
    "kyc": ("compliance.dim_kyc_subjects", "kyc_status in ('failed', 'expired') or is_expiring"),
    "sanctions_hits": (
        "compliance.fct_sanctions_hits",
        "screening_result in ('potential_match', 'confirmed_match') and screened_date between %(start)s and %(end)s",
    ),
    "settlement_fails": (
        "marts.fct_settlements",
        "settlement_status = 'failed' and due_on between %(start)s and %(end)s",
    ),
}
DAILY_COUNTS = {
    # section -> the same figure from fct_compliance_daily, the mart the dashboards read
    "large_trades": "large_trade_count",
    "position_limit_breaches": "position_breach_count",
    "sanctions_hits": "sanctions_potential_match_count + sanctions_confirmed_match_count",
    "settlement_fails": "settlement_fail_count",
}


@pytest.fixture(scope="module")
def platform(built_platform: Settings):
    """The built platform, its report archive restored at the end (only what these tests added goes)."""
    before = (
        {path for path in built_platform.reports_dir.glob("*/*")}
        if built_platform.reports_dir.exists()
        else set()
    )
    existed = built_platform.reports_dir.exists()
    yield built_platform
    if not existed:
        shutil.rmtree(built_platform.reports_dir, ignore_errors=True)
        return
    for path in built_platform.reports_dir.glob("*/*"):
        if path not in before and path.parent.name != archive.STAGING:
            shutil.rmtree(path)


@pytest.fixture(scope="module")
def busy_days(platform: Settings) -> list[date]:
    """The two simulated days with the most compliance events (the report has something to show)."""
    with database.connect("warehouse", settings=platform) as conn:
        rows = conn.execute(
            """
            select compliance_date from compliance.fct_compliance_daily
            where compliance_date >= %s and compliance_date < %s
            order by large_trade_count + position_breach_count + settlement_fail_count desc, compliance_date
            limit 2
            """,
            (WORLD_START, WORLD_START + timedelta(days=WORLD_DAYS)),
        ).fetchall()
    assert len(rows) == 2, "the built platform has no compliance days"
    return sorted(row[0] for row in rows)


@pytest.fixture(scope="module")
def daily_run(platform: Settings, busy_days: list[date], no_smtp) -> dg.ExecuteInProcessResult:
    """`gcx materialize --job compliance_reports_job --start D1 --end D2` as launch.py runs it."""
    first, last = busy_days[0], busy_days[0] + timedelta(days=1)
    defs = dg.Definitions(
        assets=list(REPORT_ASSETS.values()),
        jobs=schedules.report_jobs,
        resources={"gcx": GcxResource(home=str(platform.home))},
    )
    return defs.resolve_job_def(schedules.REPORTS_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={
            ASSET_PARTITION_RANGE_START_TAG: first.isoformat(),
            ASSET_PARTITION_RANGE_END_TAG: last.isoformat(),
        },
    )


@pytest.fixture(scope="module")
def no_smtp():
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GCX_SMTP_HOST", raising=False)
        yield


def pdf_lines(path) -> list[str]:
    reader = PdfReader(path)
    return [line.strip() for page in reader.pages for line in page.extract_text().splitlines()]


def mart_rows(settings: Settings, key: str, columns: list[str], period) -> list[tuple]:
    table, condition = EXPECTED_ROWS[key]
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(
            f"select {', '.join('reasons::text' if c == 'reasons' else c for c in columns)} from {table} where {condition}",
            {"start": period.start, "end": period.end},
        ).fetchall()


def surveillance_table_exists(settings: Settings) -> bool:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute("select to_regclass('compliance.surveillance_alerts') is not null").fetchone()[0]


def xlsx_value(value):
    """A mart value as the XLSX holds it: numbers as float, dates and instants as naive UTC datetimes."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value


def same_cell(expected, written) -> bool:
    """Excel keeps an instant as a fraction of a day: to the millisecond, not the microsecond."""
    if isinstance(expected, datetime) and isinstance(written, datetime):
        return abs(expected - written) <= timedelta(milliseconds=1)
    if isinstance(expected, float) and isinstance(written, int | float):
        return math.isclose(expected, written, rel_tol=1e-12)
    return expected == written


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def test_the_range_run_makes_one_daily_report_per_day_and_records_no_email(daily_run, platform, busy_days):
    first = busy_days[0]
    days = [first, first + timedelta(days=1)]
    listed = {(f.kind, f.period, f.format) for f in archive.list_reports(platform)}
    assert {("daily", day.isoformat(), fmt) for day in days for fmt in ("pdf", "xlsx", "csv")} <= listed
    materializations = daily_run.asset_materializations_for_node("reports__daily_compliance_report")
    assert sorted(m.partition for m in materializations) == [d.isoformat() for d in days]
    metadata = materializations[0].metadata
    for day in days:
        assert metadata[day.isoformat()].value["e-mail"] == NOT_CONFIGURED


def test_daily_pdf_has_every_section_with_the_marts_counts(daily_run, platform, busy_days):
    day = busy_days[0]
    period = archive.period_of("daily", day)
    path = archive.report_path(platform, f"daily/{day}/{archive.file_name(period, 'pdf')}")
    lines = pdf_lines(path)
    text = "\n".join(lines)

    assert "GCX Daily compliance report" in text
    assert f"({day.isoformat()})" in text and "Africa/Accra" in text
    assert "Generated at:" in text and "Data freshness:" in text
    assert "Input quality: OK" in text or "Input quality: ATTENTION" in text
    with database.connect("warehouse", settings=platform) as conn:
        daily_counts = {
            key: conn.execute(
                f"select {expression} from compliance.fct_compliance_daily where compliance_date = %s", (day,)
            ).fetchone()[0]
            for key, expression in DAILY_COUNTS.items()
        }
        large = conn.execute(
            "select count(*) from compliance.fct_large_trades where trade_date = %s", (day,)
        ).fetchone()[0]
    assert large > 0, "pick a day with large trades so the table and chart are exercised"
    for number, spec in enumerate(SECTIONS, start=1):
        if spec.key == "surveillance_alerts" and not surveillance_table_exists(platform):
            assert f"{number}. Surveillance alerts: not available" in lines
            assert SURVEILLANCE_NOT_AVAILABLE in text
            continue
        expected = len(mart_rows(platform, spec.key, ["1"], period))
        assert f"{number}. {spec.title}: {expected}" in lines, f"{spec.key}: {expected} expected"
        if spec.key in DAILY_COUNTS:
            assert expected == daily_counts[spec.key]  # the figure the dashboards show, too
    assert f"1. Large trades: {large}" in lines
    assert sum(len(page.images) for page in PdfReader(path).pages) >= 1, "no chart in the PDF"


def test_daily_xlsx_and_csv_hold_exactly_the_marts_rows(daily_run, platform, busy_days):
    day = busy_days[0]
    period = archive.period_of("daily", day)
    folder = archive.report_dir(platform, period)
    workbook = load_workbook(folder / archive.file_name(period, "xlsx"), read_only=True)
    csvs = zipfile.ZipFile(folder / archive.file_name(period, "csv"))
    assert workbook.sheetnames == ["overview", *(spec.key for spec in SECTIONS)]
    assert sorted(csvs.namelist()) == sorted(f"{spec.key}.csv" for spec in SECTIONS)
    for spec in SECTIONS:
        sheet = list(workbook[spec.key].iter_rows(values_only=True))
        csv_rows = list(csv.reader(io.StringIO(csvs.read(f"{spec.key}.csv").decode())))
        if spec.key == "surveillance_alerts" and not surveillance_table_exists(platform):
            assert sheet == [("not_available",), (SURVEILLANCE_NOT_AVAILABLE,)]
            assert csv_rows == [["not_available"], [SURVEILLANCE_NOT_AVAILABLE]]
            continue
        columns = list(sheet[0])
        assert csv_rows[0] == columns
        expected = mart_rows(platform, spec.key, columns, period)
        written = sorted(sheet[1:], key=lambda row: row[0])  # the first column is the section's key
        assert len(written) == len(expected), spec.key
        for expected_row, written_row in zip(sorted(expected, key=lambda row: row[0]), written, strict=True):
            assert all(map(same_cell, map(xlsx_value, expected_row), written_row)), (
                expected_row,
                written_row,
            )
        assert sorted(tuple(map(csv_value, row)) for row in expected) == sorted(map(tuple, csv_rows[1:])), (
            spec.key
        )
    overview = dict(workbook["overview"].iter_rows(values_only=True))
    assert overview["period"] == day.isoformat()
    assert overview["large_trades count"] == len(mart_rows(platform, "large_trades", ["1"], period))


def test_weekly_summary_counts_the_whole_week(platform, busy_days, no_smtp):
    week = archive.period_of("weekly", busy_days[-1])
    result = dg.materialize(
        [weekly_compliance_summary],
        partition_key=week.start.isoformat(),
        resources={"gcx": GcxResource(home=str(platform.home))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    metadata = result.asset_materializations_for_node("reports__weekly_compliance_summary")[0].metadata
    assert metadata["e-mail"].value == NOT_CONFIGURED
    lines = pdf_lines(metadata["pdf"].value)
    text = "\n".join(lines)
    assert "GCX Weekly compliance summary" in text
    assert f"{week.name}: {week.start.isoformat()} to {week.end.isoformat()}" in text
    with database.connect("warehouse", settings=platform) as conn:
        week_large = conn.execute(
            "select sum(large_trade_count) from compliance.fct_compliance_daily where compliance_date between %s and %s",
            (week.start, week.end),
        ).fetchone()[0]
    assert f"1. Large trades: {week_large}" in lines
    for number, spec in enumerate(SECTIONS, start=1):
        if spec.key == "surveillance_alerts" and not surveillance_table_exists(platform):
            continue
        assert f"{number}. {spec.title}: {len(mart_rows(platform, spec.key, ['1'], week))}" in lines


def test_long_tables_say_how_many_rows_are_left_out(platform, busy_days, tmp_path, monkeypatch):
    period = archive.period_of("weekly", busy_days[-1])
    with database.connect("warehouse", settings=platform) as conn:
        report = collect_report(conn, period)
    monkeypatch.setattr(pdf, "MAX_TABLE_ROWS", 1)
    pdf.render_pdf(report, tmp_path / "report.pdf")
    text = " ".join(pdf_lines(tmp_path / "report.pdf"))
    long_sections = [s for s in report.sections if (s.count or 0) > 1]
    assert long_sections, "the week has no section with more than one row"
    for section in long_sections:
        assert f"{section.count - 1} more rows in the CSV/XLSX (sheet {section.spec.key})" in text


def test_a_missing_alerts_table_is_reported_as_not_available_never_as_zero(platform, busy_days, tmp_path):
    period = archive.period_of("daily", busy_days[0])
    spec = next(s for s in SECTIONS if s.key == "surveillance_alerts")
    with database.connect("warehouse", settings=platform) as conn:
        report = collect_report(conn, period)
        missing = fetch_section(conn, replace(spec, table="compliance.no_such_alerts_table"), period)
    assert (missing.available, missing.count, missing.note) == (False, None, SURVEILLANCE_NOT_AVAILABLE)
    report = replace(report, sections=[missing if s.spec.key == spec.key else s for s in report.sections])
    pdf.render_pdf(report, tmp_path / "report.pdf")
    lines = pdf_lines(tmp_path / "report.pdf")
    assert "3. Surveillance alerts: not available" in lines
    assert SURVEILLANCE_NOT_AVAILABLE in " ".join(lines)
    assert "3. Surveillance alerts: 0" not in lines


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            (
                envelope.mail_from,
                envelope.rcpt_tos,
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_report_is_emailed_with_its_pdf_and_xlsx_to_a_real_smtp_server(platform, busy_days):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = Settings(
            home=platform.home,
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_sender="reports@gcx.test",
            smtp_recipients=["cco@gcx.test", "surveillance@gcx.test"],
        )
        generated = generate_report(settings, archive.period_of("daily", busy_days[-1]))
    finally:
        controller.stop()

    assert generated.delivery.startswith("e-mailed to cco@gcx.test, surveillance@gcx.test")
    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert (sender, recipients) == ("reports@gcx.test", ["cco@gcx.test", "surveillance@gcx.test"])
    assert message["Subject"] == f"GCX Daily compliance report {busy_days[-1].isoformat()}"
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in message.iter_attachments()}
    assert attachments == {
        generated.files["pdf"].name: generated.files["pdf"].read_bytes(),
        generated.files["xlsx"].name: generated.files["xlsx"].read_bytes(),
    }
    body = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_content()
    assert f"1. Large trades: {generated.report.sections[0].count}" in body


@pytest.mark.parametrize(
    ("kind", "cron", "fires_at", "partition"),
    [
        ("daily", "0 19 * * *", datetime(2026, 11, 18, 19, tzinfo=UTC), "2026-11-18"),
        ("weekly", "0 7 * * 1", datetime(2026, 11, 23, 7, tzinfo=UTC), "2026-11-16"),
        ("monthly", "0 7 1 * *", datetime(2026, 12, 1, 7, tzinfo=UTC), "2026-11-01"),
        ("quarterly", "0 7 1 1,4,7,10 *", datetime(2027, 1, 1, 7, tzinfo=UTC), "2026-10-01"),
    ],
)
def test_schedules_report_the_period_just_ended_on_accra_time(kind, cron, fires_at, partition):
    schedule = REPORT_SCHEDULES[kind]
    assert (schedule.cron_schedule, schedule.execution_timezone) == (cron, "Africa/Accra")
    request = schedule(dg.build_schedule_context(scheduled_execution_time=fires_at))
    assert request.partition_key == partition


def test_a_range_of_days_runs_the_daily_reports_and_the_periods_it_completes():
    assert report_runs(date(2024, 1, 8), date(2024, 2, 4)) == [
        ("compliance_reports_job", "2024-01-08", "2024-02-04"),
        ("weekly_compliance_summary_job", "2024-01-08", "2024-01-29"),
        ("monthly_compliance_summary_job", "2024-01-01", "2024-01-01"),
    ]
    assert report_runs(date(2026, 11, 18), date(2026, 11, 20)) == [
        ("compliance_reports_job", "2026-11-18", "2026-11-20")
    ]
    assert report_runs(date(2026, 9, 28), date(2026, 10, 4))[1:] == [
        ("weekly_compliance_summary_job", "2026-09-28", "2026-09-28"),
        ("monthly_compliance_summary_job", "2026-09-01", "2026-09-01"),
        ("quarterly_compliance_summary_job", "2026-07-01", "2026-07-01"),
    ]
