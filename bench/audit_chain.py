"""The audit log's hash chain: what linking costs a write, and how fast `gcx audit verify` reads.

On a throwaway home: `rows` audit rows written in one statement, chained (the trigger of
ddl/009_audit_chain.sql) and, as the physical reference, the same rows into a copy of the table
without triggers; then 1,000 single-row inserts in one transaction (the head moves per statement);
then the verification, against a plain read of the same columns.

    python -m bench audit_chain --rows 100000
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from gcx import database
from gcx.governance import audit
from gcx.settings import Settings

INSERT = (
    "insert into {table} (key_id, role, action, dataset, rows, parameters)"
    " select 'k' || g, 'quant', 'read', 'marts.fct_trades', g, jsonb_build_object('symbol', 'GEJWM1', 'n', g)"
    " from generate_series(1, %s) g"
)


def timed(work) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main(rows: int = 100_000) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), database_url=None)
        database.ensure_databases(settings)
        try:
            with database.connect("warehouse", settings=settings) as conn:
                conn.execute("create table bench_audit_log (like api.audit_log including defaults)")
                plain = timed(lambda: conn.execute(INSERT.format(table="bench_audit_log"), (rows,)))
                chained = timed(lambda: conn.execute(INSERT.format(table="api.audit_log"), (rows,)))
                singles = timed(
                    lambda: [
                        conn.execute("insert into api.audit_log (action) values ('read')")
                        for _ in range(1_000)
                    ]
                )
                conn.commit()
                read = timed(
                    lambda: conn.execute(
                        f"select {', '.join(audit.FIELDS_SQL)}, prev_sha256, row_sha256 from api.audit_log"
                    ).fetchall()
                )
                began = time.perf_counter()
                result = audit.verify(conn, Path(home) / "anchors.jsonl")
                verify = time.perf_counter() - began
        finally:
            database.stop_embedded(settings)
    if not result.ok:
        raise SystemExit(f"the chain does not verify: {result.problems}")
    figures = {
        "rows": rows,
        "insert without chain s": round(plain, 2),
        "insert chained s": round(chained, 2),
        "chained rows/s": round(rows / chained),
        "ratio chained / plain insert": round(chained / plain, 2),
        "1,000 single-row inserts s": round(singles, 3),
        "verify s": round(verify, 2),
        "verified rows/s": round(result.rows / verify),
        "ratio verify / plain read": round(verify / read, 2),
    }
    for name, value in figures.items():
        print(f"{name:32} {value}")
    return figures
