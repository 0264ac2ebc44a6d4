"""The dataset catalog: what it lists to whom, and that what it says agrees with the warehouse, the
quality results and the dbt manifest; and the metered requests reaching the platform mart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from dbt.artifacts.schemas.manifest import WritableManifest
from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest

from api import deps
from gcx import database
from gcx.warehouse.dbt import MANIFEST_PATH, PROJECT_DIR
from gcx_pipelines.project import dbt_env, dbt_project, environment
from tests.api.conftest import bearer
from tests.conftest import WORLD_DAYS

TRADING = {"trades", "orders", "settlements", "instruments", "daily_summary"} | {
    f"ohlcv_{interval}" for interval in ("1m", "5m", "1h", "1d")
}


def query(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def listed(client, auth) -> dict[str, dict]:
    """The catalog as a pro quant sees it."""
    response = client.get("/v1/datasets", headers=auth("pro", "quant"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    return {entry["id"]: entry for entry in body["data"]}


def test_the_catalog_reads_the_manifest_dagster_reads():
    assert dbt_project.manifest_path == MANIFEST_PATH


def test_the_catalog_needs_a_key(client):
    assert client.get("/v1/datasets").json()["error"]["reason"] == "missing_key"
    assert client.get("/v1/datasets/trades").status_code == 401


def test_quants_see_the_trading_platform_and_compliance_marts_but_no_clear_pii(listed):
    assert TRADING | {"executive_kpis", "api_requests_daily", "large_trades"} <= set(listed)
    assert not {"member_contacts", "user_contacts", "beneficial_owners_pii"} & set(listed)
    large = listed["large_trades"]
    assert large["access"] == {
        "tier_needed": "member",
        "roles_allowed": ["admin", "compliance"],
        "export_tier_needed": "pro",
        "readable": False,
    }
    assert large["row_count"] is None and large["coverage"] is None
    trades = listed["trades"]
    assert trades["access"]["readable"] and trades["owner"] == "team:market-data"
    assert trades["title"] == "Trades" and "valid trade" in trades["description"]


def test_compliance_officers_also_see_the_restricted_marts(client, auth):
    body = client.get("/v1/datasets", headers=auth("member", "compliance")).json()
    entries = {entry["id"]: entry for entry in body["data"]}
    assert {"member_contacts", "large_trades", "trades"} <= set(entries)
    assert entries["large_trades"]["access"]["readable"] and entries["large_trades"]["row_count"] is not None
    quants = {
        entry["id"] for entry in client.get("/v1/datasets", headers=auth("member", "quant")).json()["data"]
    }
    restricted = sorted(set(entries) - quants)
    assert restricted == [
        "beneficial_owners_pii",
        "member_contacts",
        "user_contacts",
    ]  # marts, no staging view
    for dataset_id in restricted:
        assert (
            client.get(f"/v1/datasets/{dataset_id}", headers=auth("member", "compliance")).status_code == 200
        )


def test_row_counts_and_coverage_equal_the_warehouse(listed, built_platform):
    checked = 0
    for entry in listed.values():
        if not entry["access"]["readable"]:
            continue
        schema, table = entry["lineage"]["asset_key"]
        (count,) = query(built_platform, f'select count(*) from "{schema}"."{table}"')[0]
        assert entry["row_count"] == count, entry["id"]
        column = entry["coverage"]["time_column"]
        if column is not None:
            first, last = query(
                built_platform, f'select min("{column}"), max("{column}") from "{schema}"."{table}"'
            )[0]
            assert entry["coverage"]["first_at"] == iso(first), entry["id"]
            assert entry["coverage"]["last_at"] == iso(last), entry["id"]
        checked += 1
    assert checked >= 20
    assert listed["trades"]["coverage"]["time_column"] == "executed_at"
    assert listed["ohlcv_1m"]["coverage"]["time_column"] == "bar_start_at"


def iso(value: date | datetime | None) -> str | None:
    """As the API writes an instant (a date as its 00:00 UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_fields_carry_types_units_descriptions_and_pii(listed):
    trades = {field["name"]: field for field in listed["trades"]["fields"]}
    assert (
        trades["price_ghs_per_t"]["unit"] == "GHS/t" and trades["price_ghs_per_t"]["type"] == "numeric(14,4)"
    )
    assert trades["quantity_t"]["unit"] == "t" and trades["value_ghs"]["unit"] == "GHS"
    assert trades["executed_at"]["unit"] == "UTC instant"
    assert trades["executed_at"]["type"] == "timestamp with time zone"
    assert trades["trade_id"]["description"] == "The venue's trade id."
    assert all(field["pii"] == "none" for field in trades.values())
    masked = [f for entry in listed.values() for f in entry["fields"] if f["name"].endswith("_hash")]
    assert masked and all(field["pii"] == "masked" for field in masked)


def test_lineage_follows_the_manifest_as_dagster_asset_keys(listed):
    lineage = listed["ohlcv_1m"]["lineage"]
    assert lineage["asset_key"] == ["marts", "fct_ohlcv_1m"]
    assert {"asset_key": ["marts", "fct_trades"], "dataset_id": "trades"} in lineage["upstream"]
    downstream = listed["trades"]["lineage"]["downstream"]
    assert {"asset_key": ["marts", "fct_ohlcv_1m"], "dataset_id": "ohlcv_1m"} in downstream
    assert {"asset_key": ["compliance", "fct_large_trades"], "dataset_id": "large_trades"} in downstream
    api_requests = listed["api_requests_daily"]["lineage"]
    assert api_requests["upstream"] == [{"asset_key": ["staging", "stg_api__requests"], "dataset_id": None}]


def test_quality_counts_the_checks_and_the_dbt_tests(listed):
    quality = listed["trades"]["quality"]
    assert quality["dbt_tests_total"] >= 10 and quality["dbt_tests_passed"] == quality["dbt_tests_total"]
    assert quality["checks_total"] > quality["dbt_tests_total"]
    assert quality["checks_passed"] == quality["checks_total"] and quality["score"] == 1.0
    assert quality["days_available"] >= WORLD_DAYS
    assert listed["trades"]["freshness"]["last_loaded_at"] is not None
    assert listed["trades"]["freshness"]["last_built_at"] is not None


def test_each_day_of_the_coverage_has_an_honest_condition(
    client, auth, built_platform, fresh_catalog, reference_data
):
    headers = auth("pro", "quant")
    (failed_day,) = query(built_platform, "select max(trade_date) from marts.fct_trades")[0]
    with database.connect("warehouse", settings=built_platform) as conn:
        (inserted,) = conn.execute(
            "insert into quality.check_results (check_name, asset_key, dataset, partition_date, passed)"
            " values ('test_failed_check', 'raw/exchange__trades', 'exchange__trades', %s, false) returning id",
            (failed_day,),
        ).fetchone()
    try:
        body = client.get("/v1/datasets/trades", headers=headers).json()
    finally:
        with database.connect("warehouse", settings=built_platform) as conn:
            conn.execute("delete from quality.check_results where id = %s", (inserted,))
    days = {date.fromisoformat(day["date"]): day for day in body["days"]}
    first, last = (datetime.fromisoformat(body["coverage"][k]).date() for k in ("first_at", "last_at"))
    assert sorted(days) == [first + timedelta(days=n) for n in range((last - first).days + 1)]
    assert days[failed_day]["condition"] == "degraded"
    assert days[failed_day]["checks_passed"] == days[failed_day]["checks_total"] - 1
    checked_days = {
        row[0] for row in query(built_platform, "select distinct partition_date from quality.check_results")
    }
    for day, entry in days.items():
        if day not in checked_days:
            assert entry["condition"] == "missing" and entry["checks_total"] == 0, day
        elif day != failed_day:
            assert entry["condition"] == "available", day
    assert days[date(2024, 7, 2)]["condition"] == "missing"  # between the CME day and the simulated days
    assert body["quality"]["days_degraded"] == 1


def test_detail_has_sample_rows_within_the_free_tier_window(client, auth, built_platform, api_app):
    (last,) = query(built_platform, "select max(executed_at) from marts.fct_trades where venue = 'GCX'")[0]
    now = last + timedelta(minutes=5)  # the newest 15 minutes of trades are too recent for free keys
    api_app.dependency_overrides[deps.request_time] = lambda: now
    try:
        free = client.get("/v1/datasets/trades", headers=auth("free", "quant")).json()
        pro = client.get("/v1/datasets/trades", headers=auth("pro", "quant")).json()
    finally:
        api_app.dependency_overrides.pop(deps.request_time, None)
    horizon = now - timedelta(minutes=15)
    visible = query(
        built_platform,
        "select count(*), max(executed_at) from marts.fct_trades where executed_at < %s",
        (horizon,),
    )[0]
    assert len(free["sample"]) == 10
    assert all(
        horizon - timedelta(days=30) <= datetime.fromisoformat(r["executed_at"]) < horizon
        for r in free["sample"]
    )
    assert free["row_count"] == visible[0] and free["coverage"]["last_at"] == iso(visible[1])
    assert max(datetime.fromisoformat(r["executed_at"]) for r in pro["sample"]) == last
    assert pro["row_count"] > free["row_count"]


def test_clear_pii_is_for_compliance_and_masked_in_samples(client, auth):
    quant = client.get("/v1/datasets/member_contacts", headers=auth("pro", "quant"))
    assert quant.status_code == 403 and quant.json()["error"]["reason"] == "role_not_allowed"
    officer = client.get("/v1/datasets/member_contacts", headers=auth("pro", "compliance"))
    assert officer.status_code == 200, officer.text
    clear = [field["name"] for field in officer.json()["fields"] if field["pii"] == "clear"]
    assert clear and officer.json()["sample"]
    assert all(row[name] in ("***", None) for row in officer.json()["sample"] for name in clear)


@pytest.mark.parametrize(
    ("tier", "role", "dataset", "status", "reason"),
    [
        ("pro", "quant", "large_trades", 403, "role_not_allowed"),
        ("free", "analyst", "executive_kpis", 403, "tier_not_allowed"),
        ("pro", "quant", "no_such_dataset", 404, "unknown_dataset"),
        ("pro", "quant", "Trades!", 422, "invalid_request"),
    ],
)
def test_detail_refusals_carry_a_reason(client, auth, tier, role, dataset, status, reason):
    response = client.get(f"/v1/datasets/{dataset}", headers=auth(tier, role))
    assert response.status_code == status
    assert response.json()["error"]["reason"] == reason and response.json()["error"]["message"]


def test_compliance_reads_a_compliance_dataset(client, auth, built_platform):
    response = client.get("/v1/datasets/large_trades", headers=auth("member", "compliance"))
    assert response.status_code == 200, response.text
    (count,) = query(built_platform, "select count(*) from compliance.fct_large_trades")[0]
    assert response.json()["row_count"] == count and len(response.json()["sample"]) == min(count, 10)


def build_requests_mart(settings, tmp_path) -> None:
    manifest = Manifest.from_writable_manifest(
        WritableManifest.read_and_check_versions(str(dbt_project.manifest_path))
    )
    with environment(dbt_env(settings)):
        result = dbtRunner(manifest=manifest).invoke(
            [
                "run",
                "--select", "stg_api__requests", "fct_api_requests_daily",
                "--project-dir", str(PROJECT_DIR),
                "--profiles-dir", str(PROJECT_DIR),
                "--target-path", str(tmp_path / "target"),
                "--log-path", str(tmp_path / "logs"),
            ]
        )  # fmt: skip
    assert result.success, [(r.node.name, r.status, r.message) for r in result.result or []]


def test_metered_requests_reach_the_platform_mart(client, api_app, make_key, built_platform, tmp_path):
    key = make_key("member", "analyst")
    key_id = key.split("_")[1]
    assert client.get("/v1/datasets/trades", headers=bearer(key)).status_code == 200
    assert client.get("/v1/datasets/nope", headers=bearer(key)).status_code == 404
    assert client.get("/v1/datasets/trades", headers=bearer(key)).status_code == 200
    api_app.state.meter.flush()
    build_requests_mart(built_platform, tmp_path)
    rows = query(
        built_platform,
        "select endpoint, status_class, tier, role, request_count, error_count, rows_returned, bytes_returned > 0,"
        " latency_p50_ms <= latency_p99_ms from marts.fct_api_requests_daily where key_id = %s order by status_class",
        (key_id,),
    )
    assert rows == [
        ("/v1/datasets/{dataset_id}", "2xx", "member", "analyst", 2, 0, 20, True, True),
        ("/v1/datasets/{dataset_id}", "4xx", "member", "analyst", 1, 1, 0, True, True),
    ]


@pytest.mark.attack("a key reads every other key's API usage")
def test_a_key_reads_only_its_own_rows_of_api_usage_and_an_admin_all(
    client, api_app, make_key, built_platform, tmp_path
):
    mine, other, admin = make_key("pro", "analyst"), make_key("pro", "quant"), make_key("pro", "admin")
    for key in (mine, other):
        assert client.get("/v1/instruments", headers=bearer(key)).status_code == 200
    api_app.state.meter.flush()
    build_requests_mart(built_platform, tmp_path)

    def exported_keys(key: str) -> set[str]:
        response = client.get("/v1/datasets/api_requests_daily/export", headers=bearer(key))
        assert response.status_code == 200, response.text
        return {row["key_id"] for row in csv.DictReader(io.StringIO(response.text))}

    sample = client.get("/v1/datasets/api_requests_daily", headers=bearer(mine)).json()["sample"]
    assert sample and {row["key_id"] for row in sample} == {key_of(mine)}
    assert exported_keys(mine) == {key_of(mine)}
    assert {key_of(mine), key_of(other)} <= exported_keys(admin)


def key_of(key: str) -> str:
    return key.split("_")[1]
