"""The exchange source database: the GCX trading system's tables that the lakehouse extracts from.

The simulator fills it, and `gcx import trades` loads real exports into it; its schema is
`gcx/simulator/exchange_schema.sql` (see docs/sources.md for every column).
"""

from pathlib import Path

import psycopg

SCHEMA_SQL = Path(__file__).parent / "simulator" / "exchange_schema.sql"


def ensure_schema(conn: psycopg.Connection) -> None:
    """Create the exchange tables that do not exist yet (idempotent)."""
    conn.execute(SCHEMA_SQL.read_text())
