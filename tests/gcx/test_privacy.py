"""`gcx privacy erase`: a platform user's e-mail, name and phone leave the landing files, the lake,
raw, the quarantine, derived tables and exports; rows stay, so reconciliation still passes; another
user with the same name keeps theirs; the erasure is in the audit log without the erased values."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date

import dagster as dg
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from gcx import database
from gcx.cli import app as cli_app
from gcx.governance.privacy import PERSONAL_FIELDS, UnknownUser, erase_user
from gcx.ingestion.datasets import DATASETS_BY_TABLE
from gcx.ingestion.reconcile import reconcile
from gcx_pipelines.defs.ingestion.assets import (
    build_bronze_asset,
    build_raw_asset,
    build_reconciliation_check,
)
from gcx_pipelines.resources import GcxResource

USERS = DATASETS_BY_TABLE["platform__users"]
DAYS = (date(2024, 3, 4), date(2024, 3, 5))
ERASED = ("kofi.mensah@example.gh", "+233201111111", "+233202222222")
"""The erased user's e-mail and both phones (the profile changed on the second day)."""
SHARED_NAME = "Kofi Mensah"


def line(user_id: str, email: str, name: str, phone: str, at: str) -> bytes:
    return (
        f'{{"user_id": "{user_id}", "email": "{email}", "full_name": "{name}", "phone": "{phone}", '
        f'"country": "GH", "member_id": null, "role": "analyst", "signed_up_at": "{at}"}}\n'
    ).encode()


FILES = {
    DAYS[0]: line("UX000001", ERASED[0], SHARED_NAME, ERASED[1], "2024-03-04T09:00:00.000Z")
    + line("UX000002", "kofi.m@other.gh", SHARED_NAME, "+233209999999", "2024-03-04T10:00:00.000Z")
    + line(
        "UX000003", "ama@example.gh", "Ama Owusu", "+233208888888", "2099-12-31T23:59:59.000Z"
    )  # quarantined
    + b'{"user_id": "UX000001", "email": "kofi.mensah@exa',  # cut short: quarantined, still theirs
    DAYS[1]: line("UX000001", ERASED[0], SHARED_NAME, ERASED[2], "2024-03-04T09:00:00.000Z")
    + line("UX000001", "bad", SHARED_NAME, ERASED[2], "2024-03-04T09:00:00.000Z")
    + line("UX000004", "esi@example.gh", "Esi Asante", "+233207777777", "2024-03-05T08:00:00.000Z"),
}


def materialize(settings, day: date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [build_bronze_asset(USERS), build_raw_asset(USERS), build_reconciliation_check(USERS)],
        partition_key=day.isoformat(),
        resources={"gcx": GcxResource(home=str(settings.home))},
    )


@pytest.fixture
def platform(empty_exchange):
    """Two days of user drops through bronze and raw, a derived copy of the users, and two exports."""
    settings = empty_exchange
    shutil.rmtree(settings.lake_dir / "platform", ignore_errors=True)
    shutil.rmtree(settings.landing_dir / "platform", ignore_errors=True)
    with database.connect("warehouse") as conn:
        conn.execute("delete from raw.platform__users")
        conn.execute("delete from raw.quarantine where source = 'platform'")
        conn.execute("delete from raw.ingestion_log where source = 'platform'")
    for day, content in FILES.items():
        path = USERS.landing_file(settings.landing_dir, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        assert materialize(settings, day).success
    with database.connect("warehouse") as conn:
        conn.execute("create schema if not exists privacy_test")
        conn.execute(
            "create table privacy_test.user_copies as"
            " select user_id, email, full_name, phone, md5(email) as email_hash, country from raw.platform__users"
        )
    exports = settings.home / "exports" / "users"
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "theirs.csv").write_text(f"user_id,email\nUX000001,{ERASED[0]}\n")
    (exports / "theirs.json").write_text('{"rows": 1}')
    (exports / "others.csv").write_text("user_id,email\nUX000004,esi@example.gh\n")
    yield settings
    with database.connect("warehouse") as conn:
        conn.execute("drop schema privacy_test cascade")
    shutil.rmtree(settings.home / "exports", ignore_errors=True)


