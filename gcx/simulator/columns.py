"""Turning numpy arrays into the Arrow columns the writer formats for COPY and the files use.

The generators work on plain numbers (prices in cents, times in microseconds since the epoch, dates
as day numbers, strings as indices into small vocabularies) because numpy is fast on those; these
helpers build the typed Arrow columns from them without a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("us", tz="UTC")


def _mask(mask: np.ndarray | None) -> np.ndarray | None:
    return None if mask is None or not mask.any() else mask


def timestamps(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Microseconds since the epoch as timestamptz (UTC)."""
    return pa.array(np.asarray(us, dtype=np.int64), mask=_mask(null)).cast(TIMESTAMP)


def dates(day_numbers: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Days since 1970-01-01 as dates."""
    return pa.array(np.asarray(day_numbers, dtype=np.int32), mask=_mask(null)).cast(pa.date32())


def decimals(cents: np.ndarray, null: np.ndarray | None = None, scale: int = 100) -> pa.Array:
    """Fixed-point numbers (integer units of 1/scale) as doubles.

    A double of cents/100 prints as its shortest round-trip text, which for every value below 2^53/100
    is exactly the two-decimal number, so PostgreSQL's numeric columns receive exact values.
    """
    return pa.array(np.asarray(cents, dtype=np.float64) / scale, mask=_mask(null))


def integers(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), mask=_mask(null))


def texts(vocabulary: Sequence[str], indices: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Strings picked from a small vocabulary by index (members, symbols, enum values)."""
    picked = pa.array(list(vocabulary), type=pa.string()).take(pa.array(np.asarray(indices, dtype=np.int64)))
    if _mask(null) is None:
        return picked
    return pc.if_else(pa.array(null), pa.scalar(None, pa.string()), picked)


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Identifiers like T0000000042 from integers, zero-padded to ``width`` digits."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def booleans(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool))
