"""Bad input in `gcx import trades`: its contract is not quarantine but refusal of the whole file,
naming every row and column at fault, with nothing loaded. Every malformed file of the corpus gets
an ImportRefused (never another exception) and the exchange is unchanged."""

import ledger
import malformed
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gcx import database
from gcx.importer import ImportRefused, import_trades


def trade_count(settings) -> int:
    with database.connect("exchange", settings=settings) as conn:
        return conn.execute("select count(*) from trades").fetchone()[0]


def parquet_files(tmp_path) -> list[malformed.Bad]:
    good = {"trade_id": ["P1"], "symbol": ["GEJWM1"], "price": [3150.5], "quantity": [50.0]}
    at = pd.to_datetime(["2025-03-03T10:15:00Z"], utc=True)
    cases = [
        ("no_time_zone", pa.table(good | {"executed_at": at.tz_localize(None)}), "has no time zone"),
        ("nan", pa.table(good | {"executed_at": at, "price": [float("nan")]}), "row 1, column 'price'"),
        ("infinity", pa.table(good | {"executed_at": at, "quantity": [float("inf")]}), "row 1, column 'quantity'"),
        ("missing_column", pa.table({k: v for k, v in good.items() if k != "price"} | {"executed_at": at}), "missing column(s): price"),
    ]  # fmt: skip
    files = []
    for fault, table, reason in cases:
        path = tmp_path / f"{fault}.parquet"
        pq.write_table(table, path)
        files.append(malformed.Bad(f"parquet_{fault}", path.read_bytes(), reason))
    files.append(malformed.Bad("parquet_corrupt", b"PAR1 cut short", "not a readable Parquet file"))
    return files


def test_every_malformed_file_is_refused_whole_naming_its_fault(settings, tmp_path):
    malformed.reset_exchange(settings)
    before = trade_count(settings)
    cases = malformed.import_files() + parquet_files(tmp_path)
    refused, crashed, problems = 0, 0, []
    for number, case in enumerate(cases):
        path = (
            tmp_path
            / f"{number:02d}_{case.fault}{'.parquet' if case.fault.startswith('parquet') else '.csv'}"
        )
        path.write_bytes(case.record)
        try:
            import_trades(path, settings=settings)
            problems.append(f"{case.fault}: loaded")
        except ImportRefused as refusal:
            if any(case.reason in error for error in refusal.errors):
                refused += 1
            else:
                problems.append(f"{case.fault}: want {case.reason!r}, got {refusal.errors}")
        except Exception as error:  # any other exception is the finding
            crashed += 1
            problems.append(f"{case.fault}: crashed with {type(error).__name__}: {error}")
    after = trade_count(settings)
    ledger.bad_input(
        "imported files (gcx import trades)",
        len(cases),
        refused,
        crashed=crashed,
        detail="contract: refused whole, row and column named, nothing loaded (not quarantine); "
        f"CSV and Parquet; trades in the exchange before/after: {before}/{after}",
    )
    assert after == before, "a refused file loaded something"
    assert not problems, "\n".join(problems)
