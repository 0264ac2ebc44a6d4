"""Dated file drops (CSV for compliance, JSON lines for platform events), with injected faults.

A dataset is described once (``FileDataset``: its fields and their kinds); the same description
drives writing, fault injection and the documentation of what each file can carry. Files are built
in memory per day (they are small) and written as bytes, so a fault can put invalid UTF-8 in them.

Fault rules, one fault per bad line, each logged once with its file and 1-based physical line:

- CSV: wrong_column_count, truncated_line (only ever the last line of a file: a drop cut off while
  being written, with an unclosed quote and no final newline), wrong_type, missing_field,
  duplicate_id (an extra copy of an earlier line of the same file), timestamp_out_of_range,
  unknown_reference, invalid_utf8;
- JSONL: broken_json, wrong_type, missing_field (key absent), duplicate_id, timestamp_out_of_range,
  invalid_utf8.

Every timestamp of a clean record lies between 2000-01-01 and the end of the day after the file's
date; out-of-range ones are 1970-01-01 or 2099-12-31.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from gcx.simulator.faults import BadRecordLog
from gcx.simulator.market import UNKNOWN_MEMBER_ID

FieldKind = Literal[
    "id", "text", "enum", "timestamp", "date", "number", "integer", "member_ref", "subject_ref", "user_ref"
]
TYPED_KINDS = ("timestamp", "date", "number", "integer")
UNKNOWN_SUBJECT = {"member": UNKNOWN_MEMBER_ID, "beneficial_owner": "BO999999"}
WRONG_TYPE_VALUES = ("abc", "n/a", "31/12/2024")
OUT_OF_RANGE_TIMESTAMPS = ("1970-01-01T00:00:00", "2099-12-31T23:59:59")
SURROGATE_E_ACUTE = "\udce9"
"""Encoded with ``surrogateescape`` this becomes the lone byte 0xE9: Latin-1 'e acute' in a UTF-8 file."""

CSV_FAULTS = (
    "wrong_column_count", "truncated_line", "wrong_type", "missing_field", "duplicate_id",
    "timestamp_out_of_range", "unknown_reference", "invalid_utf8",
)  # fmt: skip
JSONL_FAULTS = (
    "broken_json",
    "wrong_type",
    "missing_field",
    "duplicate_id",
    "timestamp_out_of_range",
    "invalid_utf8",
)


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind
    required: bool = True
    """CSV: the value may not be empty. JSONL: the value may not be null (every key is always present)."""
    description: str = ""


@dataclass(frozen=True)
class FileDataset:
    source: Literal["compliance", "platform"]
    name: str
    fields: tuple[Field, ...]
    description: str = ""

    @property
    def format(self) -> str:
        return "csv" if self.source == "compliance" else "jsonl"

    def relative_path(self, day: date) -> str:
        """Path under the landing folder, e.g. compliance/kyc_checks/kyc_checks_2024-01-02.csv."""
        return f"{self.source}/{self.name}/{self.name}_{day.isoformat()}.{self.format}"

    def kinds(self, *kinds: str) -> list[int]:
        return [i for i, f in enumerate(self.fields) if f.kind in kinds]

    def possible_faults(self) -> tuple[str, ...]:
        faults = CSV_FAULTS if self.format == "csv" else JSONL_FAULTS
        present = {
            "wrong_type": bool(self.kinds(*TYPED_KINDS)),
            "timestamp_out_of_range": bool(self.kinds("timestamp")),
            "unknown_reference": bool(self.kinds("member_ref", "subject_ref")),
            "invalid_utf8": bool(self.kinds("text", "enum", "id")),
        }
        return tuple(f for f in faults if present.get(f, True))


Row = list[object]
"""Field values in dataset order: str, int, float or None (None = empty in CSV, null in JSON)."""


def _csv_line(values: list[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def _json_line(dataset: FileDataset, values: list[object], drop: int | None = None) -> str:
    record = {f.name: v for i, (f, v) in enumerate(zip(dataset.fields, values, strict=True)) if i != drop}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _with_fault(dataset: FileDataset, row: Row, fault: str, rng: np.random.Generator) -> str:
    """The line for ``row`` carrying ``fault`` (a truncated line has no final newline)."""
    values = list(row)
    is_csv = dataset.format == "csv"

    def pick(indices: list[int]) -> int:
        return indices[int(rng.integers(len(indices)))]

    if fault == "wrong_column_count":
        values = values[:-1] if rng.random() < 0.5 else [*values, "extra"]
    elif fault == "truncated_line":
        text = _csv_line(values).rstrip("\n")
        cut = int(rng.integers(len(text) // 3, max(len(text) // 3 + 1, len(text) - 2)))
        head, _, tail = text[:cut].rpartition(",")
        return f'{head},"{tail}' if head else f'"{tail}'
    elif fault == "broken_json":
        text = _json_line(dataset, values).rstrip("\n")
        return text[: int(rng.integers(5, len(text) - 3))] + "\n"
    elif fault == "wrong_type":
        i = pick(dataset.kinds(*TYPED_KINDS))
        values[i] = WRONG_TYPE_VALUES[int(rng.integers(len(WRONG_TYPE_VALUES)))]
    elif fault == "missing_field":
        i = pick([i for i, f in enumerate(dataset.fields) if f.required])
        if not is_csv:
            return _json_line(dataset, values, drop=i)
        values[i] = None
    elif fault == "timestamp_out_of_range":
        i = pick(dataset.kinds("timestamp"))
        stamp = OUT_OF_RANGE_TIMESTAMPS[int(rng.integers(2))]
        values[i] = stamp + (".000Z" if not is_csv else "Z")
    elif fault == "unknown_reference":
        i = pick(dataset.kinds("member_ref", "subject_ref"))
        if dataset.fields[i].kind == "member_ref":
            values[i] = UNKNOWN_MEMBER_ID
        else:
            subject_type = values[[f.name for f in dataset.fields].index("subject_type")]
            values[i] = UNKNOWN_SUBJECT[str(subject_type)]
    elif fault == "invalid_utf8":
        i = pick([i for i in dataset.kinds("text", "enum", "id") if values[i] is not None])
        text = str(values[i])
        at = int(rng.integers(1, len(text))) if len(text) > 1 else 1
        values[i] = text[:at] + SURROGATE_E_ACUTE + text[at:]
    else:
        raise ValueError(f"unknown fault {fault}")
    return _csv_line(values) if is_csv else _json_line(dataset, values)


def render(
    dataset: FileDataset,
    rows: list[Row],
    day: date,
    rng: np.random.Generator,
    bad_rate: float,
    log: BadRecordLog,
) -> bytes:
    """The day's file as bytes, with about ``bad_rate`` of its lines faulty (each fault logged)."""
    relative = dataset.relative_path(day)
    is_csv = dataset.format == "csv"
    lines: list[str] = [_csv_line([f.name for f in dataset.fields])] if is_csv else []
    faulty = rng.random(len(rows)) < bad_rate if bad_rate > 0 else np.zeros(len(rows), dtype=bool)
    faults = dataset.possible_faults()
    clean_so_far: list[int] = []
    for i, row in enumerate(rows):
        key = None if row[0] is None else str(row[0])
        clean_line = _csv_line(row) if is_csv else _json_line(dataset, row)
        if not faulty[i]:
            lines.append(clean_line)
            clean_so_far.append(i)
            continue
        last = i == len(rows) - 1
        choices = [
            f for f in faults if (f != "truncated_line" or last) and (f != "duplicate_id" or clean_so_far)
        ]
        fault = choices[int(rng.integers(len(choices)))]
        if fault == "duplicate_id":
            lines.append(clean_line)
            original = clean_so_far[int(rng.integers(len(clean_so_far)))]
            copy = rows[original]
            lines.append(_csv_line(copy) if is_csv else _json_line(dataset, copy))
            log.record(dataset.source, dataset.name, str(copy[0]), fault, file=relative, line=len(lines))
            clean_so_far.append(i)
            continue
        lines.append(_with_fault(dataset, row, fault, rng))
        log.record(dataset.source, dataset.name, key, fault, file=relative, line=len(lines))
    return "".join(lines).encode("utf-8", errors="surrogateescape")


def write_drop(landing: Path, dataset: FileDataset, day: date, content: bytes) -> Path:
    path = landing / dataset.relative_path(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
