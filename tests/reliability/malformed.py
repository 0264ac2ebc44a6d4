"""The corpus of malformed records for the bad-input tests: generated from the sources' contract
(gcx/ingestion/datasets.py, docs/sources.md), never stored as binary files.

Each case is a record (a file line, an exchange row, a feed message or an import file) with the
fault it carries and a fragment of the reason the platform must give for it.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from gcx.ingestion.datasets import DATASETS_BY_TABLE, Dataset
from gcx.ingestion.validate import Column


@dataclass(frozen=True)
class Bad:
    """One malformed record and a fragment of the quarantine reason (or refusal) it must produce."""

    fault: str
    record: bytes | str
    reason: str


# ---------------------------------------------------------------------------------------------
# File drops: one good record per dataset; every bad line is a variant of it

REFERENCE_SQL = """
insert into warehouses values ('EJ', 'Ejura', 'Ashanti', 30000, '2023-01-01');
insert into instruments (instrument_id, symbol, commodity_code, tick_size_ghs, lot_size_t, listed_on,
                         delisted_on, updated_at) values
    (1, 'GEJWM1', 'WM', 0.5, 50, '2019-01-01', null, '2023-01-01'),
    (2, 'GEJWM4', 'WM', 0.5, 50, '2019-01-01', '2024-01-15', '2023-01-01');
insert into members values
    ('MBR0001', 'Ejura Grains', 'trader', '2019-01-01', 'active', null, null, '2023-01-01'),
    ('MBR0002', 'Volta Brokers', 'broker', '2019-01-01', 'active', null, null, '2023-01-01');
