"""File readers on broken drops: nothing crashes, every physical line is one row with its line number."""

from pathlib import Path

import pytest

from gcx.ingestion import extract
from gcx.ingestion.datasets import DATASETS_BY_TABLE

KYC = DATASETS_BY_TABLE["compliance__kyc_checks"]
SESSIONS = DATASETS_BY_TABLE["platform__app_sessions"]
KYC_HEADER = b"check_id,subject_type,subject_id,check_type,status,checked_at,expires_on\n"


def read(path: Path, dataset) -> list[dict]:
    rows = []
    for batch in extract.read_drop_lines(path, dataset.columns, dataset.file_format):
        rows += batch.to_pylist()
    return rows


def test_broken_csv_lines_are_rows_with_read_errors(tmp_path):
    path = tmp_path / "kyc_checks_2024-03-05.csv"
    path.write_bytes(
        KYC_HEADER
        + b"K1,member,MBR0001,identity,passed,2024-03-05T09:00:00Z,2025-03-05\n"  # line 2: good
        + b"K2,member,MBR0001,identity,passed\n"  # line 3: truncated
        + b'K3,member,"MBR0001,identity,passed,2024-03-05T09:00:00Z,2025-03-05\n'  # line 4: unclosed quote
        + b"K4,member,MBR\xff01,identity,passed,2024-03-05T09:00:00Z,\r\n"  # line 5: invalid UTF-8, CRLF
        + b"K5,member,MBR0002,identity,passed,2024-03-05T09:00:00Z,2025-03-05,extra\n"  # line 6
        + b"\n"  # line 7: empty
        + b"K6,beneficial_owner,BO1,address,pending,2024-03-05T09:00:00Z,"  # line 8: no final newline
    )
    rows = read(path, KYC)
    assert [row["_source_row"] for row in rows] == [2, 3, 4, 5, 6, 7, 8]
    errors = [row["_read_error"] for row in rows]
    assert errors[0] is None and errors[6] is None
    assert errors[1] == "line: must have 7 fields (got 5)"
    assert errors[2] == "line: must be well-formed CSV (unexpected end of data)"
    assert errors[3] == "line: must be valid UTF-8 (got byte 0xff at position 14)"
    assert errors[4] == "line: must have 7 fields (got 8)"
    assert errors[5] == "line: must have 7 fields (got 0)"
    assert rows[3]["check_id"] == "K4", "fields of a line with bad bytes are still read, for the record key"
    assert rows[3]["_line"] == b"K4,member,MBR\xff01,identity,passed,2024-03-05T09:00:00Z,"
    assert rows[6]["expires_on"] is None, "an empty CSV field is null"
    assert extract.count_lines(path) - 1 == len(rows)


def test_csv_columns_are_read_by_header_name(tmp_path):
    path = tmp_path / "kyc.csv"
    path.write_bytes(
        b"\xef\xbb\xbfsubject_type,check_id,subject_id,check_type,status,checked_at,expires_on\n"
        b"member,K1,MBR0001,identity,passed,2024-03-05T09:00:00Z,\n"
    )
    [row] = read(path, KYC)
    assert (row["check_id"], row["subject_type"], row["_read_error"]) == ("K1", "member", None)


def test_a_bad_header_marks_every_line(tmp_path):
    path = tmp_path / "kyc.csv"
    path.write_bytes(b"id,who\nK1,member\nK2,member\n")
    rows = read(path, KYC)
    assert [row["_source_row"] for row in rows] == [1, 2, 3], "the header itself is a row: see below"
    assert all(row["_read_error"].startswith("file: header must name the columns check_id") for row in rows)


