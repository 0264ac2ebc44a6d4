"""The one runner: a dataset's suite (suites.py) run by Great Expectations on one partition's rows.

Great Expectations runs in an ephemeral context (nothing is written to disk) on a pandas frame
holding only the partition: `raw.<dataset> where _partition_date = <day>` for raw, the partition's
Parquet file for bronze. It is imported inside the functions that use it, once per process, since
its import alone takes seconds.

A backfill checks many days. Each Great Expectations run has a fixed cost (80 ms per suite here,
against 16 µs per row read; bench/quality_checks.py) that dwarfs a day's rows, so `validate_raw_days` runs the suite once on a
window of days, with each partition bound turned into a per-row column. When that window passes,
every day in it passes the per-day suite (each rewritten expectation is the per-day one or
stricter); when anything fails, the window's days are validated one by one, so a failure report is
always the per-day one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from gcx.quality.suites import DatasetSuite, Expect, partition_parameters, suite_for

if TYPE_CHECKING:
    import pandas as pd

PARTIAL_UNEXPECTED = 5
"""How many offending values a failure report quotes."""
WINDOW_ROWS = 1_000_000
"""The most rows one window validation holds in memory; a longer window is cut into several."""
PARTITION_DATE = "_partition_date"
BOUND_PREFIX = "_bound_"
"""Window frames carry each partition parameter as a column, e.g. `_bound_partition_end`."""


@dataclass(frozen=True)
class Outcome:
    """One expectation's result, as the reports and quality.check_results show it."""

    expectation: str
    success: bool
    severity: str
    observed: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"expectation": self.expectation, "severity": self.severity, **self.observed}


