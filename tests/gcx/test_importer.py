"""`gcx import trades`: real exports load, malformed files are refused whole, re-imports add nothing."""

import subprocess
import sys
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gcx import database
from gcx.importer import ImportRefused, import_trades


def exchange_rows(sql: str) -> list[tuple]:
    with database.connect("exchange") as conn:
        return conn.execute(sql).fetchall()


def cme_trades_in_import_schema(reference_data) -> pd.DataFrame:
    """The real CME ESU4 trades, renamed into the documented trade file schema."""
    cme = pd.read_csv(reference_data / "cme_esu4_trades_20240701.csv")
    return pd.DataFrame(
        {
            "trade_id": [f"ESU4-{n:06d}" for n in range(len(cme))],  # the sample has no trade ids
            "symbol": "ESU4",
            "executed_at": cme.ts_event_ns,
            "price": cme.price,
            "quantity": cme["size"],
            "aggressor_side": cme.side.map({"B": "buy", "A": "sell"}),
        }
    )


def sample_trades() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "trade_id": ["X1", "X2", "X3"],
            "symbol": ["GEJWM1", "GEJWM1", "GTASO3"],
            "executed_at": [
                "2025-03-03T10:15:00Z",
                "2025-03-03T11:15:00+01:00",
                "2025-03-03T12:00:00.5+00:00",
            ],
            "price": ["3150.50", "3155", "2890.25"],
            "quantity": ["50", "100", "10"],
        }
    )


def test_real_cme_trades_import_exactly(empty_exchange, reference_data, tmp_path):
    source = cme_trades_in_import_schema(reference_data)
    path = tmp_path / "esu4.csv"
    source.to_csv(path, index=False)

    result = import_trades(path, venue="CME")

    assert (result.trades_added, result.instruments_added) == (120, ["ESU4"])
    assert exchange_rows(
        "select venue, tick_size_ghs::text, lot_size_t::text, listed_on::text from instruments"
    ) == [("CME", "0.2500", "1.000", "2024-07-01")]
    loaded = pd.DataFrame(
        exchange_rows(
            "select trade_id, executed_at, price_ghs_per_t::float8, quantity_t::float8, aggressor_side "
            "from trades order by trade_id"
        ),
        columns=["trade_id", "executed_at", "price", "quantity", "aggressor_side"],
    )
    expected_instants = pd.to_datetime(source.executed_at, unit="ns", utc=True).dt.floor("us")
    assert (loaded.executed_at.map(pd.Timestamp) == expected_instants).all()
    assert loaded.price.tolist() == source.price.tolist()
    assert loaded.quantity.tolist() == source.quantity.astype(float).tolist()
    assert loaded.aggressor_side.tolist() == source.aggressor_side.tolist()


def test_reimporting_the_same_file_adds_nothing(empty_exchange, tmp_path):
    path = tmp_path / "trades.csv"
    sample_trades().to_csv(path, index=False)
    first = import_trades(path)
    second = import_trades(path)
    assert (first.trades_added, second.trades_added, second.trades_already_present) == (3, 0, 3)
    assert exchange_rows("select count(*) from trades") == [(3,)]
    assert exchange_rows("select symbol, venue from instruments order by symbol") == [
        ("GEJWM1", "external"),
        ("GTASO3", "external"),
    ]


def test_offsets_are_converted_to_utc(empty_exchange, tmp_path):
    path = tmp_path / "trades.csv"
    sample_trades().to_csv(path, index=False)
    import_trades(path)
    assert exchange_rows("select executed_at from trades where trade_id = 'X2'") == [
        (datetime(2025, 3, 3, 10, 15, tzinfo=UTC),)
    ]


def test_malformed_file_is_refused_whole_naming_rows_and_columns(empty_exchange, tmp_path):
    trades = sample_trades()
    trades.loc[1, "price"] = "-3"
    trades.loc[2, "executed_at"] = "2025-03-03 12:00"  # no offset: ambiguous, refused
    path = tmp_path / "bad.csv"
    trades.to_csv(path, index=False)

    with pytest.raises(ImportRefused) as refused:
        import_trades(path)

    assert refused.value.errors == [
        "row 2, column 'price': must be positive (got '-3')",
        "row 3, column 'executed_at': is not ISO-8601 with a UTC offset nor integer nanoseconds "
        "(got '2025-03-03 12:00')",
    ]
    assert exchange_rows("select count(*) from trades") == [(0,)]


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("trade_id", "", "is empty"),
        ("symbol", "GEJ WM1", "must be 1-32 characters without spaces"),
        ("executed_at", "1969-12-31T23:59:59Z", "is outside 1990-01-01 .. tomorrow"),
        ("price", "NaN", "is not a finite number"),
        ("price", "1e12", "is implausibly large"),
        ("price", "3150.123456", "has more than 4 decimal places"),
        ("quantity", "abc", "is not a finite number"),
        ("aggressor_side", "bid", "must be buy, sell or empty"),
    ],
)
def test_each_kind_of_bad_value_is_named(empty_exchange, tmp_path, column, value, why):
    trades = sample_trades().assign(aggressor_side="buy")
    trades.loc[0, column] = value
    path = tmp_path / "bad.csv"
    trades.to_csv(path, index=False)
    with pytest.raises(ImportRefused, match=f"row 1, column '{column}': {why}"):
        import_trades(path)