insert into beneficial_owners (owner_id, full_name, country, updated_at) values ('BO000001', 'Ama', 'GH', '2023-01-01');
"""
"""Reference data the drop rules check against (known members, owners, instruments)."""


def good_record(dataset: Dataset, day: date, number: int) -> dict[str, str | None]:
    """A record of `dataset` that passes every rule, with id `G<number>`."""
    at = f"{day.isoformat()}T09:30:00Z"
    records = {
        "kyc_checks": dict(subject_type="member", subject_id="MBR0001", check_type="identity", status="passed",
                           checked_at=at, expires_on="2030-01-01"),
        "sanctions_screening": dict(subject_type="beneficial_owner", subject_id="BO000001", list_name="UN",
                                    screened_at=at, result="clear", match_score="0.12"),
        "regulatory_filings": dict(member_id="MBR0001", filing_type="annual_return", period_end="2023-12-31",
                                   due_on="2024-03-31", filed_at=at, status="filed"),
        "position_limits": dict(member_id="MBR0001", commodity_code="WM", max_net_position_t="500.000",
                                effective_from="2024-01-01", effective_to=None),
        "users": dict(email="a@example.gh", full_name="Ama Mensah", phone="+233200000000", country="GH",
                      member_id="MBR0001", role="trader", signed_up_at=at),
        "subscriptions": dict(user_id="U1", plan="pro", event="start", occurred_at=at, price_ghs_per_month="1500"),
        "api_usage": dict(user_id="U1", endpoint="/v1/trades", requested_at=at, status_code="200", rows="10",
                          bytes="2048", latency_ms="12.5"),
        "app_sessions": dict(user_id="U1", platform="web", started_at=at, ended_at=f"{day.isoformat()}T09:45:00Z",
                             pages_viewed="3"),
    }  # fmt: skip
    return {dataset.key: f"G{number}", **records[dataset.name]}


def _type_phrase(column: Column) -> str:
    """The start of the reason a value of the wrong type gets (validate._type_phrase)."""
    kind = column.type
    if pa.types.is_integer(kind):
        return "be a whole number"
    if pa.types.is_decimal(kind):
        return "be a number below"
    if pa.types.is_floating(kind):
        return "be a finite number"
    if pa.types.is_timestamp(kind):
        return "be an ISO-8601 timestamp"
    if pa.types.is_date(kind):
        return "be a date"
    return "be text without NUL"


def _wrong_values(column: Column) -> list[tuple[str, str]]:
    """(fault, value) pairs of the wrong type or out of range for `column`."""
    kind = column.type
    if pa.types.is_integer(kind):
        return [("wrong_type", "abc"), ("wrong_type", "1.5"), ("huge_value", "9" * 30), ("nan", "NaN")]
    if pa.types.is_decimal(kind) or pa.types.is_floating(kind):
        values = [("wrong_type", "n/a"), ("wrong_type", "1,5"), ("huge_value", "1e400"), ("nan", "NaN"),
                  ("infinity", "Infinity"), ("infinity", "-inf")]  # fmt: skip
        # a double PostgreSQL refuses; numeric rounds the same text to 0
        return values + ([("underflow", "1e-400")] if pa.types.is_floating(kind) else [])
    if pa.types.is_timestamp(kind):
        return [("wrong_type", "31/12/2024"), ("wrong_type", "2024-02-30T10:00:00Z"),
                ("no_offset", "2024-02-06T10:00:00"), ("year_0000", "0000-01-01T00:00:00Z"),
                ("offset_out_of_range", "2024-02-06T10:00:00+16:00"),
                ("offset_out_of_range", "0001-01-01T00:00:00+01:00")]  # fmt: skip
    if pa.types.is_date(kind):
        return [("wrong_type", "31/12/2024"), ("wrong_type", "2024-13-01"), ("year_0000", "0000-01-01")]
    return [("nul", "x\x00y")]


def _range_faults(dataset: Dataset, day: date) -> list[tuple[str, str, str, str]]:
    """(fault, column, value, reason) for values of the right type that break a rule."""
    faults = []
    for column in dataset.columns:
        if pa.types.is_timestamp(column.type) and column.ge is not None:
            faults.append(("timestamp_out_of_range", column.name, "1970-01-01T00:00:00Z", "must be >="))
        if column.not_after_next_day:
            faults.append(
                ("timestamp_out_of_range", column.name, "2099-12-31T23:59:59Z", "must be no later than")
            )
        if column.one_of:
            faults.append(("unknown_value", column.name, "UNKNOWN", "must be one of"))
        if column.known:
            faults.append(("unknown_reference", column.name, "MBR9999", f"must be a known {column.known}"))
        if column.gt is not None or (column.ge is not None and not pa.types.is_temporal(column.type)):
            negative = "-1" if pa.types.is_integer(column.type) else "-12.5"
            faults.append(("negative", column.name, negative, "must be >"))
    if dataset.name in ("kyc_checks", "sanctions_screening"):
        faults.append(
            ("unknown_reference", "subject_id", "BO999999", "must be a known member or beneficial owner")
        )
    return faults


def drop_records(dataset: Dataset, day: date) -> tuple[list[dict], list[tuple[str, dict, str]]]:
    """Good records, and (fault, record, reason) for every field-level fault of the dataset."""
    good = [good_record(dataset, day, n) for n in range(1, 4)]
    bad = []
    number = 0

    def variant(**changes) -> dict:
        nonlocal number
        number += 1
        return good_record(dataset, day, 0) | {dataset.key: f"B{number}"} | changes

    for column in dataset.columns:
        if column.name == dataset.key:
            continue
        for fault, value in _wrong_values(column):
            bad.append(
                (fault, variant(**{column.name: value}), f"{column.name}: must {_type_phrase(column)}")
            )
        if column.required:
            bad.append(("missing_field", variant(**{column.name: None}), f"{column.name}: must not be empty"))
    for fault, name, value, reason in _range_faults(dataset, day):
        bad.append((fault, variant(**{name: value}), f"{name}: {reason}"))
    bad.append(("duplicate_id", dict(good[0]), f"{dataset.key}: must be unique in the partition"))
    # valid oddities the readers must keep intact: any Unicode, quotes, a huge id
    good.append(good_record(dataset, day, 90) | {dataset.key: "G90 \u00e9\u2028\u4e2d\U0001f33d\"'\\"})
    good.append(good_record(dataset, day, 91) | {dataset.key: "G91" + "x" * 100_000})
    return good, bad


def _csv_line(dataset: Dataset, record: dict) -> bytes:
    fields = []
    for column in dataset.columns:
        value = record.get(column.name)
        text = "" if value is None else str(value)
        if any(c in text for c in ',"\n\r') or text != text.strip():
            text = '"' + text.replace('"', '""') + '"'
        fields.append(text)
    return ",".join(fields).encode("utf-8", "surrogateescape")


def _json_line(dataset: Dataset, record: dict) -> bytes:
    body = {}
    for column in dataset.columns:
        value = record.get(column.name)
        numeric = not pa.types.is_string(column.type) and not pa.types.is_temporal(column.type)
        if numeric and value is not None:
            with contextlib.suppress(ValueError):  # numbers as JSON numbers, as the contract writes them
                value = json.loads(value)
        body[column.name] = value
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogateescape")


def drop_file(dataset: Dataset, day: date) -> tuple[bytes, list[bytes], list[Bad]]:
    """A landing file with good lines and every malformed line: (content, good lines, bad lines in
    file order). Line faults (truncation, encodings, column counts) come on top of the field faults."""
    good, bad = drop_records(dataset, day)
    line_of = _csv_line if dataset.file_format == "csv" else _json_line
    good_lines = [line_of(dataset, record) for record in good]
    # JSON has no text for a double that underflows: the generator would write 0.0, a valid value
    bad = [case for case in bad if dataset.file_format == "csv" or case[0] != "underflow"]
    bad_lines = [Bad(fault, line_of(dataset, record), reason) for fault, record, reason in bad]
    template = line_of(dataset, good_record(dataset, day, 0) | {dataset.key: "L0"})
    ids = iter(range(1, 1000))

    def line(**changes) -> bytes:
        return line_of(dataset, good_record(dataset, day, 0) | {dataset.key: f"L{next(ids)}"} | changes)

    text_column = next(
        c.name for c in dataset.columns if pa.types.is_string(c.type) and c.name != dataset.key
    )
    bad_lines += [
        Bad("invalid_utf8", line(**{text_column: "caf\udce9"}), "line: must be valid UTF-8"),  # latin-1 é
        Bad(
            "utf16_line",
            template.decode().encode("utf-16-le"),
            "NUL" if dataset.file_format == "csv" else "line:",
        ),
        Bad(
            "nul_byte", line().replace(b"L", b"L\x00", 1), "NUL" if dataset.file_format == "csv" else "line:"
        ),
        Bad("empty_line", b"", "line:"),
        Bad("binary_garbage", bytes(range(0x80, 0x100)), "line: must be valid UTF-8"),
    ]
    if dataset.file_format == "csv":
        cut = line()
        bad_lines += [
            Bad("missing_column", cut[: cut.rindex(b",")], "line: must have"),
            Bad("extra_column", line() + b",extra", "line: must have"),
            Bad("unclosed_quote", b'"' + line(), "line: must be well-formed CSV"),
            Bad("carriage_return", line().replace(b",", b"\r,", 1), "line: must be well-formed CSV"),
            Bad("field_too_large", line(**{dataset.key: "x" * 200_000}), "line: must be well-formed CSV"),
        ]
    else:
        record = json.loads(line())
        bad_lines += [
            Bad("broken_json", line()[:-7], "line: must be valid JSON"),
            Bad(
                "missing_field",
                json.dumps({k: v for k, v in record.items() if k != text_column}).encode(),
                "line: must have every field",
            ),
            Bad("extra_field", json.dumps(record | {"extra": 1}).encode(), "line: must have only the fields"),
            Bad("not_an_object", b"[1, 2, 3]", "line: must be a JSON object"),
            Bad("not_an_object", b"null", "line: must be a JSON object"),
            Bad("deep_nesting", b"[" * 50_000, "line: must be valid JSON"),
            Bad("bom_mid_file", b"\xef\xbb\xbf" + line(), "line: must be valid JSON"),
            Bad("lone_surrogate", line().replace(b"L", b"L\\ud800", 1), "lone surrogate"),
            Bad("wrong_json_type", json.dumps(record | {text_column: {"nested": [1]}}).encode(), ""),
        ]
        bad_lines = [b for b in bad_lines if b.reason]  # a nested object in a text field is its JSON text
    # the truncated line comes last: a drop cut off while written (no final newline)
    truncated = Bad("truncated_line", line()[: len(template) // 2], "line: must")
    header = (
        (",".join(c.name for c in dataset.columns) + "\n").encode() if dataset.file_format == "csv" else b""
    )
    lines = good_lines + [b.record for b in bad_lines]
    content = header + b"\n".join(lines) + b"\n" + truncated.record
    return content, good_lines, [*bad_lines, truncated]


def whole_file_faults(dataset: Dataset) -> list[tuple[str, bytes]]:
    """Files broken as a whole: (fault, content). Every physical line must be accounted for."""
    good = (
        _csv_line(dataset, good_record(dataset, date(2024, 2, 6), 1))
        if dataset.file_format == "csv"
        else (_json_line(dataset, good_record(dataset, date(2024, 2, 6), 1)))
    )
    header = (
        (",".join(c.name for c in dataset.columns) + "\n").encode() if dataset.file_format == "csv" else b""
    )
    text = (header + good + b"\n").decode()
    return [
        ("empty_file", b""),
        ("header_only", header),
        ("utf16_file", text.encode("utf-16")),
        ("latin1_file", (header + good.replace(b"a", b"\xe0") + b"\n")),
        ("bom_file", b"\xef\xbb\xbf" + header + good + b"\n"),
        ("cr_line_ends", (header + good + b"\n").replace(b"\n", b"\r")),
        ("crlf_line_ends", (header + good + b"\n").replace(b"\n", b"\r\n")),
        ("nul_file", b"\x00" * 64),
        ("wrong_header", b"id,who,when\n" + good + b"\n"),
        ("no_final_newline", header + good),
    ]


# ---------------------------------------------------------------------------------------------
# Exchange tables: rows PostgreSQL's types allow but the contract does not

EXCHANGE_DAY = date(2024, 2, 7)
EXCHANGE_SQL = """
insert into trading_calendar values ('2024-02-07', true, null, '2024-02-07 10:00+00', '2024-02-07 14:00+00');
insert into trades (trade_id, instrument_id, executed_at, price_ghs_per_t, quantity_t, buyer_member_id,
                    seller_member_id, aggressor_side, updated_at) values
    ('TG1', 1, '2024-02-07 10:30+00', 3200.5, 50, 'MBR0001', 'MBR0002', 'buy', '2024-02-07 10:30+00'),
    ('TG2', 1, '2024-02-07 11:30+00', 3201, 50, 'MBR0002', 'MBR0001', null, '2024-02-07 11:30+00'),
    {bad_trades};
