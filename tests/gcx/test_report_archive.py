"""The report archive's layout, listing and safe paths (files only: no database)."""

import os
from datetime import date
from pathlib import Path

import pytest

from gcx.reports import archive
from gcx.reports.archive import Period, ReportNameError, list_reports, parse_period, period_of, report_path
from gcx.settings import Settings


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def write_report(settings: Settings, period: Period, formats=("pdf", "xlsx", "csv")) -> Path:
    """A report as the builder writes it: staged, then published."""
    staged = archive.staging_dir(settings, period)
    for report_format in formats:
        (staged / archive.file_name(period, report_format)).write_bytes(b"%" + report_format.encode())
    return archive.publish(settings, period, staged)


@pytest.mark.parametrize(
    ("kind", "day", "name", "start", "end"),
    [
        ("daily", date(2026, 11, 18), "2026-11-18", date(2026, 11, 18), date(2026, 11, 18)),
        ("weekly", date(2026, 11, 18), "2026-W47", date(2026, 11, 16), date(2026, 11, 22)),
        ("weekly", date(2027, 1, 1), "2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        ("monthly", date(2024, 2, 10), "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("monthly", date(2026, 12, 31), "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("quarterly", date(2026, 11, 18), "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("quarterly", date(2026, 2, 1), "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_periods_are_named_and_parsed_back(kind, day, name, start, end):
    period = period_of(kind, day)
    assert (period.name, period.start, period.end) == (name, start, end)
    assert parse_period(kind, name) == period


@pytest.mark.parametrize(
    ("kind", "name"),
    [("daily", "2026-02-30"), ("weekly", "2026-W54"), ("monthly", "2026-13"), ("quarterly", "2026-Q5"),
     ("daily", "2026-W47"), ("hourly", "2026-11-18"), ("weekly", "2026-w47")],
)  # fmt: skip
def test_bad_period_names_are_refused(kind, name):
    with pytest.raises(ReportNameError):
        parse_period(kind, name)


def test_listing_shows_complete_reports_newest_first_with_their_facts(home):
    daily = period_of("daily", date(2026, 11, 18))
    weekly = period_of("weekly", date(2026, 11, 10))
    write_report(home, daily)
    write_report(home, weekly, formats=("pdf",))
    # what the listing must not show: a report being written, stray files and folders
    staged = archive.staging_dir(home, period_of("daily", date(2026, 11, 19)))
    (staged / archive.file_name(period_of("daily", date(2026, 11, 19)), "pdf")).write_bytes(b"half")
    (home.reports_dir / "daily" / "2026-11-18" / "notes.txt").write_text("stray")
    (home.reports_dir / "daily" / "latest").mkdir()
    (home.reports_dir / "hourly" / "2026-11-18").mkdir(parents=True)

    listed = list_reports(home)

    assert [(f.kind, f.period, f.format) for f in listed] == [
        ("daily", "2026-11-18", "csv"),
        ("daily", "2026-11-18", "pdf"),
        ("daily", "2026-11-18", "xlsx"),
        ("weekly", "2026-W46", "pdf"),
    ]
    pdf = listed[1]
    assert pdf.name == "daily/2026-11-18/gcx-compliance-daily-2026-11-18.pdf"
    assert (pdf.period_start, pdf.period_end) == (date(2026, 11, 18), date(2026, 11, 18))
    assert pdf.size_bytes == len(b"%pdf") and pdf.path.read_bytes() == b"%pdf"
    assert pdf.created_at.tzinfo is not None
    assert listed[0].path.name == "gcx-compliance-daily-2026-11-18-csv.zip"
    assert (listed[3].period_start, listed[3].period_end) == (date(2026, 11, 9), date(2026, 11, 15))
    assert all(report_path(home, f.name) == f.path.resolve() for f in listed)


def test_listing_of_an_empty_archive_is_empty(home):
    assert list_reports(home) == []


def test_republishing_a_period_replaces_its_report_whole(home):
    period = period_of("daily", date(2026, 11, 18))
    write_report(home, period)
    staged = archive.staging_dir(home, period)
    (staged / archive.file_name(period, "pdf")).write_bytes(b"%new")
    archive.publish(home, period, staged)

    listed = list_reports(home)
    assert [(f.format, f.path.read_bytes()) for f in listed] == [("pdf", b"%new")]
    assert list((home.reports_dir / archive.STAGING).iterdir()) == []


@pytest.mark.parametrize(
    "name",
    [
        "../secrets.pdf",
        "daily/../../pg/postgresql.conf",
        "daily/2026-11-18/../../../settings.py",
        "/etc/passwd",
        "daily/2026-11-18/notes.txt",
        "daily/2026-11-18/gcx-compliance-daily-2026-11-19.pdf",
        "daily/2026-11-18",
        "daily\\2026-11-18\\gcx-compliance-daily-2026-11-18.pdf",
        ".staging/daily-2026-11-18-x/gcx-compliance-daily-2026-11-18.pdf",
        "daily/2026-11-18/gcx-compliance-daily-2026-11-18.pdf\x00.txt",
        "",
    ],
)
def test_report_path_refuses_anything_but_an_archived_report(home, name):
    write_report(home, period_of("daily", date(2026, 11, 18)))
    with pytest.raises(ReportNameError):
        report_path(home, name)


def test_report_path_refuses_a_symlink_out_of_the_archive(home, tmp_path):
    period = period_of("daily", date(2026, 11, 18))
    folder = write_report(home, period, formats=("xlsx",))
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"%secret")
    os.symlink(outside, folder / archive.file_name(period, "pdf"))
    with pytest.raises(ReportNameError, match="outside"):
        report_path(home, f"daily/2026-11-18/{archive.file_name(period, 'pdf')}")


def test_report_path_of_a_valid_but_absent_report_is_not_found(home):
    write_report(home, period_of("daily", date(2026, 11, 18)), formats=("pdf",))
    with pytest.raises(FileNotFoundError):
        report_path(home, "daily/2026-11-18/gcx-compliance-daily-2026-11-18.xlsx")
    with pytest.raises(FileNotFoundError):
        report_path(home, "monthly/2026-11/gcx-compliance-monthly-2026-11.pdf")
