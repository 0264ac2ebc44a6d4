"""`gcx audit verify`: has anyone changed the audit log?

`api.audit_log` is append-only (api_role.sql's trigger), but a superuser can step past a trigger
(`set session_replication_role = replica`). So every row is also a link of a hash chain, made by
the database when the row is written (gcx/warehouse/ddl/009_audit_chain.sql):

    row_sha256 = sha256(prev_sha256 || sha256(field 1) || ... || sha256(field 9))

Verifying recomputes every link here, in Python, from the stored fields (not with the database's
function, which whoever changed a row could have changed too), and finds: a row changed (its hash no
longer matches), a row deleted or inserted in the middle (a gap in `seq` or a broken `prev_sha256`),
and a row added past the trigger (no `seq`).

What a chain alone cannot show is a rewrite of the whole chain from the changed row on. Anchors do:
each verification appends the end of the chain (seq, hash) to `<GCX_HOME>/audit/anchors.jsonl`, and
checks that every earlier anchor is still on the chain. Copy that file somewhere the database's
superuser cannot write (a ticket, a mail to the auditor) to make the anchors binding.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from gcx import clock
from gcx.files import write_atomically
from gcx.settings import Settings

GENESIS = bytes(32)
FIELDS_SQL = (
    "seq::text",
    "to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    "request_id::text",
    "key_id",
    "role",
    "action",
    "dataset",
    "rows::text",
    "parameters::text",
)
"""The fields a link covers, as text, in the order 009_audit_chain.sql hashes them."""

SHOWN = 20
"""Problems listed one by one; beyond that, counted."""


@dataclass
class Verification:
    rows: int = 0
    head_seq: int = 0
    head_sha256: bytes = GENESIS
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < SHOWN:
            self.problems.append(text)


def link(prev_sha256: bytes, fields: Iterable[str | None]) -> bytes:
    """A row's hash: what 009_audit_chain.sql's api.audit_row_sha256 computes."""
    digest = hashlib.sha256(prev_sha256)
    for value in fields:
        digest.update(hashlib.sha256(b"n" if value is None else b"v" + value.encode()).digest())
    return digest.digest()


def verify_chain(conn: psycopg.Connection) -> Verification:
    """Walk the chain in `seq` order; every row outside it is a problem too."""
    result = Verification()
    unchained = conn.execute("select count(*) from api.audit_log where seq is null").fetchone()[0]
    if unchained:
        result.problem(f"{unchained} row(s) have no place in the chain: written past the trigger")
    expected_prev, expected_seq = GENESIS, 1
    with conn.cursor(name="audit_chain") as cursor:
        cursor.itersize = 10_000
        cursor.execute(
            f"select seq, prev_sha256, row_sha256, {', '.join(FIELDS_SQL)} from api.audit_log"
            " where seq is not null order by 1"
        )
        for seq, prev_sha256, row_sha256, *fields in cursor:
            result.rows += 1
            if seq != expected_seq:
                result.problem(f"seq {expected_seq}..{seq - 1}: missing (deleted)")
            if bytes(prev_sha256) != expected_prev:
                result.problem(f"seq {seq}: does not follow the row before it")
            if link(bytes(prev_sha256), fields) != bytes(row_sha256):
                result.problem(f"seq {seq}: changed after it was written")
            expected_prev, expected_seq = bytes(row_sha256), seq + 1
    head_seq, head_sha256 = conn.execute("select seq, sha256 from api.audit_chain_head").fetchone()
    result.head_seq, result.head_sha256 = head_seq, bytes(head_sha256)
    if (head_seq, bytes(head_sha256)) != (expected_seq - 1, expected_prev):
        result.problem(f"the chain ends at seq {expected_seq - 1} but its head says {head_seq}: rows deleted")
    return result


def check_anchors(conn: psycopg.Connection, anchors: Path, result: Verification) -> None:
    """Every anchor recorded earlier must still be on the chain, with the same hash."""
    if not anchors.exists():
        return
    for line in anchors.read_text().splitlines():
        anchor = json.loads(line)
        if anchor["seq"] == 0:  # anchored an empty log
            continue
        row = conn.execute("select row_sha256 from api.audit_log where seq = %s", (anchor["seq"],)).fetchone()
        if row is None or bytes(row[0]).hex() != anchor["sha256"]:
            result.problem(
                f"anchor of {anchor['verified_at']} (seq {anchor['seq']}) is no longer on the chain:"
                " the chain was rewritten"
            )


def record_anchor(anchors: Path, result: Verification) -> None:
    anchors.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {"verified_at": clock.now().isoformat(), "seq": result.head_seq, "sha256": result.head_sha256.hex()}
    )
    previous = anchors.read_text() if anchors.exists() else ""
    write_atomically(anchors, (previous + line + "\n").encode())


def anchors_file(settings: Settings) -> Path:
    return settings.home.resolve() / "audit" / "anchors.jsonl"


def verify(conn: psycopg.Connection, anchors: Path) -> Verification:
    """Verify the chain and the anchors; when both hold, anchor the chain's end for next time."""
    result = verify_chain(conn)
    check_anchors(conn, anchors, result)
    if result.ok:
        record_anchor(anchors, result)
    return result