insert into members values
    ('MBR0010', 'Good, "quoted"\nand multi-line \u2028 name', 'bank', '2019-01-01', 'active', '', null, '2024-02-07 09:00+00'),
    ('MBR0011', repeat('x', 9 << 20), 'bank', '2019-01-01', 'active', null, null, '2024-02-07 09:00+00'),
    ('MBR0012', 'Bad status', 'bank', '2019-01-01', 'actif', null, null, '2024-02-07 09:00+00'),
    ('MBR0013', '', 'gardener', 'infinity', 'active', null, null, '2024-02-07 09:00+00'),
    ('MBR0014', 'BC member', 'bank', '0100-01-01 BC', 'active', null, null, '2024-02-07 09:00+00');
"""
BAD_TRADES = [
    # (fault, trade_id, executed_at, price, quantity, buyer, seller, instrument, reason)
    ("negative_price", "TB01", "'2024-02-07 10:31+00'", "-3200", "50", "'MBR0001'", "'MBR0002'", 1, "price_ghs_per_t: must be > 0"),
    ("zero_price", "TB02", "'2024-02-07 10:32+00'", "0", "50", "'MBR0001'", "'MBR0002'", 1, "price_ghs_per_t: must be > 0"),
    ("absurd_price", "TB03", "'2024-02-07 10:33+00'", "1000000000", "50", "'MBR0001'", "'MBR0002'", 1, "price_ghs_per_t: must be <"),
    ("nan_price", "TB04", "'2024-02-07 10:34+00'", "'NaN'", "50", "'MBR0001'", "'MBR0002'", 1, "price_ghs_per_t: must be a number (got 'NaN')"),
    ("null_quantity", "TB05", "'2024-02-07 10:35+00'", "3200", "null", "'MBR0001'", "'MBR0002'", 1, "quantity_t: must not be empty"),
    ("nan_quantity", "TB06", "'2024-02-07 10:36+00'", "3200", "'NaN'", "'MBR0001'", "'MBR0002'", 1, "quantity_t: must be a number"),
    ("infinite_timestamp", "TB07", "'infinity'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "executed_at: must be a timestamp in years 1-9999 (got 'infinity')"),
    ("infinite_timestamp", "TB08", "'-infinity'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "executed_at: must be a timestamp in years 1-9999"),
    ("bc_timestamp", "TB09", "'0044-03-15 10:00+00 BC'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "executed_at: must be a timestamp in years 1-9999"),
    ("year_10000", "TB10", "'10000-01-01 10:00+00'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "executed_at: must be a timestamp in years 1-9999"),
    ("timestamp_out_of_range", "TB11", "'1970-01-01 10:30+00'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "executed_at: must be >= 2000"),
    ("timestamp_out_of_range", "TB12", "'2099-02-07 10:30+00'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "executed_at: must be at most 1 day after updated_at"),
    ("outside_session", "TB13", "'2024-02-07 16:00+00'", "3200", "50", "'MBR0001'", "'MBR0002'", 1, "within its day's GCX trading session"),
    ("missing_counterparty", "TB14", "'2024-02-07 10:37+00'", "3200", "50", "null", "'MBR0002'", 1, "buyer_member_id: must be a known member"),
    ("unknown_member", "TB15", "'2024-02-07 10:38+00'", "3200", "50", "'MBR0001'", "'MBR9999'", 1, "seller_member_id: must be a known member"),
    ("delisted_instrument", "TB16", "'2024-02-07 10:39+00'", "3200", "50", "'MBR0001'", "'MBR0002'", 2, "instrument_id: must not be delisted"),
    ("huge_quantity", "TB17", "'2024-02-07 10:40+00'", "3200", "9999999999.9999", "'MBR0001'", "'MBR0002'", 1, ""),
]  # fmt: skip
"""Trades of EXCHANGE_DAY (updated_at = executed_at unless out of range). TB17 is a valid, extreme
quantity the schema allows: it must reach raw unchanged."""
BAD_MEMBERS = [
    ("wrong_value", "MBR0012", "status: must be one of"),
    ("wrong_value", "MBR0013", "registered_on: must be a date in years 1-9999 (got 'infinity')"),
    ("bc_date", "MBR0014", "registered_on: must be a date in years 1-9999"),
]


def exchange_sql() -> str:
    rows = []
    for fault, trade_id, at, price, quantity, buyer, seller, instrument, _ in BAD_TRADES:
        # updated_at is the true time of the write even when executed_at is corrupt (docs/sources.md)
        updated = "'2024-02-07 12:00+00'" if fault in CORRUPT_TIMES else at
        rows.append(
            f"('{trade_id}', {instrument}, {at}, {price}, {quantity}, {buyer}, {seller}, 'buy', {updated})"
        )
    return EXCHANGE_SQL.replace("{bad_trades}", ",\n    ".join(rows))


CORRUPT_TIMES = ("infinite_timestamp", "bc_timestamp", "year_10000", "timestamp_out_of_range")


# ---------------------------------------------------------------------------------------------
# Imported files (gcx import trades): refused as a whole, naming every row and column

IMPORT_HEADER = (
    b"trade_id,symbol,executed_at,price,quantity,buyer_member_id,seller_member_id,aggressor_side\n"
)
IMPORT_ROW = b"X{n},GEJWM1,2025-03-03T10:15:00Z,3150.5,50,MBR0001,MBR0002,buy\n"


def import_row(n: int, **changes: bytes) -> bytes:
    row = IMPORT_ROW.replace(b"{n}", str(n).encode())
    for old, new in changes.items():
        row = row.replace(old.encode(), new)
    return row


def import_files() -> list[Bad]:
    """(fault, file content, the refusal's problem fragment); the good row 1 precedes the bad row 2."""
    good = import_row(1)

    def with_row(**changes: bytes) -> bytes:
        return IMPORT_HEADER + good + import_row(2, **changes)

    return [
        Bad("wrong_type", with_row(**{"3150.5": b"abc"}), "row 2, column 'price': is not a finite number"),
        Bad("wrong_type", with_row(**{"2025-03-03T10:15:00Z": b"31/12/2024"}), "row 2, column 'executed_at'"),
        Bad("no_offset", with_row(**{"2025-03-03T10:15:00Z": b"2025-03-03T10:15:00"}), "row 2, column 'executed_at'"),
        Bad("year_0000", with_row(**{"2025-03-03T10:15:00Z": b"0000-03-03T10:15:00Z"}), "row 2, column 'executed_at'"),
        Bad("ns_overflow", with_row(**{"2025-03-03T10:15:00Z": b"9999999999999999999"}), "row 2, column 'executed_at'"),
        Bad("timestamp_out_of_range", with_row(**{"2025-03-03": b"2099-03-03"}), "row 2, column 'executed_at': is outside"),
        Bad("timestamp_out_of_range", with_row(**{"2025-03-03": b"1970-03-03"}), "row 2, column 'executed_at': is outside"),
        Bad("negative_price", with_row(**{"3150.5": b"-3"}), "row 2, column 'price': must be positive"),
        Bad("zero_quantity", with_row(**{",50,": b",0,"}), "row 2, column 'quantity': must be positive"),
        Bad("nan", with_row(**{"3150.5": b"NaN"}), "row 2, column 'price': is not a finite number"),
        Bad("infinity", with_row(**{"3150.5": b"inf"}), "row 2, column 'price'"),
        Bad("huge_value", with_row(**{"3150.5": b"1e12"}), "row 2, column 'price': is implausibly large"),
        Bad("too_many_decimals", with_row(**{"3150.5": b"3150.123456"}), "row 2, column 'price': has more than 4"),
        Bad("too_many_decimals", with_row(**{"3150.5": b"1e-7"}), "row 2, column 'price': has more than 4"),
        Bad("missing_field", with_row(**{"GEJWM1": b""}), "row 2, column 'symbol'"),
        Bad("empty_id", with_row(**{"X2": b""}), "row 2, column 'trade_id': is empty"),
        Bad("huge_id", with_row(**{"X2": b"X" * 5000}), "row 2, column 'trade_id': is longer than 255"),
        Bad("duplicate_id", IMPORT_HEADER + good + good, "row 2, column 'trade_id': appears more than once"),
        Bad("unknown_value", with_row(**{",buy": b",bid"}), "row 2, column 'aggressor_side'"),
        Bad("nul", with_row(**{"MBR0001": b"MBR\x000001"}), "row 2, column 'buyer_member_id': contains a NUL"),
        Bad("space_in_symbol", with_row(**{"GEJWM1": b"GEJ WM1"}), "row 2, column 'symbol'"),
        Bad("truncated_row", IMPORT_HEADER + good + b"X2,GEJWM1,2025-03-03T10:15:00Z,3150.5,5", "row 2: has 5 field(s)"),
        Bad("truncated_line", IMPORT_HEADER + good + b'X2,GEJWM1,"2025-03-03T10:1', "not a well-formed CSV file"),
        Bad("extra_column", IMPORT_HEADER + good + import_row(2)[:-1] + b",extra\n", "in line 3, saw 9"),
        Bad("missing_column", IMPORT_HEADER.replace(b"price,", b"") + good, "missing column(s): price"),
        Bad("extra_column", IMPORT_HEADER[:-1] + b",fee\n" + good[:-1] + b",1\n", "unexpected column(s): fee"),
        Bad("latin1", with_row(**{"MBR0001": b"MBR\xe9"}), "line 3: not UTF-8 text (byte 0xe9"),
        Bad("utf16", (IMPORT_HEADER + good).decode().encode("utf-16"), "line 1: not UTF-8 text"),
        Bad("empty_file", b"", "the file is empty"),
        Bad("header_only", IMPORT_HEADER, "the file has a header but no trades"),
        Bad("binary_garbage", bytes(range(256)), "not UTF-8 text"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Live feed messages

FEED_DAY = date(2024, 2, 9)
FEED_TRADE = {
    "type": "trade", "trade_id": "F{n}", "symbol": "GEJWM1", "executed_at": "2024-02-09T11:04:05.123456Z",
    "price_ghs_per_t": 3412.5, "quantity_t": 100, "aggressor_side": "buy",
    "buyer_member_id": "MBR0001", "seller_member_id": "MBR0002",
}  # fmt: skip
FEED_SQL = "insert into trading_calendar values ('2024-02-09', true, null, '2024-02-09 00:00+00', '2024-02-09 23:59+00')"


def feed_message(n: int, **changes) -> str:
    body = {**FEED_TRADE, "trade_id": f"F{n}"} | changes
    return json.dumps({k: v for k, v in body.items() if v is not ...})


def feed_messages() -> tuple[list[str], list[Bad]]:
    """Good messages and bad ones (interleaved by the test in this order: good, bad, good, bad...)."""
    good = [feed_message(n) for n in range(1, 4)]
    n = iter(range(100, 1000))
    bad = [
        Bad("broken_json", feed_message(next(n))[:-10], "must be a JSON object (got broken JSON"),
        Bad("not_an_object", "[1, 2]", "message: must be a JSON object (got list)"),
        Bad("not_a_trade", feed_message(next(n), type="quote"), "type: must be trade"),
        Bad("missing_field", feed_message(next(n), price_ghs_per_t=...), "price_ghs_per_t: must not be empty"),
        Bad("unknown_symbol", feed_message(next(n), symbol="GXXWM9"), "symbol: must be a listed instrument"),
        Bad("negative_price", feed_message(next(n), price_ghs_per_t=-5), "price_ghs_per_t: must be > 0"),
        Bad("wrong_type", feed_message(next(n), quantity_t="abc"), "quantity_t: must be a number"),
        Bad("wrong_type", feed_message(next(n), trade_id=12), "trade_id: must be a JSON string"),
        Bad("nan", feed_message(next(n)).replace("3412.5", "NaN"), "price_ghs_per_t: must be a number"),
        Bad("infinity", feed_message(next(n)).replace("3412.5", "1e400"), "price_ghs_per_t: must be a number"),
        Bad("huge_value", feed_message(next(n), quantity_t=10**20), "quantity_t: must be a number below"),
        Bad("too_small", feed_message(next(n), price_ghs_per_t=1e-7), "price_ghs_per_t: must be > 0"),
        Bad("timestamp_out_of_range", feed_message(next(n), executed_at="1970-01-01T11:00:00Z"), "executed_at: must be >="),
        Bad("timestamp_out_of_range", feed_message(next(n), executed_at="0000-01-01T11:00:00Z"), "executed_at: must be an ISO-8601"),
        Bad("no_offset", feed_message(next(n), executed_at="2024-02-09T11:00:00"), "executed_at: must be an ISO-8601"),
        Bad("unknown_member", feed_message(next(n), seller_member_id="MBR9999"), "seller_member_id: must be a known member"),
        Bad("duplicate_trade_id", feed_message(1), "trade_id: must be unique on the feed"),
        Bad("nul", feed_message(next(n), trade_id="F\x00"), "trade_id: must be text without NUL"),
        Bad("lone_surrogate", feed_message(next(n)).replace('"MBR0001"', '"M\\ud800"'), "lone surrogate"),
        Bad("deep_nesting", "[" * 50_000, "must be a JSON object (got broken JSON"),
        Bad("empty", "", "must be a JSON object (got broken JSON"),
    ]  # fmt: skip
    return good, bad


def dataset(table: str) -> Dataset:
    return DATASETS_BY_TABLE[table]


# ---------------------------------------------------------------------------------------------
# Running the corpus through the platform (the assets as `gcx materialize` runs them)


def reset_exchange(settings) -> None:
    """An exchange source with its schema, no rows, and the reference data of REFERENCE_SQL."""
    from gcx import database, exchange_source

    with database.connect("exchange", settings=settings) as conn:
        exchange_source.ensure_schema(conn)
        tables = [
            row[0] for row in conn.execute("select tablename from pg_tables where schemaname = 'public'")
        ]
        conn.execute(f"truncate {', '.join(tables)} restart identity cascade")
        conn.execute(REFERENCE_SQL)


def materialize(settings, tables: list[str], first: date, last: date | None = None):
    """Bronze, raw and the reconciliation check of `tables` for the days first..last, in one run
    (the assets' single-run backfill), without raising: a failed run is a finding, not an error."""
    import dagster as dg

    from gcx_pipelines.defs.ingestion.assets import (
        build_bronze_asset,
        build_raw_asset,
        build_reconciliation_check,
    )
    from gcx_pipelines.resources import GcxResource

    datasets = [DATASETS_BY_TABLE[table] for table in tables]
    definitions = [
        *(build_bronze_asset(d) for d in datasets),
        *(build_raw_asset(d) for d in datasets),
        *(build_reconciliation_check(d) for d in datasets),
    ]
    last = last or first
    tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }
    return dg.materialize(
        definitions, tags=tags, resources={"gcx": GcxResource(home=str(settings.home))}, raise_on_error=False
    )


def warehouse_rows(settings, query: str, *params) -> list[tuple]:
    from gcx import database

    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(query, params).fetchall()


def quarantine(settings, dataset: Dataset, day: date) -> dict[int, tuple[str | None, str]]:
    """source row -> (record key, reason) of the partition's quarantined rows."""
    rows = warehouse_rows(
        settings,
        "select source_row, record_key, reason from raw.quarantine "
        "where source = %s and dataset = %s and partition_date = %s",
        dataset.source,
        dataset.name,
        day,
    )
    return {row: (key, reason) for row, key, reason in rows}


def counts(settings, dataset: Dataset, day: date) -> tuple[int, int, int, int] | None:
    """(source, lake, raw, quarantined) rows as raw.ingestion_log holds them."""
    rows = warehouse_rows(
        settings,
        "select source_rows, lake_rows, raw_rows, quarantined_rows from raw.ingestion_log "
        "where source = %s and dataset = %s and partition_date = %s",
        dataset.source,
        dataset.name,
        day,
    )
    return rows[0] if rows else None
