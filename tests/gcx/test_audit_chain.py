"""The audit log is a hash chain (gcx/governance/audit.py): a row changed, deleted or slipped in past
the append-only trigger, even by a superuser, is found by `gcx audit verify`; so is a rewrite of the
chain after an anchor. Each tampering runs in a transaction rolled back at the end, so the session's
audit log stays whole for the other tests."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from datetime import timedelta

import psycopg
import pytest
from psycopg.types.json import Jsonb

from gcx import database
from gcx.governance import audit, roles
from gcx.settings import Settings


def append_rows(settings: Settings, count: int) -> None:
    """Rows as the API writes them: through its own role, which may only insert."""
    with psycopg.connect(roles.api_database_url(settings)) as conn:
        for n in range(count):
            conn.execute(
                "insert into api.audit_log (key_id, role, action, dataset, rows, parameters)"
                " values ('k1', 'quant', 'read', 'marts.fct_trades', %s, %s)",
                (n, Jsonb({"symbol": "GAPWMZ", "n": n, "note": "a|b\x1fc"})),
            )


@pytest.fixture
def chained(settings: Settings) -> Settings:
    with database.connect("warehouse", settings=settings) as conn:
        roles.ensure_api_role(conn, settings)
    append_rows(settings, 5)
    return settings


def test_rows_written_are_chained_and_verify(chained):
    with database.connect("warehouse", settings=chained) as conn:
        result = audit.verify_chain(conn)
        unchained = conn.execute("select count(*) from api.audit_log where seq is null").fetchone()[0]
    assert result.ok, result.problems
    assert result.rows >= 5 and unchained == 0


def test_the_writer_cannot_back_date_a_row(chained):
    request_id = uuid.uuid4()
    with psycopg.connect(roles.api_database_url(chained)) as conn:
        conn.execute(
            "insert into api.audit_log (at, request_id, action) values ('2020-01-01', %s, 'read')",
            (request_id,),
        )
    with database.connect("warehouse", settings=chained) as conn:
        age = conn.execute(
            "select now() - at from api.audit_log where request_id = %s", (request_id,)
        ).fetchone()[0]
    assert timedelta(0) <= age < timedelta(minutes=1)


def tampered(settings: Settings, statement: str) -> audit.Verification:
    """Verify after `statement`, run as the platform's superuser past the triggers, then undo it."""
    with database.connect("warehouse", settings=settings) as conn, conn.transaction(force_rollback=True):
        conn.execute("set local session_replication_role = replica")
        conn.execute(statement)
        return audit.verify_chain(conn)


THIRD_NEWEST = "(select max(seq) - 2 from api.audit_log)"


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        pytest.param(
            f"update api.audit_log set rows = rows + 1 where seq = {THIRD_NEWEST}",
            "changed after it was written",
            marks=pytest.mark.attack("a superuser edits an audit row past the trigger"),
            id="changed",
        ),
        pytest.param(
            f"delete from api.audit_log where seq = {THIRD_NEWEST}",
            "missing (deleted)",
            marks=pytest.mark.attack("a superuser deletes an audit row past the trigger"),
            id="deleted",
        ),
        pytest.param(
            f"delete from api.audit_log where seq > {THIRD_NEWEST}",
            "rows deleted",
            marks=pytest.mark.attack("a superuser deletes the newest audit rows past the trigger"),
            id="newest-deleted",
        ),
        pytest.param(
            "insert into api.audit_log (at, action) values ('2020-01-01', 'read')",
            "no place in the chain",
            marks=pytest.mark.attack("a superuser slips a back-dated audit row past the trigger"),
            id="slipped-in",
        ),
    ],
)
def test_tampering_past_the_trigger_is_found(chained, statement, found):
    result = tampered(chained, statement)
    assert not result.ok and any(found in problem for problem in result.problems), result.problems


@pytest.mark.attack("a superuser edits an audit row and rewrites the chain after it")
def test_a_rewritten_chain_is_found_by_an_earlier_anchor(chained, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    with database.connect("warehouse", settings=chained) as conn:
        assert audit.verify(conn, anchors).ok
    with database.connect("warehouse", settings=chained) as conn, conn.transaction(force_rollback=True):
        conn.execute("set local session_replication_role = replica")
        first = conn.execute("select min(seq) from api.audit_log").fetchone()[0]
        conn.execute("update api.audit_log set rows = rows + 1 where seq = %s", (first,))
        # recompute every link from the changed row on, and the head, with the database's own function
        conn.execute(
            """
            do $$
            declare r record; prev bytea;
            begin
                for r in select * from api.audit_log order by seq loop
                    prev := coalesce(prev, r.prev_sha256);
                    update api.audit_log set prev_sha256 = prev, row_sha256 = api.audit_row_sha256(
                        prev, r.seq, r.at, r.request_id, r.key_id, r.role, r.action, r.dataset, r.rows,
                        r.parameters) where seq = r.seq returning row_sha256 into prev;
                end loop;
                update api.audit_chain_head set sha256 = prev;
            end $$
            """
        )
        assert audit.verify_chain(conn).ok, "the rewritten chain is consistent in itself"
        result = audit.verify(conn, anchors)
    assert not result.ok and any("no longer on the chain" in p for p in result.problems)
    assert len(anchors.read_text().splitlines()) == 1, "a failed verification anchors nothing"


def test_gcx_audit_verify_anchors_the_end_of_the_chain_privately(chained):
    result = subprocess.run(
        [sys.executable, "-m", "gcx", "audit", "verify"],
        env={**os.environ, "GCX_HOME": str(chained.home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "none changed" in result.stdout
    anchors = audit.anchors_file(chained)
    last = json.loads(anchors.read_text().splitlines()[-1])
    with database.connect("warehouse", settings=chained) as conn:
        head = conn.execute("select seq, encode(sha256, 'hex') from api.audit_chain_head").fetchone()
    assert (last["seq"], last["sha256"]) == head
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o600
