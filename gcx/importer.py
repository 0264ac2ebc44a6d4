"""Bring your own trades: load a CSV or Parquet file of trades into the exchange source.

The file schema (documented in the README, "Bring your own data"):

    trade_id      text, unique within the venue, <= 255 chars required
    symbol        text                                        required
    executed_at   ISO-8601 with a UTC offset, or integer      required
                  nanoseconds since the epoch (UTC)
    price         positive number, the venue's price unit     required
    quantity      positive number, the venue's quantity unit  required
    buyer_member_id, seller_member_id   text                  optional
    aggressor_side  buy | sell | empty                        optional

A file is checked as a whole before anything is written, and loaded in one transaction: a
malformed file is refused with the rows and columns at fault, and nothing of it is half-loaded.
Re-importing a file adds nothing; a trade_id already loaded with different values is refused.
Symbols not yet known become instruments of the importing venue.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from math import gcd
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gcx import clock, database, exchange_source
from gcx.settings import Settings

REQUIRED_COLUMNS = ("trade_id", "symbol", "executed_at", "price", "quantity")
OPTIONAL_COLUMNS = ("buyer_member_id", "seller_member_id", "aggressor_side")
AGGRESSOR_SIDES = {"buy", "sell"}
EARLIEST_TRADE = pd.Timestamp("1990-01-01", tz="UTC")
MAX_PRICE = 1e9
MAX_TRADE_ID_CHARS = 255
"""Ids are keys of a btree index, whose entries PostgreSQL caps at about 2.7 kB."""
MAX_ERRORS_SHOWN = 20


class ImportRefused(ValueError):
    """The file is malformed; `errors` names each row and column at fault."""

    def __init__(self, path: Path, errors: list[str], total: int | None = None):
        self.errors = errors
        total = total if total is not None else len(errors)
        more = f"\n  ... and {total - len(errors)} more" if total > len(errors) else ""
        super().__init__(
            f"{path.name} refused, nothing was loaded ({total} problem(s)):\n  " + "\n  ".join(errors) + more
        )


@dataclass
class ImportResult:
    rows_in_file: int
    trades_added: int
    trades_already_present: int
    instruments_added: list[str] = field(default_factory=list)
    timestamps_truncated_to_us: int = 0


def import_trades(path: Path, venue: str = "external", settings: Settings | None = None) -> ImportResult:
    """Validate `path` and load its trades into the exchange source, all or nothing."""
    frame = _read(path)
    trades, truncated = _validate(frame, path)
    database.ensure_databases(settings)
    with database.connect("exchange", settings=settings) as conn:
        exchange_source.ensure_schema(conn)
        return _load(conn, trades, venue, path, truncated)


def _read(path: Path) -> pd.DataFrame:
    """Every column as text (Parquet timestamps kept as instants), so validation sees what was written."""
    if not path.is_file():
        raise ImportRefused(path, [f"no such file: {path}"])
    if path.suffix.lower() == ".parquet":
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise ImportRefused(path, [f"not a readable Parquet file: {exc}"]) from exc
        frame = table.to_pandas()
        for name in frame.columns:
            if name == "executed_at" and pd.api.types.is_datetime64_any_dtype(frame[name]):
                if frame[name].dt.tz is None:
                    raise ImportRefused(
                        path, ["column 'executed_at': Parquet timestamp has no time zone; write it as UTC"]
                    )
                frame[name] = (
                    frame[name].dt.tz_convert("UTC").map(lambda t: t.isoformat() if pd.notna(t) else "")
                )
            else:
                frame[name] = frame[name].map(
                    lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                )
        return frame
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems = _undecodable_lines(data)
        raise ImportRefused(path, problems[:MAX_ERRORS_SHOWN], total=len(problems)) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise ImportRefused(path, [f"not a well-formed CSV file: {exc}"]) from exc
    except pd.errors.EmptyDataError as exc:
        raise ImportRefused(path, ["the file is empty"]) from exc
    short = _short_rows(text)
    if short:
        raise ImportRefused(path, short[:MAX_ERRORS_SHOWN], total=len(short))
    return frame


def _undecodable_lines(data: bytes) -> list[str]:
    """Each physical line (the header is line 1) that is not UTF-8, with its first bad byte."""
    problems = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                f"line {number}: not UTF-8 text (byte 0x{line[exc.start]:02x} at position {exc.start + 1})"
            )
    return problems


def _short_rows(text: str) -> list[str]:
    """Rows with fewer fields than the header: pandas fills them with empty values, which would
    silently turn a row cut short into one without its last columns. (Longer rows fail parsing.)"""
    records = (fields for fields in csv.reader(io.StringIO(text)) if fields)  # pandas skips blank lines
    header = next(records, [])
    return [
        f"row {number}: has {len(fields)} field(s), the header names {len(header)}"
        for number, fields in enumerate(records, start=1)
        if len(fields) < len(header)
    ]


def _validate(frame: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, int]:
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    extra = [c for c in frame.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or extra:
        problems = [f"missing column(s): {', '.join(missing)}"] if missing else []
        problems += [f"unexpected column(s): {', '.join(extra)}"] if extra else []
        expected = ", ".join(REQUIRED_COLUMNS) + " [, " + ", ".join(OPTIONAL_COLUMNS) + "]"
        raise ImportRefused(path, [*problems, f"expected columns: {expected}"])
    if frame.empty:
        raise ImportRefused(path, ["the file has a header but no trades"])
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame.apply(lambda col: col.str.strip())

    errors: list[tuple[int, str]] = []

    def flag(mask: pd.Series, column: str, why: str) -> None:
        for index in np.flatnonzero(mask.to_numpy()):
            value = frame[column].iat[index]
            shown = value if len(value) <= 80 else value[:77] + "..."
            errors.append((int(index), f"row {index + 1}, column '{column}': {why} (got {shown!r})"))

    flag(frame.trade_id == "", "trade_id", "is empty")
    flag(
        frame.trade_id.str.len() > MAX_TRADE_ID_CHARS,
        "trade_id",
        f"is longer than {MAX_TRADE_ID_CHARS} characters",
    )
    for column in frame.columns:
        # PostgreSQL text cannot hold NUL; the load would fail after the checks said yes
        flag(frame[column].str.contains("\x00", regex=False), column, "contains a NUL character")
    duplicated = frame.trade_id.duplicated(keep="first") & (frame.trade_id != "")
    flag(duplicated, "trade_id", "appears more than once in the file")
    flag(
        (frame.symbol == "") | frame.symbol.str.contains(r"\s") | (frame.symbol.str.len() > 32),
        "symbol",
        "must be 1-32 characters without spaces",
    )

    executed_at, truncated = _parse_instants(frame.executed_at)
    latest = pd.Timestamp(clock.now() + timedelta(days=1))
    flag(executed_at.isna(), "executed_at", "is not ISO-8601 with a UTC offset nor integer nanoseconds")
    flag(
        executed_at.notna() & ((executed_at < EARLIEST_TRADE) | (executed_at > latest)),
        "executed_at",
        f"is outside {EARLIEST_TRADE.date()} .. tomorrow",
    )

    for column in ("price", "quantity"):
        flag(frame[column].map(_needs_more_than_4_decimals), column, "has more than 4 decimal places")
        numbers = pd.to_numeric(frame[column], errors="coerce")
        flag(numbers.isna() | ~np.isfinite(numbers.fillna(0)), column, "is not a finite number")
        flag(numbers.notna() & (numbers <= 0), column, "must be positive")
        flag(numbers.notna() & (numbers >= MAX_PRICE), column, f"is implausibly large (>= {MAX_PRICE:g})")
        frame[column] = numbers
    flag(~frame.aggressor_side.isin(AGGRESSOR_SIDES | {""}), "aggressor_side", "must be buy, sell or empty")

    if errors:
        errors.sort()
        raise ImportRefused(path, [message for _, message in errors[:MAX_ERRORS_SHOWN]], total=len(errors))
    # floor, not round: a trade at 59.9999996 s must stay in its minute
    frame["executed_at"] = executed_at.dt.floor("us")
    return frame, truncated


def _needs_more_than_4_decimals(text: str) -> bool:
    """The number's value has digits beyond the 4th decimal ("1e-7", "3150.123456"; not "1.00000"):
    the exchange keeps 4, so it would be rounded silently."""
    try:
        exponent = Decimal(text).normalize().as_tuple().exponent
    except InvalidOperation:
        return False  # not a number: reported as such
    return isinstance(exponent, int) and exponent < -4


def _parse_instants(text: pd.Series) -> tuple[pd.Series, int]:
    """UTC instants from ISO-8601-with-offset or integer-ns text; NaT where neither (or no offset),
    or where the instant is outside what a nanosecond timestamp holds (years 1677-2262).

    PostgreSQL keeps microseconds, so the count of values with finer digits is returned to be reported.
    """
    is_integer = text.str.fullmatch(r"-?[0-9]{1,19}")
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if is_integer.any():
        ns = text[is_integer].map(int)  # exact: 19 digits can exceed int64, and floats would round
        in_range = ns.map(lambda n: -(2**63) < n < 2**63).astype(bool)  # -2**63 is NaT
        parsed[ns.index[in_range]] = pd.to_datetime(ns[in_range].astype("int64"), unit="ns", utc=True)
    iso = text[~is_integer]
    has_offset = iso.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True)
    if has_offset.any():
        parsed[iso.index[has_offset]] = _iso_instants(iso[has_offset])
    truncated = int((parsed.dropna().astype("int64") % 1000 != 0).sum())
    return parsed, truncated


def _iso_instants(text: pd.Series) -> pd.Series:
    """ISO-8601 text with an offset as UTC nanosecond instants, NaT where it does not parse. pandas
    fails on a whole column when one value is outside its range (year 0000), so such a column is
    parsed value by value."""
    try:
        return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601").astype("datetime64[ns, UTC]")
    except (ValueError, OverflowError, AssertionError, NotImplementedError):
        return pd.Series(
            [_iso_instant(value) for value in text], index=text.index, dtype="datetime64[ns, UTC]"
        )


def _iso_instant(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text).tz_convert("UTC").as_unit("ns")
    except (ValueError, OverflowError, AssertionError, NotImplementedError, TypeError):
        return pd.NaT


def _grid_step(values: pd.Series) -> float:
    """The coarsest step every value is a multiple of (at 4 decimals): the inferred tick or lot size."""
    step = 0
    for value in values.drop_duplicates():
        step = gcd(step, round(Fraction(str(value)) * 10_000))
        if step == 1:
            break
    return float(Decimal(step) / 10_000)


def _load(conn, trades: pd.DataFrame, venue: str, path: Path, truncated: int) -> ImportResult:
    conn.execute(
        """
        create temporary table incoming (
            row_number integer, trade_id text, symbol text, executed_at timestamptz,
            price_ghs_per_t numeric, quantity_t numeric, buyer_member_id text,
            seller_member_id text, aggressor_side text, updated_at timestamptz
        ) on commit drop
        """
    )
    # Instrument ids are assigned here, so serialise concurrent imports on the instruments table.
    conn.execute("lock table instruments in share row exclusive mode")
    known = {row[0] for row in conn.execute("select symbol from instruments")}
    new_symbols = sorted(set(trades.symbol) - known)
    if new_symbols:
        next_id = conn.execute("select coalesce(max(instrument_id), 0) + 1 from instruments").fetchone()[0]
        first_day = trades.groupby("symbol").executed_at.min()
        with conn.cursor().copy(
            "copy instruments (instrument_id, symbol, venue, tick_size_ghs, lot_size_t, listed_on) from stdin"
        ) as copy:
            for offset, symbol in enumerate(new_symbols):
                of_symbol = trades[trades.symbol == symbol]
                copy.write_row(
                    (
                        next_id + offset,
                        symbol,
                        venue,
                        _grid_step(of_symbol.price),
                        _grid_step(of_symbol.quantity),
                        first_day[symbol].date(),
                    )
                )

    columns = [
        "row_number",
        "trade_id",
        "symbol",
        "executed_at",
        "price_ghs_per_t",
        "quantity_t",
        "buyer_member_id",
        "seller_member_id",
        "aggressor_side",
        "updated_at",
    ]
    now = clock.now()
    buffer = io.StringIO()
    for number, row in enumerate(trades.itertuples(index=False), start=1):
        values = (
            number,
            row.trade_id,
            row.symbol,
            row.executed_at.isoformat(),
            repr(row.price),
            repr(row.quantity),
            row.buyer_member_id,
            row.seller_member_id,
            row.aggressor_side,
            now.isoformat(),
        )
        buffer.write("\t".join(_copy_text(v) for v in values) + "\n")
    with conn.cursor().copy(f"copy incoming ({', '.join(columns)}) from stdin") as copy:
        copy.write(buffer.getvalue())

    conflicts = conn.execute(
        """
        select i.row_number, i.trade_id from incoming i join trades t using (trade_id)
        where (t.instrument_id, t.executed_at, t.price_ghs_per_t, t.quantity_t)
              is distinct from ((select instrument_id from instruments where symbol = i.symbol),
                                i.executed_at, i.price_ghs_per_t, i.quantity_t)
        order by i.row_number limit %s
        """,
        (MAX_ERRORS_SHOWN,),
    ).fetchall()
    if conflicts:
        raise ImportRefused(
            path,
            [
                f"row {n}, column 'trade_id': {tid!r} is already loaded with different values"
                for n, tid in conflicts
            ],
        )
    added = conn.execute(
        """
        insert into trades (trade_id, instrument_id, executed_at, price_ghs_per_t, quantity_t,
                            buyer_member_id, seller_member_id, aggressor_side, updated_at)
        select i.trade_id, s.instrument_id, i.executed_at, i.price_ghs_per_t, i.quantity_t,
               i.buyer_member_id, i.seller_member_id, i.aggressor_side, i.updated_at
        from incoming i join instruments s using (symbol)
        order by i.row_number
        on conflict (trade_id) do nothing
        """
    ).rowcount
    return ImportResult(
        rows_in_file=len(trades),
        trades_added=added,
        trades_already_present=len(trades) - added,
        instruments_added=new_symbols,
        timestamps_truncated_to_us=truncated if added else 0,
    )


def _copy_text(value) -> str:
    """A value in COPY's text format: empty optional text becomes NULL."""
    if value is None or value == "":
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
