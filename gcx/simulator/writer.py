"""Writing to the exchange database: schema, reset, and COPY on a background thread.

Rows reach PostgreSQL as CSV formatted by Arrow (C++, outside the GIL) and sent with ``COPY ...
FROM STDIN``. A writer thread owns the connection and works through a short queue of days, so the
main thread generates day N+1 while the server ingests day N; the queue bound keeps memory at a few
days' rows whatever the length of the simulation. Each day is one transaction.
"""

from __future__ import annotations

import io
import queue
import threading
from collections import Counter

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv

from gcx import database
from gcx.settings import Settings

EXCHANGE_TABLES = (
    "trading_calendar", "warehouses", "instruments", "members", "beneficial_owners", "accounts",
    "orders", "order_events", "trades", "settlements", "warehouse_receipts", "feed_messages",
)  # fmt: skip
"""Every table of exchange_schema.sql, parents before children."""
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
_CHUNK = 1 << 20


def reset_exchange(conn: psycopg.Connection) -> None:
    """Empty every exchange table (the simulated world is replaced, not appended to)."""
    tables = ", ".join(EXCHANGE_TABLES)
    conn.execute(f"truncate table {tables} restart identity")


def to_csv(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pa_csv.write_csv(table, buffer, _CSV_OPTIONS)
    return buffer.getvalue()


def copy_csv(conn: psycopg.Connection, name: str, column_names: list[str], data: bytes | memoryview) -> None:
    """COPY pre-formatted CSV rows into a table."""
    columns = ", ".join(column_names)
    with conn.cursor().copy(f"copy {name} ({columns}) from stdin (format csv)") as copy:
        view = memoryview(data)
        for offset in range(0, len(view), _CHUNK):
            copy.write(view[offset : offset + _CHUNK])


class ExchangeWriter:
    """Writes batches of (table name, Arrow table) on a background thread, one transaction each."""

    def __init__(self, settings: Settings | None = None, max_pending: int = 2) -> None:
        self._settings = settings
        self._queue: queue.Queue[list[tuple[str, pa.Table]] | None] = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self.rows: Counter[str] = Counter()
        self._thread = threading.Thread(target=self._run, name="gcx-exchange-writer", daemon=True)
        self._started = False

    def __enter__(self) -> ExchangeWriter:
        self._thread.start()
        self._started = True
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc is None:
            self._raise_if_failed()

    def write(self, batch: list[tuple[str, pa.Table]]) -> None:
        """Queue one transaction's tables (blocks while the writer is ``max_pending`` batches behind)."""
        self._raise_if_failed()
        for name, table in batch:
            self.rows[name] += table.num_rows
        self._queue.put(batch)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError("writing to the exchange database failed") from self._error

    def _run(self) -> None:
        try:
            with database.connect("exchange", settings=self._settings) as conn:
                conn.execute("set synchronous_commit = off")
                while (batch := self._queue.get()) is not None:
                    for name, table in batch:
                        if table.num_rows:
                            copy_csv(conn, name, table.column_names, to_csv(table))
                    conn.commit()
        except BaseException as error:  # surfaced to the producer by write() / __exit__
            self._error = error
            while self._queue.get() is not None:  # unblock the producer until it stops
                pass
