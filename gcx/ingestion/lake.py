"""The lake's bronze layer: one Parquet file per source dataset and day, every source row as received.

Layout: ``<GCX_HOME>/lake/<source>/<dataset>/date=YYYY-MM-DD/part-0.parquet`` (Hive-style, so
DuckDB, Spark or Trino read the lake as tables). Bronze is the replayable copy of the source: good
and bad rows alike, so raw can be rebuilt from it without asking the source again.

A file is written to a temporary name and renamed into place, so readers see the old file or the
new one, never half of one. Writing the same rows again gives the same bytes (no write time in the
file). The source row count and origin are kept in the file's key-value metadata for reconciliation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SOURCE_ROWS_KEY = b"gcx.source_rows"
ORIGIN_KEY = b"gcx.origin"
PARTITION_KEY = b"gcx.partition_date"


def partition_path(lake_dir: Path, source: str, dataset: str, day: date) -> Path:
    return lake_dir / source / dataset / f"date={day.isoformat()}" / "part-0.parquet"


@dataclass(frozen=True)
class LakeFile:
    """What a bronze file says about itself."""

    path: Path
    rows: int
    source_rows: int
    origin: str


def write_partition(
    path: Path,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    *,
    source_rows: int,
    origin: str,
    day: date,
) -> LakeFile:
    """Write `batches` as the partition's file, atomically, replacing any earlier version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        SOURCE_ROWS_KEY: str(source_rows).encode(),
        ORIGIN_KEY: origin.encode(),
        PARTITION_KEY: day.isoformat().encode(),
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rows = 0
    try:
        with pq.ParquetWriter(temporary, schema.with_metadata(metadata), compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch)
                rows += batch.num_rows
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return LakeFile(path=path, rows=rows, source_rows=source_rows, origin=origin)


def describe(path: Path) -> LakeFile:
    """Rows, source rows and origin of a bronze file, from its footer (the data is not read)."""
    return _described(path, pq.read_metadata(path))


def open_partition(path: Path) -> tuple[LakeFile, pq.ParquetFile]:
    """The file's description and an open reader of its rows, from one open file: if a re-run
    replaces the file meanwhile, both still describe the same version."""
    reader = pq.ParquetFile(path)
    return _described(path, reader.metadata), reader


def _described(path: Path, metadata: pq.FileMetaData) -> LakeFile:
    custom = metadata.metadata or {}
    return LakeFile(
        path=path,
        rows=metadata.num_rows,
        source_rows=int(custom[SOURCE_ROWS_KEY]),
        origin=custom[ORIGIN_KEY].decode(),
    )