def test_broken_json_lines_are_rows_with_read_errors(tmp_path):
    path = tmp_path / "app_sessions_2024-03-05.jsonl"
    good = b'{"session_id": "S1", "user_id": "U1", "platform": "web", "started_at": "2024-03-05T10:00:00Z", "ended_at": "", "pages_viewed": 3}'
    path.write_bytes(
        good
        + b"\n"
        + b'{"session_id": "S2", "user_id": "U1", "platform": "web"\n'  # truncated
        + b"[1, 2]\n"
        + b'{"session_id": "S3", "user_id": "U\xc3", "platform": "ios"}\n'  # invalid UTF-8
        + good.replace(b'"S1"', b'"S4"').replace(b"}", b', "colour": "red"}')
        + b"\n"  # unknown field
        + b'{"session_id": "S5", "user_id": "U\\ud800"}\n'  # lone surrogate escape
        + good.replace(b'"S1"', b'"S6"').replace(b"3}", b'"many"}')
        + b"\n"
        + b'{"session_id": "S7", "user_id": "U1"}\n'  # keys missing
    )
    rows = read(path, SESSIONS)
    assert [row["_source_row"] for row in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert rows[0]["_read_error"] is None
    assert rows[0]["pages_viewed"] == "3", "non-string JSON values are kept as their JSON text"
    assert rows[0]["ended_at"] is None, "an empty string in a non-text column is absent"
    assert rows[1]["_read_error"].startswith("line: must be valid JSON (")
    assert rows[2]["_read_error"] == "line: must be a JSON object (got list)"
    assert rows[3]["_read_error"] == "line: must be valid UTF-8 (got byte 0xc3 at position 35)"
    assert rows[4]["_read_error"].endswith("(got also colour)")
    assert rows[4]["session_id"] == "S4", "fields of a malformed record are kept for its record key"
    assert rows[5]["_read_error"] == "line: must be valid UTF-8 (got a lone surrogate \\u escape)"
    assert rows[6]["_read_error"] is None and rows[6]["pages_viewed"] == "many"
    assert (
        rows[7]["_read_error"]
        == "line: must have every field (missing platform, started_at, ended_at, pages_viewed)"
    )


def test_large_files_come_in_bounded_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(extract, "BATCH_ROWS", 10)
    path = tmp_path / "kyc.csv"
    path.write_bytes(KYC_HEADER + b"K,member,MBR0001,identity,passed,2024-03-05T09:00:00Z,\n" * 25)
    sizes = [b.num_rows for b in extract.read_drop_lines(path, KYC.columns, "csv")]
    assert sizes == [10, 10, 5]


@pytest.mark.parametrize(("content", "lines"), [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"\n\n", 2)])
def test_count_lines_counts_physical_lines(tmp_path, content, lines):
    path = tmp_path / "f"
    path.write_bytes(content)
    assert extract.count_lines(path) == lines


def test_a_missing_drop_is_an_empty_partition(tmp_path):
    rows = extract.drop_file(tmp_path / "absent.csv", "compliance/kyc_checks/absent.csv", KYC.columns, "csv")
    assert rows.source_rows == 0
    assert list(rows.batches) == []


def test_json_nested_too_deep_is_a_read_error_not_a_crash(tmp_path):
    """json.loads raises RecursionError (not ValueError) on deep nesting; it failed the bronze run."""
    path = tmp_path / "app_sessions.jsonl"
    path.write_bytes(b"[" * 100_000 + b"\n")
    [row] = read(path, SESSIONS)
    assert row["_read_error"].startswith("line: must be valid JSON (maximum recursion depth exceeded")


@pytest.mark.parametrize(
    "content",
    [
        # CR-only line ends: the whole file is one line, the header; its records used to vanish
        KYC_HEADER.replace(b"\n", b"\r") + b"K1,member,MBR0001,identity,passed,2024-03-05T09:00:00Z,\r",
        # a header the csv module cannot parse raised csv.Error out of the bronze run
        b'"check_id,subject_type\r"x\n',
        b"id,who\n",  # a wrong header and no data lines
    ],
)
def test_an_unreadable_header_is_a_quarantined_row(tmp_path, content):
    path = tmp_path / "kyc.csv"
    path.write_bytes(content)
    rows = read(path, KYC)
    assert rows[0]["_source_row"] == 1
    assert rows[0]["_read_error"].startswith("file: header must name the columns")
    assert extract.drop_file(path, "kyc.csv", KYC.columns, "csv").source_rows == len(rows)


def test_a_byte_order_mark_opening_a_json_lines_file_is_not_part_of_the_record(tmp_path):
    """A BOM quarantined the first record of every file a Windows tool wrote (CSV headers allowed it)."""
    path = tmp_path / "app_sessions.jsonl"
    line = b'{"session_id": "S1", "user_id": "U1", "platform": "web", "started_at": "2024-03-05T10:00:00Z", "ended_at": null, "pages_viewed": 3}'
    path.write_bytes(b"\xef\xbb\xbf" + line + b"\n\xef\xbb\xbf" + line + b"\n")
    first, second = read(path, SESSIONS)
    assert first["_read_error"] is None and first["_line"] == b"\xef\xbb\xbf" + line
    assert second["_read_error"].startswith("line: must be valid JSON"), "only the file's first bytes"
