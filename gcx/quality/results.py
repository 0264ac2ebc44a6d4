"""Check results kept in the warehouse (quality.check_results) and the per-day view over them.

Any domain's check can record into the same table, so the dataset catalog shows one quality
figure per dataset and day whoever checked it:

    with gcx.connect("warehouse") as conn:
        record_check_result(conn, check_name="row_counts_reconcile", asset_key=key,
                            partition_date=day, passed=ok, details={"lake_rows": n})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import psycopg
from psycopg.types.json import Jsonb


class _HasUserString(Protocol):
    def to_user_string(self) -> str: ...


AssetKeyLike = str | Sequence[str] | _HasUserString


def asset_key_string(asset_key: AssetKeyLike) -> str:
    """``raw/exchange__trades`` from an AssetKey, a path list or the string itself."""
    if isinstance(asset_key, str):
        return asset_key
    if hasattr(asset_key, "to_user_string"):
        return asset_key.to_user_string()
    return "/".join(asset_key)


def record_check_result(
    conn: psycopg.Connection,
    *,
    check_name: str,
    asset_key: AssetKeyLike,
    passed: bool,
    dataset: str | None = None,
    partition_date: date | str | None = None,
    expectations_total: int | None = None,
    expectations_passed: int | None = None,
    details: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    checked_at: datetime | None = None,
) -> int:
    """Append one check execution's result and return its id; the caller's transaction commits it.

    `dataset` defaults to the asset key's last part (``raw/exchange__trades`` -> ``exchange__trades``);
    `partition_date` is the day checked, None for a check not about one day.
    """
    key = asset_key_string(asset_key)
    row = conn.execute(
        """
        insert into quality.check_results (checked_at, check_name, asset_key, dataset, partition_date, passed,
                                           expectations_total, expectations_passed, details, run_id)
        values (coalesce(%s, now()), %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning id
        """,
        (
            checked_at,
            check_name,
            key,
            dataset if dataset is not None else key.rsplit("/", 1)[-1],
            partition_date,
            passed,
            expectations_total,
            expectations_passed,
            Jsonb(dict(details or {})),
            run_id,
        ),
    ).fetchone()
    return int(row[0])