def everything_kept(settings) -> bytes:
    """Every byte the platform keeps about users: landing files, lake files, warehouse rows, exports."""
    parts = [path.read_bytes() for path in sorted((settings.landing_dir / "platform").rglob("*.jsonl"))]
    for path in sorted((settings.lake_dir / "platform").rglob("*.parquet")):
        parts.append(repr(pq.read_table(path).to_pylist()).encode())
    with database.connect("warehouse") as conn:
        for query in (
            "select * from raw.platform__users",
            "select * from raw.quarantine where source = 'platform'",
            "select * from privacy_test.user_copies",
        ):
            parts.append(repr(conn.execute(query).fetchall()).encode())
    parts += [path.read_bytes() for path in sorted((settings.home / "exports").rglob("*.csv"))]
    return b"\n".join(parts)


def test_erasure_removes_the_personal_data_everywhere_and_keeps_the_rows(platform):
    settings = platform
    kept = everything_kept(settings)
    email_hash = hashlib.md5(ERASED[0].encode()).hexdigest()  # as privacy_test.user_copies holds it
    assert all(value.encode() in kept for value in (*ERASED, email_hash))
    with database.connect("warehouse") as conn:
        counts_before = conn.execute(
            "select (select count(*) from raw.platform__users), (select count(*) from raw.quarantine"
            " where source = 'platform'), (select count(*) from raw.platform__users where full_name = %s)",
            (SHARED_NAME,),
        ).fetchone()

    erasure = erase_user("UX000001", settings)

    kept = everything_kept(settings)
    for value in (*ERASED, "kofi.mensah@exa", email_hash):
        assert value.encode() not in kept, f"{value} is still kept"
    assert b"esi@example.gh" in kept and b"+233209999999" in kept  # other users untouched
    with database.connect("warehouse") as conn:
        assert conn.execute(
            "select (select count(*) from raw.platform__users), (select count(*) from raw.quarantine"
            " where source = 'platform'), (select count(*) from raw.platform__users where full_name = %s)",
            (SHARED_NAME,),
        ).fetchone() == (counts_before[0], counts_before[1], 1)  # UX000002 keeps the shared name
        assert set(
            conn.execute(
                "select email, full_name, phone from raw.platform__users where user_id = 'UX000001'"
            ).fetchall()
        ) == {tuple(PERSONAL_FIELDS.values())}
        for day in DAYS:  # the blocking check's function: source = lake = raw + quarantine
            assert reconcile(conn, USERS, day, settings.lake_dir).problems == []
        action, rows, parameters = conn.execute(
            "select action, rows, parameters from api.audit_log where action = 'privacy_erase'"
            " order by audit_id desc limit 1"
        ).fetchone()
    assert not (settings.home / "exports" / "users" / "theirs.csv").exists()
    assert (settings.home / "exports" / "users" / "others.csv").exists()
    assert erasure.counts["landing_lines"] == 4 and erasure.counts["lake_rows"] == 4
    assert erasure.counts["raw.platform__users"] == 2 and erasure.counts["export_files"] == 1
    assert (action, rows) == ("privacy_erase", erasure.total)
    assert parameters["user_id"] == "UX000001" and parameters["counts"] == erasure.counts
    assert not any(value in str(parameters) for value in ERASED)

    # the day re-ingested from the redacted drop: the same rows, and the blocking checks pass
    result = materialize(settings, DAYS[0])
    assert result.success and all(check.passed for check in result.get_asset_check_evaluations())
    assert everything_kept(settings).count(b"erased@erased.invalid") >= 4


def test_erasing_again_changes_nothing_and_unknown_users_are_refused(platform):
    runner = CliRunner()
    first = runner.invoke(cli_app, ["privacy", "erase", "--user", "UX000001"])
    assert first.exit_code == 0, first.output
    again = erase_user("UX000001", platform)
    assert again.total == 0
    unknown = runner.invoke(cli_app, ["privacy", "erase", "--user", "UX999999"])
    assert unknown.exit_code == 1 and "no platform user UX999999" in unknown.output
    malformed = runner.invoke(cli_app, ["privacy", "erase", "--user", "U1; drop table x"])
    assert malformed.exit_code == 2 and "user id" in malformed.output
    with pytest.raises(UnknownUser):
        erase_user("UX000009", platform)
