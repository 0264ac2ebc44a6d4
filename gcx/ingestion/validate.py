"""Row validation: every dataset declares its rules (datasets.py) and this module applies them.

A rule never stops a load. It marks the rows that break it with a reason a person can act on,
``"<column>: must <rule> (got <value>)"``, and those rows go to ``raw.quarantine`` instead of raw.
Every rule runs on every row, so a quarantined row lists all of its problems, not only the first.
Checks are vectorised over a batch with pandas, so a million-row partition costs seconds, and only
the failing rows are formatted one by one. A batch has a fixed cost of tens of milliseconds, though,
so the live feed, which judges one message at a time, uses `validate_record`: the same declarations
applied value by value, held equal to `validate` by a property test (test_validate_record.py).

Rows read from files arrive as text (what the file said); each column is parsed to its declared type
here, strictly enough that PostgreSQL accepts every value that passes (a value PostgreSQL would
refuse would otherwise fail the whole partition's COPY).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc

# Column types as Arrow types; each maps to one PostgreSQL type of the raw tables.
TEXT = pa.string()
SMALLINT = pa.int16()
INTEGER = pa.int32()
BIGINT = pa.int64()
DOUBLE = pa.float64()
TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
BOOLEAN = pa.bool_()


def numeric(precision: int, scale: int) -> pa.Decimal128Type:
    """PostgreSQL's numeric(precision, scale)."""
    return pa.decimal128(precision, scale)


READ_ERROR = "_read_error"
"""Bronze column of file datasets: why a line could not be read as a record (null when it could)."""
SOURCE_ROW = "_source_row"
"""Bronze column: 1-based row of the partition's extract; for files, the physical line number."""


@dataclass(frozen=True)
class Column:
    """A source column, its type, and the rules a single value must follow."""

    name: str
    type: pa.DataType
    required: bool = False
    one_of: tuple[str, ...] = ()
    gt: Any = None
    ge: Any = None
    lt: Any = None
    le: Any = None
    pattern: str | None = None
    """A regular expression the whole value must match."""
    known: str | None = None
    """A kind of id the exchange source knows (see `Reference.ids`), e.g. "member"."""
    not_after_next_day: bool = False
    """A moment no later than the end of the day after the partition's day: records do not come
    from the future (a year typed 2099 is caught even where no other column bounds it)."""


@dataclass(frozen=True)
class RowRule:
    """A rule that needs more than one value: other columns, or what the exchange source knows.

    The reason reads ``"<column>: must <must> (got <value of column>)"``; ``breaks`` returns True
    where a row breaks the rule (rows with missing inputs should not break it: the column rules
    report those). ``breaks_record`` is the same rule for one record (`validate_record`): its parsed
    values by column, None where missing.
    """

    column: str
    must: str
    breaks: Callable[[pd.DataFrame, Reference], pd.Series]
    breaks_record: Callable[[Mapping[str, Any], Reference], bool]


