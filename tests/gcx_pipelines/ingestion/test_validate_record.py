"""`validate_record` (one record, value by value) gives every record of text the verdict `validate`
(a pandas batch) gives it: the same reasons, in the same order, for every dataset's declarations.

The live feed judges each message with `validate_record`, and file drops go through `validate`;
this property test is what lets the two share one set of rules."""

import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gcx.ingestion.datasets import DATASETS, DATASETS_BY_TABLE, Dataset
from gcx.ingestion.validate import Column, Reference, validate, validate_record

DAY = date(2026, 11, 20)
MEMBERS = ("MBR0001", "MBR0002")
OWNERS = ("BO000001",)
TRADES = DATASETS_BY_TABLE["exchange__trades"]

REFERENCE = Reference(
    ids={
        "member": frozenset(MEMBERS),
        "beneficial_owner": frozenset(OWNERS),
        "instrument": frozenset({1, 2, 3}),
    },
    instruments=pd.DataFrame(
        {
            "venue": ["GCX", "GCX", "external"],
            "delisted_on": pd.to_datetime([None, "2026-11-20", None]).astype("datetime64[us]"),
        },
        index=pd.Index([1, 2, 3], name="instrument_id"),
    ),
    sessions=pd.DataFrame(
        {
            "session_open_at": pd.to_datetime(["2026-11-19 10:00", "2026-11-20 10:00", None], utc=True),
            "session_close_at": pd.to_datetime(["2026-11-19 14:00", "2026-11-20 14:00", None], utc=True),
        },
        index=pd.DatetimeIndex(
            pd.to_datetime(["2026-11-19", "2026-11-20", "2026-11-21"]), name="calendar_date"
        ),
    )
    .astype("datetime64[us, UTC]")
    .pipe(lambda frame: frame.set_axis(frame.index.astype("datetime64[us]"))),
)

ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
"""Anything at all (but lone surrogates, which Arrow cannot hold and the feed quarantines first)."""
# blank to Arrow or to Python, NUL, digits pandas does not read as numbers, words for nothing
ODD_TEXT = st.sampled_from(
    ["", "  ", "\u3000", "\x1c", "a\x00b", "\x00", "\u0661\u0662", "\uff11\uff12", "null", "NaN", "inf"]
)


def _instant_texts() -> st.SearchStrategy[str]:
    near_sessions = st.datetimes(datetime(2026, 11, 18), datetime(2026, 11, 23))
    anywhere = st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30))
    offsets = st.integers(-(15 * 60 + 59), 15 * 60 + 59).map(
        lambda minutes: timezone(timedelta(minutes=minutes))
    )

    def written(moment: datetime, offset: timezone, separator: str, style: int) -> str:
        text = moment.replace(tzinfo=offset).isoformat(sep=separator)
        if style == 1:
            text = text.replace("+00:00", "Z")
        elif style == 2:  # +HHMM
            text = text[:-3] + text[-2:]
        return text

    return st.one_of(
        st.builds(written, near_sessions, st.just(UTC) | offsets, st.sampled_from("T "), st.integers(0, 2)),
        st.builds(written, anywhere, offsets, st.sampled_from("T "), st.integers(0, 2)),
        st.sampled_from(
            [
                "2026-11-20T00:00:00Z",  # the delisting day starts
                "2026-11-20T10:00:00Z",  # the session opens
                "2026-11-20T14:00:00+00:00",  # and closes
                "2026-11-21T14:00:00Z",  # a day after the close: the updated_at rule's bound
            ]
        ),
        st.sampled_from(
            [
                "0001-01-01T00:30:00+01:00",
                "0001-01-01T00:30:00-01:00",
                "9999-12-31T23:30:00-01:00",
                "9999-12-31T23:30:00+01:00",
                "2026-11-20T24:00:00Z",
                "2026-11-20T10:00:60Z",
                "2026-02-30T10:00:00Z",
                "2026-11-20T10:00:00+16:00",
                "2026-11-20T10:00:00+05:75",
                "2026-11-20T10:00:00.1234567Z",
                "2026-11-20T10:00:00",
                "2026-11-20",
                "\u0662\u0660\u0662\u0666-11-20T10:00:00Z",
            ]
        ),
    )


def _number_texts(integers: bool) -> st.SearchStrategy[str]:
    edges = ["0", "-0", "+5", "007", "1e400", "1e-400", "0e5", "0.00001", "0.00005", "+.5", "5.", "1e15",
             "9223372036854775807", "9223372036854775808", "-9223372036854775808", "32767", "32768",
             "-32769", "2147483648", "99999999.99995", "1_000", " 1", "0x10"]  # fmt: skip
    return st.one_of(
        st.sampled_from(["1", "2", "3", "99"]),  # the reference's instruments, and one it does not know
        st.integers(-(2**70), 2**70).map(str),
        st.integers(-5, 700).map(str),
        st.sampled_from(edges),
        *([] if integers else [st.floats().map(repr), st.decimals(allow_nan=False, places=5).map(str)]),
    )


