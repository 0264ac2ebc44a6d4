"""Fixtures of the quality tests: the warehouse's raw and quality schemas, and reference rows."""

from collections.abc import Iterator

import psycopg
import pytest
from quality_rows import GOOD_ROWS, REFERENCE_DAY, remove_written, replace_partition

from gcx import database
from gcx.settings import Settings


@pytest.fixture(scope="session")
def warehouse(settings: Settings) -> Settings:
    """The session's warehouse: its raw and quality tables are there (gcx/warehouse/ddl/)."""
    return settings


@pytest.fixture
def conn(warehouse: Settings) -> Iterator[psycopg.Connection]:
    with database.connect("warehouse", autocommit=True) as connection:
        yield connection


@pytest.fixture(autouse=True)
def _remove_hand_made_rows(settings: Settings) -> Iterator[None]:
    yield
    with database.connect("warehouse", autocommit=True) as connection:
        remove_written(connection)


@pytest.fixture
def reference_instruments(warehouse: Settings) -> None:
    """Instruments in raw the day before DAY: orders and trades look up their venue there."""
    rows = [{**row, "updated_at": "2024-03-04T12:00:00Z"} for row in GOOD_ROWS["exchange__instruments"]]
    with database.connect("warehouse", autocommit=True) as connection:
        replace_partition(connection, "exchange__instruments", REFERENCE_DAY, rows)
