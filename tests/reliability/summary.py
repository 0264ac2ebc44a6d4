"""Print the summary table of a reliability run from its ledger (see ledger.py); with --record,
also append it to bench/RESULTS.md. Exits non-zero when any row was lost or a fault not survived."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from gcx import clock

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "RESULTS.md"


def table(entries: list[dict]) -> tuple[str, bool]:
    faults = [e for e in entries if e["kind"] == "fault"]
    bad = [e for e in entries if e["kind"] == "bad_input"]
    reqs = [e for e in entries if e["kind"] == "requests"]
    lost = sum(e["rows_lost"] for e in faults)
    duplicated = sum(e["rows_duplicated"] for e in faults)
    survived = sum(e["survived"] for e in faults)
    tried, quarantined = sum(e["tried"] for e in bad), sum(e["quarantined"] for e in bad)
    crashed = sum(e["crashed"] for e in bad)
    sent, failed = sum(e["sent"] for e in reqs), sum(e["failed"] for e in reqs)
    probes = [e for e in entries if e["kind"] == "injection"]
    probes_sent, probes_5xx = sum(e["sent"] for e in probes), sum(e["server_errors"] for e in probes)
    probes_refused = sum(e["refused"] for e in probes)
    attacks = [e for e in entries if e["kind"] == "attack"]
    got_through = sum(e["got_through"] for e in attacks)
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| faults injected / survived | {len(faults)} / {survived} |",
        f"| bad records tried / quarantined (crashes) | {tried} / {quarantined} ({crashed}) |",
        f"| requests sent / failed | {sent} / {failed} |",
        f"| rows lost / duplicated | {lost} / {duplicated} |",
        f"| injection probes sent / refused / 5xx | {probes_sent} / {probes_refused} / {probes_5xx} |",
        f"| attacks tried / got through | {len(attacks)} / {got_through} |",
        "",
        "| kind | name | figures | detail |",
        "|---|---|---|---|",
    ]
    for e in entries:
        if e["kind"] == "fault":
            figures = f"survived={e['survived']} lost={e['rows_lost']} duplicated={e['rows_duplicated']}"
        elif e["kind"] == "bad_input":
            figures = f"tried={e['tried']} quarantined={e['quarantined']} crashed={e['crashed']}"
        elif e["kind"] == "injection":
            figures = (
                f"sent={e['sent']} refused={e['refused']} accepted={e['accepted']} 5xx={e['server_errors']}"
            )
        elif e["kind"] == "attack":
            figures = "got through" if e["got_through"] else "stopped"
        else:
            figures = f"sent={e['sent']} failed={e['failed']}"
        lines.append(f"| {e['kind']} | {e['name']} | {figures} | {e.get('detail', '')} |")
    ok = (
        lost == 0
        and duplicated == 0
        and survived == len(faults)
        and crashed == 0
        and probes_5xx == 0
        and got_through == 0
    )
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--record", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    entries = (
        [json.loads(line) for line in args.ledger.read_text().splitlines() if line.strip()]
        if args.ledger.exists()
        else []
    )
    if not entries:
        print("the reliability run recorded nothing", file=sys.stderr)
        return 1
    text, ok = table(entries)
    print(text)
    if args.record:
        header = (
            f"\n## reliability, {clock.now():%Y-%m-%d %H:%M} UTC, {platform.machine()}, make reliability\n\n"
        )
        with RESULTS.open("a") as results:
            results.write(header + text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
