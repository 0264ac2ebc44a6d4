"""The dbt project as Dagster assets: sources are the ingestion's raw assets, models sit in their
area's group with an owner, dbt tests are asset checks, and a run builds through the `gcx`
resource's warehouse connection."""

import dagster as dg
import pytest

from gcx import database
from gcx_pipelines.defs.dbt.assets import dbt_resource, warehouse_dbt_models
from gcx_pipelines.project import dbt_project
from gcx_pipelines.resources import GcxResource
from tests.dbt_project import raw_rows

SPECS = {spec.key: spec for spec in warehouse_dbt_models.specs}


def test_the_manifest_is_prepared_when_the_definitions_load(settings):
    assert dbt_project.manifest_path.exists()
    with_gcx = dg.Definitions(
        assets=[warehouse_dbt_models],
        resources={"dbt": dbt_resource(), "gcx": GcxResource(home=str(settings.home))},
    )
    assert dg.AssetKey(["marts", "fct_trades"]) in with_gcx.resolve_asset_graph().get_all_asset_keys()


def test_sources_are_the_raw_assets_of_ingestion():
    upstream = {dep.asset_key for spec in SPECS.values() for dep in spec.deps}
    raw = {key for key in upstream if key.path[0] == "raw"}
    assert dg.AssetKey(["raw", "exchange__trades"]) in raw
    assert dg.AssetKey(["raw", "compliance__kyc_checks"]) in raw
    assert dg.AssetKey(["raw", "platform__api_usage"]) in raw
    assert all(len(key.path) == 2 and key not in SPECS for key in raw)
    trades_deps = {dep.asset_key for dep in SPECS[dg.AssetKey(["staging", "stg_exchange__trades"])].deps}
    assert trades_deps == {dg.AssetKey(["raw", "exchange__trades"])}


@pytest.mark.parametrize(
    ("key", "group", "owner"),
    [
        (["staging", "stg_exchange__trades"], "staging", "team:data-platform"),
        (["marts", "fct_trades"], "trading", "team:market-data"),
        (["marts", "fct_ohlcv_1m"], "trading", "team:market-data"),
        (["snapshots", "members_snapshot"], "trading", "team:market-data"),
        (["compliance", "fct_position_limit_breaches"], "compliance", "team:compliance"),
        (["restricted", "dim_member_contacts"], "compliance", "team:compliance"),
        (["marts", "fct_mrr_monthly"], "platform", "team:product-analytics"),
        (["marts", "fct_executive_kpis"], "executive", "team:data-platform"),
    ],
)
def test_models_have_their_area_group_owner_and_description(key, group, owner):
    spec = SPECS[dg.AssetKey(key)]
    assert spec.group_name == group
    assert spec.owners == [owner]
    assert spec.description
    assert {"dbt", "postgres"} <= set(spec.kinds)


def test_dbt_tests_are_asset_checks():
    checks = {(check.asset_key, check.name) for check in warehouse_dbt_models.check_specs}
    assert (dg.AssetKey(["marts", "fct_trades"]), "unique_fct_trades_trade_id") in checks
    assert len(checks) > 200


@pytest.mark.slow
def test_a_run_builds_through_the_gcx_resource(settings):
    """A subset run against the platform's warehouse: the connection comes from `gcx`."""
    with database.connect("warehouse") as conn:
        raw_rows.create_raw_schema(conn)
    selection = [
        ["staging", "stg_exchange__warehouses"],
        ["staging", "stg_exchange__instruments"],
        ["marts", "dim_instruments"],
    ]
    result = dg.materialize(
        [warehouse_dbt_models],
        selection=dg.AssetSelection.assets(*selection),
        resources={"dbt": dbt_resource(), "gcx": GcxResource(home=str(settings.home))},
        raise_on_error=True,
    )
    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey(key) for key in selection}
    dim = next(
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["marts", "dim_instruments"])
    )
    assert "dagster/row_count" in dim.metadata
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(evaluation.passed for evaluation in evaluations)
