"""Fuzzing the parsers and validators with hypothesis, under a fixed, deterministic budget.

Properties: the drop readers never raise and give one row per physical line; a value validation
accepts is a value PostgreSQL accepts (else the whole partition's COPY fails); the importer either
loads a file or refuses it with ImportRefused; the feed consumer's judge never raises and judges
every message. Any other exception is a crash and counts in the ledger.
"""

import contextlib
import string
from datetime import UTC, datetime

import ledger
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as budget
from hypothesis import strategies as st

from gcx import database
from gcx.importer import ImportRefused, _read, _validate
from gcx.ingestion import extract
from gcx.ingestion.datasets import DATASETS_BY_TABLE
from gcx.ingestion.validate import (
    BIGINT,
    DATE,
    DOUBLE,
    INTEGER,
    SMALLINT,
    TIMESTAMP,
    Reference,
    _parse_text,
    numeric,
)
from gcx.live_feed.consumer import ExchangeReference, FeedMessage, judge

FUZZ = budget(
    max_examples=100,
    deadline=2000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)
KYC = DATASETS_BY_TABLE["compliance__kyc_checks"]
API_USAGE = DATASETS_BY_TABLE["platform__api_usage"]

# pieces that make malformed records likely: separators, quotes, line ends, encodings, numbers
PIECES = st.sampled_from(
    [b",", b'"', b"\r", b"\x00", b"\xef\xbb\xbf", b"\xe9", b"\xff\xfe", b"\\u0000", b"\\ud800", b"{", b"}",
     b"[", b"]", b":", b"null", b"NaN", b"1e400", b"-0", b"2024-02-06T10:00:00Z", b"0000-01-01", b" ",
     b"\xf0\x9f\x8c\xbd", b"\xed\xa0\x80", b'"check_id"', b"MBR0001"]
)  # fmt: skip
LINE = st.lists(st.one_of(PIECES, st.binary(max_size=12)), max_size=12).map(b"".join)


class Tally:
    """Examples tried and crashes per fuzz target, recorded in the ledger at the end."""

    def __init__(self) -> None:
        self.tried = 0
        self.crashes: list[str] = []

    def run(self, fn, *args):
        self.tried += 1
        try:
            return fn(*args)
        except Exception as error:  # any exception is the finding
            self.crashes.append(f"{type(error).__name__}: {error}"[:300])
            raise


@pytest.mark.parametrize("dataset", [KYC, API_USAGE], ids=lambda d: d.table)
def test_fuzz_drop_readers_never_raise_and_keep_every_line(tmp_path_factory, dataset):
    tally = Tally()
    folder = tmp_path_factory.mktemp("fuzz_drops")
    header = (
        (",".join(c.name for c in dataset.columns) + "\n").encode() if dataset.file_format == "csv" else b""
    )

    @FUZZ
    @given(lines=st.lists(LINE, max_size=8), with_header=st.booleans(), final_newline=st.booleans())
    def check(lines, with_header, final_newline):
        path = folder / f"drop.{dataset.file_format}"
        content = (
            (header if with_header else b"") + b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
        )
        path.write_bytes(content)

        def read():
            extracted = extract.drop_file(path, path.name, dataset.columns, dataset.file_format)
            rows = [row for batch in extracted.batches for row in batch.to_pylist()]
            return extracted.source_rows, rows

        source_rows, rows = tally.run(read)
        assert source_rows == len(rows), "the source count and the rows read must agree"
        assert [row["_source_row"] for row in rows] == sorted({row["_source_row"] for row in rows})

    try:
        check()
    finally:
        ledger.bad_input(
            f"fuzz: {dataset.file_format} drop reader",
            tally.tried,
            tally.tried - len(tally.crashes),
            crashed=len(tally.crashes),
            detail="hypothesis, 100 examples, derandomized; every line read as a row or a read error",
        )


TYPES = [INTEGER, SMALLINT, BIGINT, DOUBLE, numeric(14, 4), TIMESTAMP, DATE]
PG_TYPES = {INTEGER: "integer", SMALLINT: "smallint", BIGINT: "bigint", DOUBLE: "double precision",
            numeric(14, 4): "numeric(14, 4)", TIMESTAMP: "timestamptz", DATE: "date"}  # fmt: skip
VALUE = st.one_of(
    st.from_regex(r"[+-]?\d{1,25}(\.\d{0,8})?([eE][+-]?\d{1,4})?", fullmatch=True),
    st.from_regex(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:?\d{2})?)?", fullmatch=True),
    st.text(alphabet=string.printable + "\u0660\uff11\u00e9", max_size=12),
    st.sampled_from(["NaN", "inf", "-Infinity", "1e-400", "0e-9999", "24:00", "0001-01-01T00:00:00+01:00",
                     "9999-12-31T23:59:59-01:00", "2024-02-29", "2023-02-29", "9223372036854775808"]),
)  # fmt: skip


