"""Bad input in the file drops: every malformed line of a CSV (compliance) or JSON-lines (platform)
drop lands in raw.quarantine with its reason, the good lines in raw, no run fails, and per day
source rows = lake rows = raw rows + quarantined rows."""

from datetime import date, timedelta

import ledger
import malformed
import pytest

from gcx.ingestion.datasets import DATASETS

DAY = date(2024, 2, 6)
SOURCE_NAMES = {"compliance": "compliance CSV drops", "platform": "platform JSON-lines drops"}


def write_drop(settings, dataset, day: date, content: bytes) -> None:
    path = dataset.landing_file(settings.landing_dir, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@pytest.mark.parametrize("source", ["compliance", "platform"])
def test_every_malformed_line_is_quarantined_with_its_reason(settings, source):
    malformed.reset_exchange(settings)
    datasets = [d for d in DATASETS if d.source == source]
    corpus = {}
    for dataset in datasets:
        content, good, bad = malformed.drop_file(dataset, DAY)
        write_drop(settings, dataset, DAY, content)
        corpus[dataset.table] = (good, bad)

    result = malformed.materialize(settings, [d.table for d in datasets], DAY)

    problems, tried, quarantined = [], 0, 0
    for dataset in datasets:
        good, bad = corpus[dataset.table]
        first_line = 2 if dataset.file_format == "csv" else 1
        found = malformed.quarantine(settings, dataset, DAY)
        for line_number, case in enumerate(bad, start=first_line + len(good)):
            tried += 1
            _, reason = found.get(line_number, (None, None))
            if reason is not None and case.reason in reason:
                quarantined += 1
            else:
                problems.append(
                    f"{dataset.table} line {line_number} ({case.fault}): want {case.reason!r}, got {reason!r}"
                )
        expected = (len(good) + len(bad),) * 2 + (len(good), len(bad))
        if malformed.counts(settings, dataset, DAY) != expected:
            problems.append(
                f"{dataset.table}: counts {malformed.counts(settings, dataset, DAY)}, want {expected}"
            )
        raw_ids = malformed.warehouse_rows(
            settings, f"select {dataset.key} from raw.{dataset.table} where _partition_date = %s", DAY
        )
        want_ids = sorted(record[dataset.key] for record in malformed.drop_records(dataset, DAY)[0])
        if sorted(key for (key,) in raw_ids) != want_ids:
            problems.append(f"{dataset.table}: raw ids differ from the good lines")
    checks = result.get_asset_check_evaluations()
    ledger.bad_input(
        SOURCE_NAMES[source],
        tried,
        quarantined,
        crashed=0 if result.success else 1,
        detail=f"{len(datasets)} datasets, every field fault of each column plus line faults; "
        f"{sum(c.passed for c in checks)}/{len(checks)} reconciliation checks passed",
    )
    assert result.success, "the ingestion run failed"
    assert checks and all(check.passed for check in checks)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("table", ["compliance__kyc_checks", "platform__api_usage"])
def test_files_broken_as_a_whole_are_accounted_for_line_by_line(settings, table):
    """Empty, UTF-16, Latin-1, BOM, CR-only, NUL-filled, wrong-header files: one day each, one run."""
    malformed.reset_exchange(settings)
    dataset = malformed.dataset(table)
    faults = malformed.whole_file_faults(dataset)
    first = DAY + timedelta(days=10)
    days = {fault: first + timedelta(days=offset) for offset, (fault, _) in enumerate(faults)}
    for fault, content in faults:
        write_drop(settings, dataset, days[fault], content)
    result = malformed.materialize(settings, [table], first, first + timedelta(days=len(faults) - 1))

    csv = dataset.file_format == "csv"
    raw_wanted = {"bom_file", "crlf_line_ends", "no_final_newline"} | (
        set() if csv else {"cr_line_ends", "wrong_header"}
    )
    readable_header = {"latin1_file", "bom_file", "crlf_line_ends", "no_final_newline", "header_only"}
    problems, tried, quarantined = [], 0, 0
    for fault, content in faults:
        day = days[fault]
        lines = content.count(b"\n") + (1 if content and not content.endswith(b"\n") else 0)
        header = 1 if csv and fault in readable_header else 0
        raw = 1 if fault in raw_wanted else 0
        want = (lines - header, lines - header, raw, lines - header - raw)
        got = malformed.counts(settings, dataset, day)
        tried += want[3]
        reasons = [reason for _, reason in malformed.quarantine(settings, dataset, day).values()]
        quarantined += sum(1 for reason in reasons if reason)
        if got != want:
            problems.append(f"{fault}: counts (source, lake, raw, quarantined) {got}, want {want}")
    checks = result.get_asset_check_evaluations()
    ledger.bad_input(
        f"{SOURCE_NAMES[dataset.source]}: whole files",
        tried,
        quarantined,
        crashed=0 if result.success else 1,
        detail=f"{table}: {', '.join(f for f, _ in faults)}",
    )
    assert result.success, "the ingestion run failed"
    assert len(checks) == len(faults) or checks, "the reconciliation check ran"
    assert all(check.passed for check in checks)
    assert not problems, "\n".join(problems)