@dataclass(frozen=True)
class Reference:
    """What the exchange source knows, for checks that a row cannot make on its own.

    ids: the known ids by kind ("member", "beneficial_owner", "instrument").
    instruments: one row per instrument_id with `venue` and `delisted_on` (datetime64, NaT if listed).
    sessions: one row per calendar day (index: datetime64 day) with `session_open_at` and
        `session_close_at` (NaT on days without trading).
    """

    ids: Mapping[str, frozenset]
    instruments: pd.DataFrame
    sessions: pd.DataFrame

    @classmethod
    def empty(cls) -> Reference:
        return cls(
            ids=defaultdict(frozenset),
            instruments=pd.DataFrame(
                {"venue": pd.Series(dtype=object), "delisted_on": pd.Series(dtype="datetime64[us]")},
                index=pd.Index([], name="instrument_id", dtype="int64"),
            ),
            sessions=pd.DataFrame(
                {
                    "session_open_at": pd.Series(dtype="datetime64[us, UTC]"),
                    "session_close_at": pd.Series(dtype="datetime64[us, UTC]"),
                },
                index=pd.DatetimeIndex([], name="calendar_date", dtype="datetime64[us]"),
            ),
        )

    @functools.cached_property
    def venue_by_instrument(self) -> dict[int, str]:
        """`instruments.venue` for one record at a time (a pandas lookup per value is slow)."""
        return self.instruments["venue"].to_dict()

    @functools.cached_property
    def delisted_on_by_instrument(self) -> dict[int, date]:
        return {
            instrument: day.date() for instrument, day in self.instruments["delisted_on"].dropna().items()
        }

    @functools.cached_property
    def session_by_day(self) -> dict[date, tuple[pd.Timestamp, pd.Timestamp]]:
        """(open, close) by calendar day; NaT on days without trading."""
        sessions = self.sessions
        opens_closes = zip(sessions["session_open_at"], sessions["session_close_at"], strict=True)
        return dict(zip((day.date() for day in sessions.index), opens_closes, strict=True))

    @classmethod
    def from_exchange(cls, conn: psycopg.Connection) -> Reference:
        """Read the reference data from the exchange source (small tables: ids, instruments, calendar)."""
        ids = {
            "member": frozenset(row[0] for row in conn.execute("select member_id from members")),
            "beneficial_owner": frozenset(
                row[0] for row in conn.execute("select owner_id from beneficial_owners")
            ),
            "instrument": frozenset(row[0] for row in conn.execute("select instrument_id from instruments")),
        }
        instruments = pd.DataFrame(
            conn.execute("select instrument_id, venue, delisted_on from instruments").fetchall(),
            columns=["instrument_id", "venue", "delisted_on"],
        )
        instruments["delisted_on"] = pd.to_datetime(instruments["delisted_on"]).astype("datetime64[us]")
        sessions = pd.DataFrame(
            conn.execute(
                "select calendar_date, session_open_at, session_close_at from trading_calendar"
            ).fetchall(),
            columns=["calendar_date", "session_open_at", "session_close_at"],
        )
        sessions["calendar_date"] = pd.to_datetime(sessions["calendar_date"]).astype("datetime64[us]")
        for column in ("session_open_at", "session_close_at"):
            sessions[column] = pd.to_datetime(sessions[column], utc=True).astype("datetime64[us, UTC]")
        return cls(
            ids=defaultdict(frozenset, ids),
            instruments=instruments.set_index("instrument_id"),
            sessions=sessions.set_index("calendar_date"),
        )


@dataclass(frozen=True)
class Verdict:
    """The outcome for one batch: which rows are valid, and why each of the others is not."""

    valid: np.ndarray
    """One bool per row."""
    reasons: dict[int, str]
    """Row index in the batch -> every problem of that row, joined by "; "."""


