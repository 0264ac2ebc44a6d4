"""The dbt project's models and snapshot as Dagster assets, and its data tests as asset checks.

- Sources map to the ingestion assets that load them: `raw.<source>__<dataset>` is
  AssetKey(["raw", "<source>__<dataset>"]) (the raw table's name), so lineage runs from the lake
  through raw into the marts. Models keep dagster-dbt's default key, [schema, model], which names
  the relation too: AssetKey(["marts", "fct_trades"]) is marts.fct_trades.
- Groups and owners come from the dbt groups (dbt_project/models/_groups.yml): staging, trading,
  compliance, platform, executive; an owner's name becomes a `team:` owner.
- dbt tests (data tests) become asset checks; unit tests run inside `dbt build` before their model.
- A run builds with the warehouse connection of the run's settings (`gcx` resource), passed to dbt
  as the environment variables dbt_project/profiles.yml reads (`dbt_env`), and reports row counts.

The assets are unpartitioned, but a run knows its partition window: it passes the window to dbt
(vars `window_start`, `window_end`), and the daily marts (fct_trades, fct_orders, the OHLCV bars)
replace only the days the window touched (dbt_project/macros/daily_rebuild.sql). A run tagged
`gcx/full_refresh=true` (`gcx materialize --full-refresh`) rebuilds every model whole.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from gcx import clock, database
from gcx.warehouse.dbt import dbt_executable
from gcx_pipelines.partitions import run_days
from gcx_pipelines.project import dbt_env, dbt_project, environment
from gcx_pipelines.resources import GcxResource


class GcxDbtTranslator(DagsterDbtTranslator):
    """Sources are the ingestion's raw assets; dbt groups give asset groups and `team:` owners."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            # the table itself: raw/exchange__trades, raw/compliance__kyc_checks, raw/ingestion_log, api/request_log
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["identifier"]])
        return super().get_asset_key(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str] | None:
        owner = (dbt_resource_props.get("group") or {}).get("owner") or {}
        if owner.get("email"):
            return [owner["email"]]
        return [f"team:{owner['name']}"] if owner.get("name") else None


FULL_REFRESH_TAG = "gcx/full_refresh"
"""Run tag: "true" makes the run's dbt build a `--full-refresh`."""

SUBSET_TESTS = {"DBT_INDIRECT_SELECTION": "buildable"}
"""In a subset run, run a test only when the run builds all its parents (or their ancestors): dbt's
default (eager) would also run, say, a relationships test of an unbuilt model that points at a
selected one, and fail on a relation that does not exist yet."""

translator = GcxDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=True))


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, gcx: GcxResource):
    """`dbt build` of the selected models and snapshot: staging, intermediate and marts, each with its tests.

    Point-in-time rules (KYC expiry, spines that run to today) take "today" from the platform's
    clock as the `as_of_date` var, never from the database's `current_date`."""
    database.ensure_databases(gcx.settings())  # api.request_log is a source: the API may never have run here
    env = {**dbt_env(gcx.settings()), **SUBSET_TESTS}
    args = ["build", "--vars", json.dumps(dbt_vars(run_days(context)))]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    with environment(env):  # DbtCliResource passes dbt the process environment
        yield from dbt.cli(args, context=context).stream().fetch_row_counts()


def dbt_vars(days: Sequence[date]) -> dict[str, str]:
    """The platform clock's today, and the run's partition window when it has one."""
    variables = {"as_of_date": clock.today().isoformat()}
    if days:
        variables |= {"window_start": min(days).isoformat(), "window_end": max(days).isoformat()}
    return variables
