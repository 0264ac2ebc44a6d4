"""One clock: nothing but gcx/clock.py asks the system what time it is.

A fixture that builds its world from `date.today()`, or a route that counts the free tier's delay
from `datetime.now()`, makes the suite pass on some days and fail on others (a holiday, a long
weekend) and makes "now" impossible to set in tests. This test finds such calls by reading the
code, in a fraction of a second.
"""

import ast
from pathlib import Path

import pytest

from gcx import clock

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("gcx", "api", "gcx_pipelines", "ml", "bench", "tests")
THE_CLOCK = ROOT / "gcx" / "clock.py"
ASKS_THE_TIME = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "today"),
    ("datetime", "utcnow"),
    ("Timestamp", "now"),
    ("Timestamp", "today"),
    ("Timestamp", "utcnow"),
}
SQL_ASKS_THE_TIME = ("current_date",)
"""`now()` stays allowed: it compares with the moment a row was written (`loaded_at`), which is the
database's own clock, not a day of the data."""


def clock_calls(source: str) -> list[tuple[int, str]]:
    """(line, call) of every `date.today()`, `datetime.now()`, `pd.Timestamp.now()`... in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (owner_name, node.func.attr) in ASKS_THE_TIME:
                found.append((node.lineno, f"{owner_name}.{node.func.attr}()"))
    return found


def sql_clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, text) of string literals that ask the database for today (`current_date`): a world or
    an expectation built on it moves with the calendar."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            lowered = node.value.lower()
            found += [(node.lineno, word) for word in SQL_ASKS_THE_TIME if word in lowered]
    return found


def python_files() -> list[Path]:
    return sorted(path for folder in CHECKED for path in (ROOT / folder).rglob("*.py") if path != THE_CLOCK)


def test_nothing_but_the_clock_asks_what_time_it_is():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {call}"
        for path in python_files()
        for line, call in clock_calls(path.read_text())
    ]
    assert not offenders, "ask gcx.clock.now() / today() instead:\n" + "\n".join(offenders)


def test_no_test_asks_the_database_what_day_it_is():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {word}"
        for path in python_files()
        if path.is_relative_to(ROOT / "tests") and path != Path(__file__).resolve()
        for line, word in sql_clock_reads(path.read_text())
    ]
    assert not offenders, "pass gcx.clock.now() / a world's fixed date as a parameter:\n" + "\n".join(
        offenders
    )


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import date\nstart = date.today()",
        "import datetime\nstart = datetime.datetime.now(datetime.UTC)",
        "import pandas as pd\nday = pd.Timestamp.now(tz='UTC').date()",
    ],
)
def test_the_finder_sees_each_way_of_asking(source):
    assert clock_calls(source)


def test_the_clock_stands_where_it_is_set_and_runs_on(platform_clock):
    moment = clock.now()
    assert platform_clock <= moment < platform_clock.replace(hour=10)  # the world's morning, not today's
    assert clock.today() == platform_clock.date()