def validate(
    batch: pa.RecordBatch | pa.Table,
    columns: Sequence[Column],
    rules: Sequence[RowRule] = (),
    reference: Reference | None = None,
    *,
    key: str | None = None,
    duplicate_of: Mapping[int, int] | None = None,
    partition_day: date | None = None,
) -> Verdict:
    """Check every row of `batch` against the column rules and the row rules.

    `duplicate_of` maps the `_source_row` of each repeated record to the row where its `key` was
    first seen (see `find_duplicates`); the first occurrence is kept, the later ones quarantined.
    A row that could not be read at all (bronze `_read_error`) gets only that reason: checking
    the fields of an unreadable line would add noise, not information.
    """
    reference = reference or Reference.empty()
    problems: defaultdict[int, list[str]] = defaultdict(list)
    readable = np.ones(batch.num_rows, dtype=bool)
    if READ_ERROR in batch.schema.names:
        for index, error in enumerate(batch.column(READ_ERROR).to_pylist()):
            if error is not None:
                problems[index].append(error)
                readable[index] = False

    def flag(breaks: pd.Series | np.ndarray, column: str, must: str, shown: pd.Series | pa.Array) -> None:
        """Add the reason to every readable row where `breaks` is True, showing the row's value."""
        if isinstance(breaks, pd.Series):  # a missing value breaks nothing (the column rules report it)
            breaks = breaks.to_numpy(dtype=bool, na_value=False)
        mask = np.asarray(breaks, dtype=bool) & readable
        indices = np.flatnonzero(mask)
        if not len(indices):
            return
        if isinstance(shown, pd.Series):
            values = shown.iloc[indices].tolist()
        else:
            values = shown.take(pa.array(indices)).to_pylist()
        for index, value in zip(indices, values, strict=True):
            problems[int(index)].append(_reason(column, must, value))

    frame, unparsed = _typed_frame(batch, columns)
    for column in columns:
        value = frame[column.name]
        received = batch.column(column.name)
        present = value.notna()
        if column.required:
            flag(_is_blank(received), column.name, "not be empty", received)
        flag(unparsed[column.name], column.name, _type_phrase(column.type), received)
        if column.one_of:
            flag(
                present & ~value.isin(column.one_of),
                column.name,
                f"be one of {', '.join(column.one_of)}",
                value,
            )
        for bound, symbol, holds in _BOUNDS:
            limit = getattr(column, bound)
            if limit is not None:
                flag(present & ~holds(value, limit), column.name, f"be {symbol} {_shown(limit)}", value)
        if column.not_after_next_day and partition_day is not None:
            end, must = _end_of_next_day(partition_day)
            flag(present & (value >= end), column.name, must, value)
        if column.pattern:
            matches = value.astype(object).where(present, "").astype(str).str.fullmatch(column.pattern)
            flag(present & ~matches, column.name, f"match {column.pattern}", value)
        if column.known:
            flag(
                present & ~value.isin(reference.ids[column.known]),
                column.name,
                f"be a known {column.known}",
                value,
            )

    for rule in rules:
        flag(rule.breaks(frame, reference), rule.column, rule.must, frame[rule.column])

    if key and duplicate_of:
        rows = batch.column(SOURCE_ROW).to_pylist()
        for index, row in enumerate(rows):
            first = duplicate_of.get(row)
            if first is not None:
                problems[index].append(
                    f"{key}: must be unique in the partition (got {_shown(frame[key].iat[index])}, "
                    f"first at source row {first})"
                )

    valid = np.ones(batch.num_rows, dtype=bool)
    valid[list(problems)] = False
    return Verdict(valid=valid, reasons={index: "; ".join(found) for index, found in problems.items()})


def validate_record(
    record: Mapping[str, str | None],
    columns: Sequence[Column],
    rules: Sequence[RowRule] = (),
    reference: Reference | None = None,
    *,
    partition_day: date | None = None,
) -> str | None:
    """The reasons `validate` gives one record of text (a file's or a feed message's), "; "-joined,
    or None when it is valid: the same rules value by value, without a batch's fixed cost.
    Uniqueness is the caller's (it needs the records around this one)."""
    if record.get(READ_ERROR) is not None:
        return record[READ_ERROR]
    reference = reference or Reference.empty()
    problems: list[str] = []
    values: dict[str, Any] = {}
    for column in columns:
        text = record.get(column.name)
        value = values[column.name] = _parse_value(text, column.type)
        if column.required and (text is None or not _trimmed(text)):
            problems.append(_reason(column.name, "not be empty", text))
        if text is not None and (value is None or (column.type == TEXT and "\x00" in text)):
            problems.append(_reason(column.name, _type_phrase(column.type), text))
        if value is None:
            continue
        if column.one_of and value not in column.one_of:
            problems.append(_reason(column.name, f"be one of {', '.join(column.one_of)}", value))
        for bound, symbol, holds in _BOUNDS:
            limit = getattr(column, bound)
            if limit is not None and not holds(value, limit):
                problems.append(_reason(column.name, f"be {symbol} {_shown(limit)}", value))
        if column.not_after_next_day and partition_day is not None:
            end, must = _end_of_next_day(partition_day)
            if value >= end:
                problems.append(_reason(column.name, must, value))
        if column.pattern and not re.fullmatch(column.pattern, str(value)):
            problems.append(_reason(column.name, f"match {column.pattern}", value))
        if column.known and value not in reference.ids[column.known]:
            problems.append(_reason(column.name, f"be a known {column.known}", value))
    for rule in rules:
        if rule.breaks_record(values, reference):
            problems.append(_reason(rule.column, rule.must, values[rule.column]))
    return "; ".join(problems) or None


