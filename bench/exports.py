"""Bulk export speed next to PostgreSQL's raw `COPY ... TO STDOUT` of the same rows.

A scratch warehouse (throwaway embedded PostgreSQL in a temporary GCX_HOME) gets `marts.fct_ohlcv_1m`
with the mart's contract types, filled directly by SQL: `symbols` instruments x a year of 1-minute
bars in 8-hour sessions on weekdays (10 symbols: about 1.25M bars). Then, on the same rows in the
same order:

1. raw COPY: `copy (select ... order by bar_start_at, instrument_id) to stdout with (format csv,
   header)` read by psycopg and thrown away: the ceiling;
2. the export module (api/exports.py) writing the CSV file, and the Parquet file (CSV from the COPY,
   converted block by block by Arrow);
3. the same exports through the API over HTTP (uvicorn on a free port, a pro key): first request
   (the file is written, then streamed) and again (served from the written file).

MB/s is the raw COPY's CSV bytes over each path's wall time, so every figure compares like with like
(a Parquet file is smaller than the CSV of the same rows; its own size is reported too). The target
(issue 4): export >= 0.5x raw COPY.

    python -m bench exports --symbols 10
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import httpx

from api.catalog.build import Catalog
from api.catalog.facts import relation_columns
from api.exports import ExportFormat, ExportQuery, prepare_export
from bench.local_api import api_in_thread
from gcx import database
from gcx.access import keys
from gcx.settings import Settings

BARS_DDL = """
create schema if not exists marts;
drop table if exists marts.fct_ohlcv_1m;
create table marts.fct_ohlcv_1m (
    instrument_id integer not null, symbol text not null,
    bar_start_at timestamptz not null, bar_end_at timestamptz not null, bar_date date not null,
    open_ghs_per_t numeric(14, 4) not null, high_ghs_per_t numeric(14, 4) not null,
    low_ghs_per_t numeric(14, 4) not null, close_ghs_per_t numeric(14, 4) not null,
    vwap_ghs_per_t numeric(20, 6) not null, volume_t numeric(18, 4) not null,
    value_ghs numeric(24, 8) not null, trade_count bigint not null, _loaded_at timestamptz
);
"""
BARS_FILL = """
insert into marts.fct_ohlcv_1m
select i, 'GEJWM' || i, minute, minute + interval '1 minute', (minute at time zone 'UTC')::date,
       price, price + 5, price - 5, price + 1, round(price + 0.5, 6), volume, volume * price,
       1 + (volume / 20)::int, now()
from generate_series(1, %(symbols)s) as i,
     generate_series(timestamptz '2025-01-01 09:00+00', timestamptz '2025-12-31 17:00+00', interval '1 minute') as minute,
     lateral (select round((2000 + 500 * sin(extract(epoch from minute) / 86400.0 + i))::numeric, 4) as price,
                     round((10 + 90 * random())::numeric, 4) as volume) as values_
where extract(isodow from minute) < 6 and extract(hour from minute) between 9 and 16
"""


def raw_copy(settings: Settings, statement: str) -> tuple[int, float]:
    """Bytes of the COPY's CSV and seconds to receive them (thrown away)."""
    with database.connect("warehouse", settings=settings) as conn:
        started = time.perf_counter()
        size = 0
        with conn.cursor().copy(f"copy ({statement}) to stdout with (format csv, header)") as copy:
            for chunk in copy:
                size += len(chunk)
        return size, time.perf_counter() - started


def http_download(url: str, key: str, output: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    size = 0
    with httpx.stream(
        "GET", url, params={"format": output}, headers={"Authorization": f"Bearer {key}"}, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(1 << 20):
            size += len(chunk)
    assert size == int(response.headers["content-length"])
    return size, int(response.headers["x-row-count"]), time.perf_counter() - started


def main(symbols: int = 10) -> dict[str, object]:
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="gcx-bench-exports-") as home:
        settings = Settings(home=Path(home))
        try:
            database.ensure_databases(settings)
            with database.connect("warehouse", settings=settings) as conn:
                started = time.perf_counter()
                conn.execute(BARS_DDL)
                conn.execute(BARS_FILL, {"symbols": symbols})
                conn.execute("analyze marts.fct_ohlcv_1m")
                conn.commit()
                figures["rows (1m bars)"] = conn.execute(
                    "select count(*) from marts.fct_ohlcv_1m"
                ).fetchone()[0]
                figures["fill s"] = round(time.perf_counter() - started, 1)
                print(f"{figures['rows (1m bars)']:,} bars in {figures['fill s']} s")
                dataset = Catalog(settings).get(conn)["ohlcv_1m"]
                assert relation_columns(conn, ["marts"])[("marts", "fct_ohlcv_1m")]
            query = ExportQuery(dataset)
            statement = query.statement().as_string()
            csv_bytes, copy_s = raw_copy(settings, statement)
            raw_mb_s = csv_bytes / 2**20 / copy_s
            figures["raw COPY CSV MB"] = round(csv_bytes / 2**20, 1)
            figures["raw COPY s"] = round(copy_s, 2)
            figures["raw COPY MB/s"] = round(raw_mb_s, 1)
            exports_dir = Path(home) / "exports"
            for output in ExportFormat:
                with database.connect("warehouse", settings=settings) as conn:
                    started = time.perf_counter()
                    exported = prepare_export(conn, exports_dir / "module", query, output)
                    seconds = time.perf_counter() - started
                assert exported.rows == figures["rows (1m bars)"]
                figures[f"{output.value} export file MB"] = round(exported.size / 2**20, 1)
                figures[f"{output.value} export s (module, file written)"] = round(seconds, 2)
                figures[f"{output.value} export MB/s (raw CSV bytes / s)"] = round(
                    csv_bytes / 2**20 / seconds, 1
                )
                figures[f"{output.value} export / raw COPY"] = round(copy_s / seconds, 2)
                print(f"{output.value}: {seconds:.2f} s ({copy_s / seconds:.2f}x raw COPY)")
            figures.update(http_figures(settings, csv_bytes, copy_s))
        finally:
            database.stop_embedded(settings)
    return figures


def http_figures(settings: Settings, csv_bytes: int, copy_s: float) -> dict[str, object]:
    """The same exports through the API over HTTP: written then streamed, and streamed again."""
    figures: dict[str, object] = {}
    with database.connect("warehouse", settings=settings) as conn:
        key = keys.create_key(conn, "bench", "pro", "quant")
        conn.commit()
    with api_in_thread(settings) as base_url:
        url = f"{base_url}/v1/datasets/ohlcv_1m/export"
        for output in ExportFormat:
            for attempt in ("first", "again"):
                size, rows, seconds = http_download(url, key, output.value)
                label = f"HTTP {output.value} {attempt}"
                figures[f"{label} s"] = round(seconds, 2)
                figures[f"{label} / raw COPY"] = round(copy_s / seconds, 2)
                print(f"{label}: {size / 2**20:.1f} MB, {rows:,} rows in {seconds:.2f} s")
    return figures