def test_fuzz_validation_accepts_only_what_postgresql_accepts(settings):
    """The raw COPY hands the file's text to PostgreSQL: a value validation passed but PostgreSQL
    refused failed a whole partition (found: '1e-400' doubles, year 0000, UTC offsets past 15:59)."""
    tally = Tally()
    disagreements = []
    with database.connect("warehouse", settings=settings, autocommit=True) as conn:

        @FUZZ
        @given(values=st.lists(VALUE, min_size=1, max_size=20))
        def check(values):
            for type_ in TYPES:
                parsed = tally.run(_parse_text, pd.Series(values, dtype=object), type_)
                accepted = [value for value, ok in zip(values, parsed.notna(), strict=True) if ok]
                if not accepted:
                    continue
                try:  # one round trip per type; value by value only to name a refusal
                    conn.execute(f"select v::{PG_TYPES[type_]} from unnest(%s::text[]) v", (accepted,))
                except Exception:  # PostgreSQL refused something validation passed
                    for value in accepted:
                        try:
                            conn.execute(f"select %s::text::{PG_TYPES[type_]}", (value,))
                        except Exception as error:
                            disagreements.append(f"{PG_TYPES[type_]} {value!r}: {error}")

        try:
            check()
        finally:
            ledger.bad_input(
                "fuzz: validation vs PostgreSQL types",
                tally.tried,
                tally.tried - len(tally.crashes),
                crashed=len(tally.crashes) + len(disagreements),
                detail=f"7 column types; {len(disagreements)} values passed validation but PostgreSQL refused them",
            )
    assert not disagreements, "\n".join(disagreements[:20])


IMPORT_COLUMNS = ["trade_id", "symbol", "executed_at", "price", "quantity", "aggressor_side"]
CELL = st.one_of(
    st.sampled_from(["X1", "GEJWM1", "2025-03-03T10:15:00Z", "1719792000123456789", "3150.5", "50", "buy", "",
                     "NaN", "inf", "1e-7", "-3", "0000-01-01T00:00:00Z", "99999999999999999999", "\x00",
                     '"', "a,b", "\r", "\u00e9", "\ud800"]),
    st.text(max_size=8),
)  # fmt: skip


def test_fuzz_importer_loads_or_refuses_never_crashes(tmp_path_factory):
    tally = Tally()
    folder = tmp_path_factory.mktemp("fuzz_import")

    @FUZZ
    @given(
        header=st.lists(st.sampled_from([*IMPORT_COLUMNS, "fee"]), min_size=1, max_size=7),
        rows=st.lists(st.lists(CELL, max_size=8), max_size=5),
        encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]),
    )
    def check(header, rows, encoding):
        text = "\n".join([",".join(header), *(",".join(row) for row in rows)]) + "\n"
        path = folder / "trades.csv"
        path.write_bytes(
            text.encode(encoding, "surrogatepass" if encoding.startswith("utf-8") else "replace")
        )

        def read_and_validate():
            with contextlib.suppress(ImportRefused):
                _validate(_read(path), path)

        tally.run(read_and_validate)

    try:
        check()
    finally:
        ledger.bad_input(
            "fuzz: import file reader and checks",
            tally.tried,
            tally.tried - len(tally.crashes),
            crashed=len(tally.crashes),
            detail="random headers, cells and encodings: loaded or ImportRefused, never another exception",
        )


def feed_reference() -> ExchangeReference:
    day = pd.Timestamp("2026-03-02")
    rules = Reference(
        ids={"member": frozenset({"MBR0001"}), "beneficial_owner": frozenset(), "instrument": frozenset({1})},
        instruments=pd.DataFrame(
            {"venue": ["GCX"], "delisted_on": pd.to_datetime([None]).astype("datetime64[us]")},
            index=pd.Index([1], name="instrument_id"),
        ),
        sessions=pd.DataFrame(
            {"session_open_at": [day.tz_localize("UTC")], "session_close_at": [(day + pd.Timedelta("23h")).tz_localize("UTC")]},
            index=pd.DatetimeIndex([day], name="calendar_date"),
        ).astype("datetime64[us, UTC]"),
    )  # fmt: skip
    return ExchangeReference(rules, {"GEJWM1": 1}, as_of_seq=10**9)


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), CELL),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
FEED_BODY = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["trade", "quote"]) | JSON_VALUE,
        "trade_id": CELL | JSON_VALUE,
        "symbol": st.just("GEJWM1") | CELL,
        "executed_at": st.just("2026-03-02T11:04:05.123456Z") | CELL | JSON_VALUE,
        "price_ghs_per_t": st.floats() | CELL | JSON_VALUE,
        "quantity_t": st.integers() | CELL | JSON_VALUE,
        "aggressor_side": CELL,
        "buyer_member_id": st.just("MBR0001") | CELL,
        "seller_member_id": st.just("MBR0001") | JSON_VALUE,
    },
)


def test_fuzz_feed_judge_never_raises_and_judges_every_message():
    import json

    tally = Tally()
    reference = feed_reference()
    published = datetime(2026, 3, 2, 11, 5, tzinfo=UTC)

    @FUZZ
    @given(bodies=st.lists(FEED_BODY, min_size=1, max_size=8), cut=st.integers(0, 40))
    def check(bodies, cut):
        payloads = [json.dumps(body) for body in bodies]
        payloads[-1] = payloads[-1][: len(payloads[-1]) - cut]  # the last one may be cut short
        messages = [FeedMessage(seq, published, payload) for seq, payload in enumerate(payloads, start=1)]
        verdicts, _ = tally.run(judge, messages, reference, {})
        judged = [t["seq"] for t in verdicts.trades] + [m.seq for m, _ in verdicts.quarantined]
        assert sorted(judged) == [m.seq for m in messages], "every message is a trade or quarantined"
        assert all(reason for _, reason in verdicts.quarantined)

    try:
        check()
    finally:
        ledger.bad_input(
            "fuzz: live feed message judge",
            tally.tried,
            tally.tried - len(tally.crashes),
            crashed=len(tally.crashes),
            detail="random trade-shaped JSON (wrong types, nesting, NaN/Inf, cut short)",
        )
