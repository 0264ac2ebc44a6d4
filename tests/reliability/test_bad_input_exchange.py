"""Bad input in the exchange tables: rows the source's types allow but its contract does not (NaN
and infinite values, BC dates, absurd prices, unknown members, a 9 MB name) land in raw.quarantine
with their reason, the good rows in raw unchanged, and the run and its reconciliation pass."""

import ledger
import malformed

from gcx import database

TABLES = ["exchange__trades", "exchange__members"]


def test_every_malformed_exchange_row_is_quarantined_with_its_reason(settings):
    malformed.reset_exchange(settings)
    with database.connect("exchange", settings=settings) as conn:
        conn.execute(malformed.exchange_sql())
    day = malformed.EXCHANGE_DAY

    result = malformed.materialize(settings, TABLES, day)

    trades, members = (malformed.dataset(table) for table in TABLES)
    found = {key: reason for key, reason in malformed.quarantine(settings, trades, day).values()}
    found |= {key: reason for key, reason in malformed.quarantine(settings, members, day).values()}
    cases = [(tid, reason) for _, tid, *_, reason in malformed.BAD_TRADES if reason]
    cases += [(member_id, reason) for _, member_id, reason in malformed.BAD_MEMBERS]
    problems = [
        f"{key}: want {reason!r}, got {found.get(key)!r}"
        for key, reason in cases
        if reason not in (found.get(key) or "")
    ]
    if set(found) != {key for key, _ in cases}:
        problems.append(f"quarantined {sorted(found)}, want {sorted(key for key, _ in cases)}")
    raw_trades = dict(
        malformed.warehouse_rows(
            settings,
            "select trade_id, quantity_t::text from raw.exchange__trades where _partition_date = %s",
            day,
        )
    )
    if raw_trades != {"TG1": "50.0000", "TG2": "50.0000", "TB17": "9999999999.9999"}:
        problems.append(f"raw trades {raw_trades}")
    names = dict(
        malformed.warehouse_rows(
            settings,
            "select member_id, md5(name) from raw.exchange__members where _partition_date = %s",
            day,
        )
    )
    with database.connect("exchange", settings=settings) as conn:
        source_names = dict(
            conn.execute(
                "select member_id, md5(name) from members where member_id in ('MBR0010', 'MBR0011')"
            ).fetchall()
        )
    if names != source_names:
        problems.append("the multi-line and the 9 MB member names did not reach raw unchanged")
    for dataset in (trades, members):
        got = malformed.counts(settings, dataset, day)
        if got is None or got[0] != got[1] or got[1] != got[2] + got[3]:
            problems.append(f"{dataset.table}: counts (source, lake, raw, quarantined) {got}")
    checks = result.get_asset_check_evaluations()
    ledger.bad_input(
        "exchange tables",
        len(cases),
        sum(1 for key, reason in cases if reason in (found.get(key) or "")),
        crashed=0 if result.success else 1,
        detail="trades and members: NaN, +-infinity, BC and year-10000 instants, absurd/zero/negative prices, "
        "out-of-session and out-of-range times, unknown members, delisted instrument, bad enums; "
        "valid extremes (9 MB text, multi-line text, max numeric) kept",
    )
    assert result.success, "the ingestion run failed"
    assert checks and all(check.passed for check in checks)
    assert not problems, "\n".join(problems)