def _texts(column: Column) -> st.SearchStrategy[str | None]:
    """Values a source could send for `column`: good ones, edge cases, and anything at all."""
    type_ = column.type
    if pa.types.is_timestamp(type_):
        typed = _instant_texts()
    elif pa.types.is_date(type_):
        typed = st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat) | st.sampled_from(
            ["1999-12-31", "2026-02-30", "0000-01-01", "\u0662\u0660\u0662\u0666-01-01", "2026-1-01"]
        )
    elif pa.types.is_boolean(type_):
        typed = st.sampled_from(["true", "false", "True", "1", "t"])
    elif pa.types.is_integer(type_) or pa.types.is_decimal(type_) or pa.types.is_floating(type_):
        typed = _number_texts(pa.types.is_integer(type_))
    else:
        typed = st.sampled_from(
            [*column.one_of, *MEMBERS, *OWNERS, "member", "beneficial_owner", "GH", "gh", "G", "T1", "BUY"]
        )
    return st.one_of(typed, typed, typed, st.none(), ODD_TEXT, ANY_TEXT)  # mostly values of the type


def _records(dataset: Dataset) -> st.SearchStrategy[list[dict[str, str | None]]]:
    record = st.fixed_dictionaries({column.name: _texts(column) for column in dataset.columns})
    return st.lists(record, min_size=1, max_size=12)


def _batch_reasons(dataset: Dataset, records: list[dict], partition_day: date | None) -> list[str | None]:
    table = pa.table(
        {c.name: pa.array([r.get(c.name) for r in records], pa.string()) for c in dataset.columns}
    )
    verdict = validate(table, dataset.columns, dataset.rules, REFERENCE, partition_day=partition_day)
    return [verdict.reasons.get(index) for index in range(len(records))]


def _check_agreement(dataset: Dataset, records: list[dict], partition_day: date | None) -> None:
    one_by_one = [
        validate_record(record, dataset.columns, dataset.rules, REFERENCE, partition_day=partition_day)
        for record in records
    ]
    assert one_by_one == _batch_reasons(dataset, records, partition_day)


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda dataset: dataset.table)
def test_every_dataset_judges_a_record_as_its_batch_does(dataset: Dataset) -> None:
    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(records=_records(dataset), partition_day=st.none() | st.just(DAY))
    def agrees(records: list[dict], partition_day: date | None) -> None:
        _check_agreement(dataset, records, partition_day)

    agrees()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records(TRADES))
def test_feed_trades_are_judged_as_in_a_batch(records: list[dict]) -> None:
    """The live feed's dataset gets the most examples."""
    _check_agreement(TRADES, records, None)


def test_the_trade_rules_agree_on_their_boundaries() -> None:
    """Equality at a bound is where two implementations of a rule part; random values rarely land there."""
    instants = ["2026-11-19T23:59:59.999999Z", "2026-11-20T00:00:00Z", "2026-11-20T09:59:59Z", "2026-11-20T10:00:00Z",
                "2026-11-20T14:00:00Z", "2026-11-20T14:00:00.000001Z", "2026-11-21T11:00:00Z", None]  # fmt: skip
    records = [
        {"trade_id": "T1", "instrument_id": instrument, "executed_at": executed_at, "price_ghs_per_t": "1",
         "quantity_t": "1", "buyer_member_id": buyer, "seller_member_id": "MBR0002", "updated_at": updated_at}
        for instrument, executed_at, updated_at, buyer in itertools.product(
            ["1", "2", "3", "99", None], instants, ["2026-11-19T14:00:00Z", "2026-11-20T10:00:00Z"], ["MBR0001", None]
        )
    ]  # fmt: skip
    _check_agreement(TRADES, records, None)


def test_a_good_trade_passes_and_a_bad_one_lists_every_problem() -> None:
    good = {
        "trade_id": "T1", "instrument_id": "1", "executed_at": "2026-11-20T11:00:00+00:00",
        "price_ghs_per_t": "3200.5", "quantity_t": "50", "buyer_member_id": "MBR0001",
        "seller_member_id": "MBR0002", "aggressor_side": "buy", "updated_at": "2026-11-20T11:00:01+00:00",
    }  # fmt: skip
    assert validate_record(good, TRADES.columns, TRADES.rules, REFERENCE) is None
    bad = {
        **good,
        "instrument_id": "2",
        "price_ghs_per_t": "-1",
        "aggressor_side": "both",
        "buyer_member_id": None,
    }
    assert validate_record(bad, TRADES.columns, TRADES.rules, REFERENCE) == (
        "price_ghs_per_t: must be > 0 (got -1); "
        "aggressor_side: must be one of buy, sell (got 'both'); "
        "instrument_id: must not be delisted on the trade date (got 2); "
        "buyer_member_id: must be a known member on GCX trades (got null)"
    )