def test_missing_and_unexpected_columns_are_refused(empty_exchange, tmp_path):
    path = tmp_path / "bad.csv"
    sample_trades().drop(columns="price").assign(venue_fee="1").to_csv(path, index=False)
    with pytest.raises(ImportRefused) as refused:
        import_trades(path)
    assert refused.value.errors[:2] == ["missing column(s): price", "unexpected column(s): venue_fee"]


def test_trade_id_already_loaded_with_other_values_is_refused(empty_exchange, tmp_path):
    path = tmp_path / "trades.csv"
    sample_trades().to_csv(path, index=False)
    import_trades(path)
    changed = sample_trades()
    changed.loc[0, "price"] = "3999"
    changed.to_csv(path, index=False)
    with pytest.raises(
        ImportRefused, match="row 1, column 'trade_id': 'X1' is already loaded with different values"
    ):
        import_trades(path)
    assert exchange_rows("select price_ghs_per_t::text from trades where trade_id = 'X1'") == [("3150.5000",)]


def test_parquet_with_utc_timestamps_loads(empty_exchange, tmp_path):
    trades = sample_trades()
    table = pa.table(
        {
            "trade_id": trades.trade_id,
            "symbol": trades.symbol,
            "executed_at": pd.to_datetime(trades.executed_at, utc=True, format="ISO8601"),
            "price": trades.price.astype(float),
            "quantity": trades.quantity.astype(float),
        }
    )
    path = tmp_path / "trades.parquet"
    pq.write_table(table, path)
    assert import_trades(path).trades_added == 3
    assert exchange_rows("select count(*) from trades where executed_at = '2025-03-03T12:00:00.5Z'") == [(1,)]


def test_parquet_without_time_zone_is_refused(empty_exchange, tmp_path):
    trades = sample_trades()
    naive = pd.to_datetime(trades.executed_at, utc=True, format="ISO8601").dt.tz_localize(None)
    path = tmp_path / "trades.parquet"
    pq.write_table(pa.table({**trades.to_dict("list"), "executed_at": naive}), path)
    with pytest.raises(ImportRefused, match="has no time zone"):
        import_trades(path)


def test_cli_reports_refusal_on_stderr_with_exit_code_1(empty_exchange, tmp_path):
    path = tmp_path / "bad.csv"
    sample_trades().assign(price="free").to_csv(path, index=False)
    run = subprocess.run(
        [sys.executable, "-m", "gcx", "import", "trades", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "bad.csv refused, nothing was loaded (3 problem(s))" in run.stderr
    assert "row 1, column 'price': is not a finite number (got 'free')" in run.stderr


IMPORT_HEADER = (
    b"trade_id,symbol,executed_at,price,quantity,buyer_member_id,seller_member_id,aggressor_side\n"
)
GOOD_ROW = b"X1,GEJWM1,2025-03-03T10:15:00Z,3150.5,50,MBR0001,MBR0002,buy\n"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        # each of these once crashed the import (a psycopg or pandas error, not a refusal)
        (GOOD_ROW.replace(b"GEJWM1", b"GEJ\x00WM1"), "row 1, column 'symbol': contains a NUL character"),
        (GOOD_ROW.replace(b"X1", b"X" * 3000), "row 1, column 'trade_id': is longer than 255 characters"),
        (
            GOOD_ROW.replace(b"2025-03-03T10:15:00Z", b"9999999999999999999"),
            "row 1, column 'executed_at': is not ISO-8601 with a UTC offset nor integer nanoseconds",
        ),
        (
            GOOD_ROW.replace(b"2025-03-03T10:15:00Z", b"0000-03-03T10:15:00Z"),
            "row 1, column 'executed_at': is not ISO-8601 with a UTC offset nor integer nanoseconds",
        ),
        # and these were loaded silently wrong: a row cut short lost its last columns, 1e-7 became 0
        (b"X1,GEJWM1,2025-03-03T10:15:00Z,3150.5,5\n", "row 1: has 5 field(s), the header names 8"),
        (GOOD_ROW.replace(b"3150.5", b"1e-7"), "row 1, column 'price': has more than 4 decimal places"),
        # an encoding error names its line (it named a byte offset within pandas' buffer)
        (
            GOOD_ROW + GOOD_ROW.replace(b"MBR0001", b"MBR\xe9"),
            "line 3: not UTF-8 text (byte 0xe9 at position",
        ),
    ],
)
def test_malformed_values_are_refused_not_crashed_or_loaded_wrong(empty_exchange, tmp_path, content, problem):
    path = tmp_path / "trades.csv"
    path.write_bytes(IMPORT_HEADER + content)
    with pytest.raises(ImportRefused) as refused:
        import_trades(path)
    assert any(error.startswith(problem) for error in refused.value.errors), refused.value.errors
    assert exchange_rows("select count(*) from trades") == [(0,)]


def test_carriage_returns_in_values_load(empty_exchange, tmp_path):
    """A quoted CR once broke the COPY into the staging table."""
    path = tmp_path / "trades.csv"
    path.write_bytes(IMPORT_HEADER + GOOD_ROW.replace(b"MBR0001", b'"MBR\r0001"'))
    assert import_trades(path).trades_added == 1
    assert exchange_rows("select buyer_member_id from trades") == [("MBR\r0001",)]


def test_an_unreadable_parquet_file_is_refused(empty_exchange, tmp_path):
    path = tmp_path / "trades.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(ImportRefused, match="not a readable Parquet file"):
        import_trades(path)