def _end_of_next_day(partition_day: date) -> tuple[pd.Timestamp, str]:
    """Where `Column.not_after_next_day` draws its line, and the rule as a reason says it."""
    end = pd.Timestamp(partition_day + timedelta(days=2), tz="UTC")
    return end, f"be no later than the end of the day after {partition_day}"


def _reason(column: str, must: str, value: Any) -> str:
    return f"{column}: must {must} (got {_shown(value)})"


def find_duplicates(keys: pd.Series, source_rows: pd.Series, readable: pd.Series) -> dict[int, int]:
    """For each repeated key, map the source row of every later occurrence to the first one.

    Rows that could not be read do not claim their key: a truncated copy of a record does not
    push the complete record to quarantine.
    """
    candidates = pd.DataFrame({"key": keys, "row": source_rows})[
        readable.to_numpy(bool) & keys.notna().to_numpy()
    ]
    first_row = candidates.groupby("key", sort=False)["row"].transform("min")
    repeated = candidates["row"] != first_row
    return dict(zip(candidates["row"][repeated].astype(int), first_row[repeated].astype(int), strict=True))


# ---------------------------------------------------------------------------------------------
# Types: text from files parsed strictly; typed bronze (exchange) converted for comparisons.

_INTEGER = r"[+-]?\d+"
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_DATE = r"\d{4}-\d{2}-\d{2}"
_TIMESTAMP = _DATE + r"[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-](?:0\d|1[0-5]):?[0-5]\d)"
"""PostgreSQL refuses UTC offsets beyond 15:59 (and minutes past 59), so they are not accepted here either."""
_FIRST_DAY = pd.Timestamp("0001-01-01")
"""PostgreSQL has no year 0; pandas reads "0000-01-01" as a date, which would fail the COPY."""
_TIMESTAMP_RANGE = (
    pd.Timestamp("0001-01-01", tz="UTC"),
    pd.Timestamp("9999-12-31 23:59:59.999999", tz="UTC"),
)
"""Instants pandas, Python and PostgreSQL all hold (an offset can move a written year 0001 or 9999 out)."""
_BOUNDS: tuple[tuple[str, str, Callable[[Any, Any], Any]], ...] = (
    ("gt", ">", operator.gt),
    ("ge", ">=", operator.ge),
    ("lt", "<", operator.lt),
    ("le", "<=", operator.le),
)
"""(Column attribute, its symbol in a reason, the comparison a value must pass)."""


def _type_phrase(type_: pa.DataType) -> str:
    """How a type is named in a reason: "checked_at: must be <phrase> (got 'yesterday')"."""
    if pa.types.is_integer(type_):
        return f"be a whole number that fits {type_.bit_width} bits"
    if pa.types.is_decimal(type_):
        return f"be a number below 10^{type_.precision - type_.scale} in size"
    if pa.types.is_floating(type_):
        return "be a finite number"
    if pa.types.is_timestamp(type_):
        return "be an ISO-8601 timestamp with a UTC offset"
    if pa.types.is_date(type_):
        return "be a date (YYYY-MM-DD)"
    if pa.types.is_boolean(type_):
        return "be true or false"
    if pa.types.is_string(type_):
        return "be text without NUL characters"
    return f"be {type_}"


