"""The landing-folder sensor: a compliance or platform drop file that appears or changes is ingested.

It lists ``<GCX_HOME>/landing/<source>/<dataset>/<dataset>_<YYYY-MM-DD>.<ext>`` for the file-drop
datasets and requests one run per (dataset, day) whose file is new or changed since the last tick;
that run materializes the day's bronze and raw assets and their reconciliation check. A file whose
day was loaded after the file last changed (by `gcx materialize`, a schedule or a backfill) is not
ingested again. The cursor is a
JSON object: file (relative to landing) -> [mtime in ns, size in bytes]. A file dated beyond the
last partition (tomorrow's drop) is left out of the cursor and picked up once its day exists.
"""

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from gcx import clock
from gcx.ingestion.datasets import DATASETS, Dataset
from gcx_pipelines.defs.ingestion.assets import bronze_key, raw_key, reconciliation_check_key
from gcx_pipelines.partitions import daily_partitions
from gcx_pipelines.resources import GcxResource

FILE_DROP_DATASETS = tuple(dataset for dataset in DATASETS if dataset.file_format)

landing_drops_job = dg.define_asset_job(
    "landing_drops_job",
    selection=dg.AssetSelection.assets(
        *(key for dataset in FILE_DROP_DATASETS for key in (bronze_key(dataset), raw_key(dataset)))
    ),
    partitions_def=daily_partitions,
    description="Ingest compliance and platform file drops: landing file -> lake -> raw (+ quarantine).",
)


@dataclass(frozen=True)
class DropFile:
    dataset: Dataset
    day: date
    relative_path: str
    """Relative to the landing folder: the cursor's key and the run's tag."""
    version: list[int]
    """[mtime in ns, size in bytes]: a change in either means the file was replaced or rewritten."""


def find_drop_files(landing_dir: Path) -> list[DropFile]:
    """Every file in the landing folder named as a drop of a known dataset, by path."""
    found = []
    for dataset in FILE_DROP_DATASETS:
        folder = landing_dir / dataset.source / dataset.name
        name = re.compile(rf"{re.escape(dataset.name)}_(\d{{4}}-\d{{2}}-\d{{2}})\.{dataset.file_format}")
        for path in sorted(folder.glob(f"*.{dataset.file_format}")) if folder.is_dir() else []:
            matched = name.fullmatch(path.name)
            if not matched:
                continue
            try:
                day = date.fromisoformat(matched.group(1))
            except ValueError:
                continue
            stat = path.stat()
            relative = path.relative_to(landing_dir).as_posix()
            found.append(DropFile(dataset, day, relative, [stat.st_mtime_ns, stat.st_size]))
    return found


@dg.sensor(
    job=landing_drops_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ingests each compliance/platform drop file when it appears in the landing folder or changes.",
)
def landing_folder_sensor(
    context: dg.SensorEvaluationContext, gcx: GcxResource
) -> dg.SensorResult | dg.SkipReason:
    seen: dict[str, list[int]] = json.loads(context.cursor) if context.cursor else {}
    cursor: dict[str, list[int]] = {}
    run_requests = []
    waiting = []
    drops = find_drop_files(gcx.settings().landing_dir)
    loaded = _load_times_ns(gcx) if drops else {}
    for drop in drops:
        if drop.day > clock.today() or not daily_partitions.has_partition_key(drop.day.isoformat()):
            waiting.append(drop.relative_path)  # not in the cursor: seen as new once its day exists
            continue
        cursor[drop.relative_path] = drop.version
        if seen.get(drop.relative_path) == drop.version:
            continue
        if loaded.get((drop.dataset.source, drop.dataset.name, drop.day), -1) >= drop.version[0]:
            continue  # already loaded after it was written (by `gcx materialize`, a schedule, a backfill)
        run_requests.append(
            dg.RunRequest(
                run_key=f"{drop.relative_path}@{drop.version[0]}:{drop.version[1]}",
                partition_key=drop.day.isoformat(),
                asset_selection=[bronze_key(drop.dataset), raw_key(drop.dataset)],
                asset_check_keys=[reconciliation_check_key(drop.dataset)],
                tags={"gcx/landing_file": drop.relative_path},
            )
        )
    if not run_requests:
        detail = f" ({len(waiting)} file(s) dated after the last partition)" if waiting else ""
        context.update_cursor(json.dumps(cursor, sort_keys=True))
        return dg.SkipReason(f"no new or changed drop files in the landing folder{detail}")
    context.log.info(f"{len(run_requests)} new or changed drop file(s)")
    return dg.SensorResult(run_requests=run_requests, cursor=json.dumps(cursor, sort_keys=True))


def _load_times_ns(gcx: GcxResource) -> dict[tuple[str, str, date], int]:
    """When each file-drop partition was last loaded into raw (ns since the epoch), from raw.ingestion_log."""
    with gcx.connect("warehouse") as conn:
        rows = conn.execute(
            "select source, dataset, partition_date, (extract(epoch from loaded_at) * 1e9)::bigint"
            " from raw.ingestion_log where source in ('compliance', 'platform')"
        ).fetchall()
    return {(source, dataset, day): loaded_ns for source, dataset, day, loaded_ns in rows}