@dataclass(frozen=True)
class SuiteResult:
    """A suite run on one partition."""

    suite: str
    partition_date: date | None
    rows: int
    outcomes: tuple[Outcome, ...]
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def passed_count(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def severity(self) -> str | None:
        """None when everything passed, else "critical" if any critical expectation failed, else "warning"."""
        if self.success:
            return None
        return "critical" if any(o.severity == "critical" for o in self.failures) else "warning"

    def details(self) -> dict[str, Any]:
        """What quality.check_results keeps in `details` (JSON)."""
        return {
            "suite": self.suite,
            "rows": self.rows,
            "severity": self.severity,
            "seconds": round(self.seconds, 3),
            "failures": [o.as_dict() for o in self.failures],
        }


@cache
def _batch_definition():
    """An ephemeral GX context with one pandas data source, made once per process."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("gcx_partitions").add_dataframe_asset("partition")
    return asset.add_batch_definition_whole_dataframe("whole_partition")


def _gx_expectation(expect: Expect):
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    cls = getattr(gxe, "".join(part.title() for part in expect.type.split("_")))
    extra: dict[str, Any] = {"severity": expect.severity, "meta": {"name": expect.name}}
    if expect.where is not None:
        extra["row_condition"] = Column(expect.where[0]) == expect.where[1]
    return cls(**expect.kwargs, **extra)


def validate_frame(
    frame: pd.DataFrame,
    expectations: Sequence[Expect],
    parameters: Mapping[str, Any] | None = None,
    suite_name: str = "suite",
) -> tuple[Outcome, ...]:
    """Run expectations on a frame with Great Expectations; outcomes in the order given."""
    import great_expectations as gx

    names = [e.name for e in expectations]
    if len(set(names)) != len(names):
        raise ValueError(f"suite {suite_name} names an expectation twice: {names}")
    suite = gx.ExpectationSuite(name=suite_name, expectations=[_gx_expectation(e) for e in expectations])
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        expectation_parameters=dict(parameters or {}),
        result_format={"result_format": "BASIC", "partial_unexpected_count": PARTIAL_UNEXPECTED},
    )
    by_name = {r.expectation_config.meta["name"]: r for r in result.results}
    severity = {e.name: e.severity for e in expectations}
    return tuple(
        Outcome(name, bool(by_name[name].success), severity[name], _observed(by_name[name])) for name in names
    )


def _observed(result) -> dict[str, Any]:
    """The observed values worth reporting: counts and examples of offending values, or the error."""
    observed: dict[str, Any] = {}
    raw = result.result or {}
    for key in ("observed_value", "element_count", "unexpected_count", "unexpected_percent"):
        if raw.get(key) is not None:
            observed[key] = _jsonable(raw[key])
    if raw.get("unexpected_count"):
        observed["examples"] = _jsonable(raw.get("partial_unexpected_list", [])[:PARTIAL_UNEXPECTED])
    exception_info = result.exception_info or {}
    infos = [exception_info, *(v for v in exception_info.values() if isinstance(v, dict))]
    errors = [info.get("exception_message") for info in infos if info.get("raised_exception")]
    if errors:
        observed["error"] = str(errors[0])
    return observed


def _jsonable(value: Any) -> Any:
    """Plain JSON values (PostgreSQL's jsonb refuses NaN; numpy and pandas scalars become Python)."""
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):  # datetime, date, pandas Timestamp (NaT has no valid isoformat)
        try:
            return None if value != value else value.isoformat()
        except (TypeError, ValueError):
            return str(value)
    if hasattr(value, "item"):  # numpy scalars, numpy.datetime64
        return _jsonable(value.item())
    return str(value)


def source_columns(conn: psycopg.Connection, dataset: str) -> list[tuple[str, str]]:
    """The source columns of raw.<dataset> (name, PostgreSQL type), lineage columns left out."""
    rows = conn.execute(
        """
        select column_name, data_type from information_schema.columns
        where table_schema = 'raw' and table_name = %s and column_name not like '\\_%%'
        order by ordinal_position
        """,
        (dataset,),
    ).fetchall()
    if not rows:
        raise LookupError(f"raw.{dataset} does not exist in the warehouse")
    return [(name, data_type) for name, data_type in rows]


def _select_expression(column: str, data_type: str) -> sql.Composable:
    """Numbers as doubles and dates as UTC midnights, so that every bound compares with one type."""
    name = sql.Identifier(column)
    if data_type == "numeric":
        return sql.SQL("t.{}::float8 as {}").format(name, name)
    if data_type == "date":
        return sql.SQL("t.{}::timestamp at time zone 'UTC' as {}").format(name, name)
    return sql.SQL("t.{}").format(name)


def load_raw_partitions(conn: psycopg.Connection, suite: DatasetSuite, days: Sequence[date]) -> pd.DataFrame:
    """The rows of raw.<dataset> in the given partitions: source columns, the suite's lookups and
    `_partition_date`."""
    import pandas as pd

    columns = source_columns(conn, suite.name)
    select = [_select_expression(name, data_type) for name, data_type in columns]
    select += [
        sql.SQL(expression + " as {}").format(sql.Identifier(alias))
        for alias, expression in suite.lookups.items()
    ]
    select.append(sql.SQL("t._partition_date as {}").format(sql.Identifier(PARTITION_DATE)))
    query = sql.SQL("select {} from raw.{} t where t._partition_date = any(%s)").format(
        sql.SQL(", ").join(select), sql.Identifier(suite.name)
    )
    with conn.cursor() as cursor:
        cursor.execute(query, (list(days),))
        names = [d.name for d in cursor.description]
        frame = pd.DataFrame.from_records(cursor.fetchall(), columns=names)
    for name in names:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC")
    return frame


def load_raw_partition(conn: psycopg.Connection, suite: DatasetSuite, partition_date: date) -> pd.DataFrame:
    """The partition's rows of raw.<dataset>, source columns plus the suite's lookups."""
    return load_raw_partitions(conn, suite, [partition_date]).drop(columns=PARTITION_DATE)


def validate_raw_partition(
    conn: psycopg.Connection,
    dataset: str | DatasetSuite,
    partition_date: date | str,
    first_partition: bool = False,
) -> SuiteResult:
    """Run a dataset's suite on one partition of raw.<dataset>.

    `first_partition`: the partition is ingestion's first, which also holds every earlier row.
    """
    suite = dataset if isinstance(dataset, DatasetSuite) else suite_for(dataset)
    day = _as_date(partition_date)
    started = time.perf_counter()
    frame = load_raw_partition(conn, suite, day)
    parameters = partition_parameters(day, first_partition)
    outcomes = validate_frame(frame, suite.all_expectations(), parameters, f"raw.{suite.name}")
    return SuiteResult(f"raw.{suite.name}", day, len(frame), outcomes, time.perf_counter() - started)


def validate_raw_days(
    conn: psycopg.Connection,
    dataset: str | DatasetSuite,
    days: Sequence[date],
    first_day: date | None = None,
) -> Iterator[SuiteResult]:
    """Run a dataset's suite on each of several partitions of raw.<dataset>, yielding one result
    per day in the order given; `first_day` is ingestion's first partition (see validate_raw_partition).

    One Great Expectations run covers a window of days (see the module docstring); a window that
    fails, or a day without rows, is validated day by day.
    """
    suite = dataset if isinstance(dataset, DatasetSuite) else suite_for(dataset)
    days = [_as_date(day) for day in days]
    rows = _rows_per_day(conn, suite, days)
    for window in _windows(days, rows):
        passed = _validate_window(conn, suite, window, first_day) if len(window) > 1 else None
        if passed is not None:
            yield from passed
        else:
            for day in window:
                yield validate_raw_partition(conn, suite, day, first_partition=day == first_day)


def _rows_per_day(conn: psycopg.Connection, suite: DatasetSuite, days: Sequence[date]) -> dict[date, int]:
    query = sql.SQL("select _partition_date, count(*) from raw.{} where _partition_date = any(%s) group by 1")
    rows = conn.execute(query.format(sql.Identifier(suite.name)), (list(days),)).fetchall()
    return {day: int(count) for day, count in rows}


def _windows(days: Sequence[date], rows: Mapping[date, int]) -> Iterator[list[date]]:
    """Runs of consecutive (given-order) days with rows, each under WINDOW_ROWS; a day without
    rows is a window of its own."""
    window: list[date] = []
    held = 0
    for day in days:
        count = rows.get(day, 0)
        if window and (count == 0 or held + count > WINDOW_ROWS):
            yield window
            window, held = [], 0
        if count == 0:
            yield [day]
            continue
        window.append(day)
        held += count
    if window:
        yield window


def _validate_window(
    conn: psycopg.Connection,
    suite: DatasetSuite,
    days: Sequence[date],
    first_day: date | None,
) -> list[SuiteResult] | None:
    """Every day's passing result, or None when anything in the window fails."""
    import pandas as pd

    started = time.perf_counter()
    frame = load_raw_partitions(conn, suite, days)
    partition_days = pd.Series(frame[PARTITION_DATE])
    for name in partition_parameters(days[0]):
        values = {day: partition_parameters(day, day == first_day)[name] for day in days}
        frame[BOUND_PREFIX + name] = pd.to_datetime(partition_days.map(values), utc=True)
    expectations = suite.all_expectations()
    rewritten = [window_expectations(e) for e in expectations]
    outcomes = validate_frame(frame, [w for ws in rewritten for w in ws], suite_name=f"raw.{suite.name}")
    if not all(o.success for o in outcomes):
        return None
    seconds = time.perf_counter() - started
    loaded = (
        partition_days.value_counts().to_dict()
    )  # the rows validated, should a load have run since counting
    return [
        SuiteResult(
            f"raw.{suite.name}",
            day,
            loaded.get(day, 0),
            tuple(
                Outcome(e.name, True, e.severity, {"element_count": loaded.get(day, 0)}) for e in expectations
            ),
            seconds * loaded.get(day, 0) / max(len(frame), 1),
        )
        for day in days
    ]


def window_expectations(expect: Expect) -> list[Expect]:
    """The expectations that hold on a window of days when `expect` holds on each of its days.

    Uniqueness within a partition becomes uniqueness with `_partition_date`; a bound that is a
    partition parameter becomes a comparison with that parameter's column (a pair expectation,
    which skips rows where the column is null, as `between` does).
    """
    kwargs = dict(expect.kwargs)
    if expect.type == "expect_column_values_to_be_unique":
        return [
            replace(
                expect,
                type="expect_compound_columns_to_be_unique",
                kwargs={"column_list": [kwargs["column"], PARTITION_DATE]},
            )
        ]
    if expect.type == "expect_compound_columns_to_be_unique":
        return [replace(expect, kwargs={"column_list": [*kwargs["column_list"], PARTITION_DATE]})]
    if expect.type != "expect_column_values_to_be_between":
        return [expect]
    column = kwargs["column"]
    pairs = []
    for side, strict, column_a, column_b in (
        ("min_value", "strict_min", column, None),
        ("max_value", "strict_max", None, column),
    ):
        bound = kwargs.get(side)
        if not (isinstance(bound, Mapping) and "$PARAMETER" in bound):
            continue
        kwargs[side] = None
        bound_column = BOUND_PREFIX + bound["$PARAMETER"]
        pair = {
            "column_A": column_a or bound_column,
            "column_B": column_b or bound_column,
            "or_equal": not kwargs.get(strict, False),
            "ignore_row_if": "either_value_is_missing",
        }
        pairs.append(replace(expect, type="expect_column_pair_values_a_to_be_greater_than_b", kwargs=pair))
    if not pairs:
        return [expect]
    constant = (
        [replace(expect, kwargs=kwargs)]
        if kwargs["min_value"] is not None or kwargs["max_value"] is not None
        else []
    )
    return [*constant, *pairs]


def lake_file(lake_dir: Path, dataset: str, partition_date: date) -> Path:
    """Where ingestion writes a partition: <lake>/<source>/<dataset>/date=YYYY-MM-DD/part-0.parquet."""
    source, name = dataset.split("__", 1)
    return lake_dir / source / name / f"date={partition_date.isoformat()}" / "part-0.parquet"


def raw_and_quarantined_rows(conn: psycopg.Connection, dataset: str, partition_date: date) -> tuple[int, int]:
    """Rows loaded into raw and rows quarantined for one partition."""
    source, name = dataset.split("__", 1)
    raw_rows = conn.execute(
        sql.SQL("select count(*) from raw.{} where _partition_date = %s").format(sql.Identifier(dataset)),
        (partition_date,),
    ).fetchone()[0]
    quarantined = conn.execute(
        "select count(*) from raw.quarantine where source = %s and dataset = %s and partition_date = %s",
        (source, name, partition_date),
    ).fetchone()[0]
    return int(raw_rows), int(quarantined)


def bronze_expectations(columns: Sequence[str], expected_rows: int) -> list[Expect]:
    return [
        Expect("expect_table_columns_to_match_set", {"column_set": list(columns), "exact_match": True}),
        Expect("expect_table_row_count_to_equal", {"value": expected_rows}),
    ]


def validate_bronze_partition(
    conn: psycopg.Connection, lake_dir: Path, dataset: str, partition_date: date | str
) -> SuiteResult:
    """The partition's lake file has the source's columns and every row: raw rows + quarantined rows.

    Columns starting with an underscore (lineage the ingestion may add) are left out of the
    comparison; the expected columns are raw.<dataset>'s source columns.
    """
    import pyarrow.parquet as pq

    suite_for(dataset)
    day = _as_date(partition_date)
    started = time.perf_counter()
    path = lake_file(lake_dir, dataset, day)
    raw_rows, quarantined = raw_and_quarantined_rows(conn, dataset, day)
    expected_columns = [name for name, _ in source_columns(conn, dataset)]
    name = f"bronze.{dataset}"
    if not path.exists():
        missing = Outcome(
            f"lake_file_exists({path.relative_to(lake_dir)})",
            False,
            "critical",
            {"observed_value": "missing"},
        )
        return SuiteResult(name, day, 0, (missing,), time.perf_counter() - started)
    frame = pq.read_table(path).to_pandas()
    frame = frame[[c for c in frame.columns if not str(c).startswith("_")]]
    outcomes = validate_frame(
        frame, bronze_expectations(expected_columns, raw_rows + quarantined), suite_name=name
    )
    observed = {"raw_rows": raw_rows, "quarantined_rows": quarantined}
    outcomes = tuple(
        Outcome(o.expectation, o.success, o.severity, o.observed | observed)
        if "row_count" in o.expectation
        else o
        for o in outcomes
    )
    return SuiteResult(name, day, len(frame), outcomes, time.perf_counter() - started)


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value)