def _is_blank(received: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Null, or text with nothing but white space."""
    blank = received.is_null()
    if pa.types.is_string(received.type):
        blank = pc.or_(blank, pc.equal(pc.utf8_trim_whitespace(received), ""))
    return np.asarray(blank.fill_null(True), dtype=bool)


def _typed_frame(
    batch: pa.RecordBatch | pa.Table, columns: Sequence[Column]
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    """The batch as comparable pandas columns, and per column the rows whose text did not parse.

    Text from files is parsed to the declared type; typed bronze (exchange) is converted as is,
    with decimals as floats (comparisons with thresholds need no more precision).
    """
    frame: dict[str, pd.Series] = {}
    unparsed: dict[str, pd.Series] = {}
    for column in columns:
        array = batch.column(column.name)
        if pa.types.is_string(array.type) and not pa.types.is_string(column.type):
            text = pd.Series(array.to_pandas(), dtype=object)
            parsed = _parse_text(text, column.type)
            frame[column.name] = parsed
            unparsed[column.name] = text.notna() & parsed.isna()
            continue
        if pa.types.is_decimal(array.type):
            array = array.cast(pa.float64())
        if pa.types.is_date(array.type):
            values = pd.Series(array.to_pandas(date_as_object=False)).astype("datetime64[us]")
        else:
            values = pd.Series(array.to_pandas(), dtype=object if pa.types.is_string(array.type) else None)
        frame[column.name] = values
        if pa.types.is_string(array.type):
            # PostgreSQL text cannot hold NUL; one such value would fail the whole COPY
            has_nul = pc.match_substring(array, "\x00").fill_null(False)
            unparsed[column.name] = pd.Series(np.asarray(has_nul, dtype=bool), index=values.index)
        else:
            unparsed[column.name] = pd.Series(False, index=values.index)
    return pd.DataFrame(frame), unparsed


_EMPTY_DTYPE = {pa.timestamp("us").id: "datetime64[us, UTC]", pa.date32().id: "datetime64[us]"}
"""dtypes of a parsed column with no value (numbers: float64)."""


def _parse_text(text: pd.Series, type_: pa.DataType) -> pd.Series:
    """Parse file text to `type_`; values that do not parse (or PostgreSQL would refuse) become null."""
    present = text.notna()
    if not present.any() and not pa.types.is_boolean(type_):
        # a column the source left empty (the live feed has no order ids): what parsing would give,
        # without its fixed cost, which is most of the time of a one-message batch
        return pd.Series(np.nan, index=text.index, dtype=_EMPTY_DTYPE.get(type_.id, "float64"))
    as_str = text.where(present, "").astype(str)
    if pa.types.is_integer(type_):
        ok = present & as_str.str.fullmatch(_INTEGER)
        # as floats, whatever the other rows hold, so a value is judged and shown the same in any batch
        numbers = pd.to_numeric(as_str.where(ok), errors="coerce").astype(float)
        limit = 2 ** (type_.bit_width - 1)
        fits = (numbers >= -limit) & (numbers < limit)
        long = ok & (as_str.str.len() > 15)  # past 2**53 a float is inexact: bound those on the text
        if long.any():
            fits[long] = [-limit <= int(text) < limit for text in as_str[long]]
        return numbers.where(fits)
    if pa.types.is_decimal(type_) or pa.types.is_floating(type_):
        ok = present & as_str.str.fullmatch(_NUMBER)
        numbers = pd.to_numeric(as_str.where(ok), errors="coerce").astype(float)
        fits = np.isfinite(numbers)
        if pa.types.is_decimal(type_):
            # judged as PostgreSQL will store it, rounded to the scale: '0.00001' is 0 in numeric(14, 4)
            numbers = numbers.round(type_.scale)
            fits &= numbers.abs() < 10.0 ** (type_.precision - type_.scale)
        else:
            # PostgreSQL refuses a double that underflows to zero ("1e-400"); numeric rounds it
            mantissa = as_str.str.replace(r"[eE].*$", "", regex=True)
            fits &= (numbers != 0) | ~mantissa.str.contains(r"[1-9]")
        return numbers.where(fits)
    if pa.types.is_timestamp(type_):
        ok = present & as_str.str.fullmatch(_TIMESTAMP)
        parsed = _utc_instants(as_str.where(ok))
        first, last = _TIMESTAMP_RANGE
        return parsed.where((parsed >= first) & (parsed <= last))
    if pa.types.is_date(type_):
        ok = present & as_str.str.fullmatch(_DATE)
        parsed = pd.to_datetime(as_str.where(ok), format="%Y-%m-%d", errors="coerce")
        return parsed.astype("datetime64[us]").where(lambda day: day >= _FIRST_DAY)
    if pa.types.is_boolean(type_):
        return text.map({"true": True, "false": False})
    raise TypeError(f"no text parser for {type_}")


def _parse_value(text: str | None, type_: pa.DataType) -> Any:
    """One value of text as `_parse_text` parses it in a batch: None where it does not parse;
    numbers as floats, instants and dates as pandas Timestamps."""
    if text is None or pa.types.is_string(type_):
        return text
    if pa.types.is_boolean(type_):
        return {"true": True, "false": False}.get(text)
    if pa.types.is_date(type_):
        if not re.fullmatch(_DATE, text):
            return None
        try:
            return pd.Timestamp(datetime.strptime(text, "%Y-%m-%d"))
        except ValueError:
            return None
    if not text.isascii():  # pandas reads ASCII digits only here (Python's int() and float() take any)
        return None
    if pa.types.is_integer(type_):
        if not re.fullmatch(_INTEGER, text):
            return None
        limit = 2 ** (type_.bit_width - 1)
        return float(number) if -limit <= (number := int(text)) < limit else None
    if pa.types.is_decimal(type_) or pa.types.is_floating(type_):
        if not re.fullmatch(_NUMBER, text) or not math.isfinite(number := float(text)):
            return None
        if pa.types.is_decimal(type_):
            number = float(np.float64(number).round(type_.scale))  # as pandas rounds, not as round() does
            return number if abs(number) < 10.0 ** (type_.precision - type_.scale) else None
        underflowed = number == 0 and re.search(r"[1-9]", re.sub(r"[eE].*$", "", text))
        return None if underflowed else number
    if pa.types.is_timestamp(type_):
        if not re.fullmatch(_TIMESTAMP, text):
            return None
        instant = _utc_instant(text)
        return None if instant is None else pd.Timestamp(instant)
    raise TypeError(f"no text parser for {type_}")


def _trimmed(text: str) -> str:
    """Text without the white space Arrow trims (`_is_blank`'s notion of blank)."""
    if text[:1].isascii() and text[:1].isalnum() and text[-1:].isascii() and text[-1:].isalnum():
        return text  # nothing to trim by any definition of white space: skip Arrow's 30 µs
    return pc.utf8_trim_whitespace(pa.scalar(text, pa.string())).as_py()


def _utc_instants(text: pd.Series) -> pd.Series:
    """ISO-8601 text with an offset as UTC instants (NaT where it does not parse). pandas fails on a
    whole column when an offset takes one instant out of its calendar (year 0 or 10000), so such a
    column is parsed value by value."""
    try:
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        return parsed.astype("datetime64[us, UTC]")
    except (ValueError, OverflowError, NotImplementedError, AssertionError):
        return pd.Series(
            [_utc_instant(value) for value in text], index=text.index, dtype="datetime64[us, UTC]"
        )


def _utc_instant(text: str | float) -> datetime | None:
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _shown(value: Any) -> str:
    """A value as a reason shows it: text quoted, numbers plain, instants in ISO-8601, null as null."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating):
        value = float(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
