"""Helpers shared by the simulator tests: fingerprints of a simulated world."""

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from gcx import database
from gcx.settings import Settings
from gcx.simulator.writer import EXCHANGE_TABLES

PRIMARY_KEYS = {
    "trading_calendar": "calendar_date",
    "warehouses": "warehouse_code",
    "instruments": "instrument_id",
    "members": "member_id",
    "beneficial_owners": "owner_id",
    "accounts": "account_id",
    "orders": "order_id",
    "order_events": "event_id",
    "trades": "trade_id",
    "settlements": "settlement_id",
    "warehouse_receipts": "receipt_id",
    "feed_messages": "seq",
}


def world_fingerprint(settings: Settings) -> dict[str, str]:
    """sha256 of every exchange table (dumped in primary-key order) and of every landing/truth file."""
    digests = {}
    with database.connect("exchange", settings=settings) as conn:
        for table in EXCHANGE_TABLES:
            digest = hashlib.sha256()
            with conn.cursor().copy(
                f"copy (select * from {table} order by {PRIMARY_KEYS[table]}) to stdout"
            ) as copy:
                for chunk in copy:
                    digest.update(chunk)
            digests[f"table:{table}"] = digest.hexdigest()
    for folder in (settings.landing_dir, settings.truth_dir):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                digests[f"file:{path.relative_to(settings.home.resolve())}"] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return digests


@pytest.fixture(scope="session")
def fingerprint(settings: Settings) -> Callable[[], dict[str, str]]:
    """Call it to fingerprint the world currently simulated under the test session's GCX_HOME."""
    return lambda: world_fingerprint(settings)
