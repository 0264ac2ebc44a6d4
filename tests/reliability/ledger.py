"""What the reliability tests did, for `make reliability`'s summary table.

Each test asserts its own outcome; it also records what it tried here (faults injected and
survived, bad records tried and quarantined, requests sent and failed, rows lost), appended as
JSON lines to the file named by GCX_RELIABILITY_LEDGER. Outside `make reliability` (variable
unset) nothing is written. `python tests/reliability/summary.py LEDGER` prints the table.
"""

from __future__ import annotations

import json
import os

LEDGER_ENV = "GCX_RELIABILITY_LEDGER"


def _append(entry: dict) -> None:
    path = os.environ.get(LEDGER_ENV)
    if path:
        with open(path, "a") as ledger:
            ledger.write(json.dumps(entry) + "\n")


def fault(name: str, survived: bool, rows_lost: int = 0, rows_duplicated: int = 0, detail: str = "") -> None:
    """One injected fault: did the platform recover by itself, and what did it lose or double."""
    _append(
        {
            "kind": "fault",
            "name": name,
            "survived": survived,
            "rows_lost": rows_lost,
            "rows_duplicated": rows_duplicated,
            "detail": detail,
        }
    )


def bad_input(source: str, tried: int, quarantined: int, crashed: int = 0, detail: str = "") -> None:
    """Malformed records fed to one entry point, and how many ended in quarantine with a reason."""
    _append(
        {
            "kind": "bad_input",
            "name": source,
            "tried": tried,
            "quarantined": quarantined,
            "crashed": crashed,
            "detail": detail,
        }
    )


def requests(name: str, sent: int, failed: int, detail: str = "") -> None:
    """Requests sent in one load or security run, and how many failed (5xx, timeouts, wrong answers)."""
    _append({"kind": "requests", "name": name, "sent": sent, "failed": failed, "detail": detail})


def injection(
    name: str, sent: int, refused: int, accepted: int, server_errors: int, detail: str = ""
) -> None:
    """Hostile parameter values sent to the API: refused (4xx), accepted as text that matched nothing
    (2xx, where the parameter is free text), and server errors (5xx, must be 0)."""
    _append(
        {
            "kind": "injection",
            "name": name,
            "sent": sent,
            "refused": refused,
            "accepted": accepted,
            "server_errors": server_errors,
            "detail": detail,
        }
    )


def attack(name: str, got_through: bool, detail: str = "") -> None:
    """One attacker's step from the security review (a test marked `attack`): stopped, or got through."""
    _append({"kind": "attack", "name": name, "got_through": got_through, "detail": detail})
