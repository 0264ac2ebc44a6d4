"""The ingestion domain loads, every dataset has its assets and check, and the registry matches raw."""

import dagster as dg

from gcx import database
from gcx.ingestion.datasets import DATASETS_BY_TABLE
from gcx_pipelines.defs import ingestion
from gcx_pipelines.defs.ingestion.assets import bronze_assets, raw_assets, reconciliation_checks
from gcx_pipelines.resources import GcxResource


def test_every_dataset_has_a_bronze_raw_and_check():
    assert len(bronze_assets) == len(raw_assets) == len(reconciliation_checks) == len(DATASETS_BY_TABLE) == 19


def test_ingestion_definitions_load_with_the_gcx_resource(tmp_path):
    full = dg.load_definitions_from_package_module(
        ingestion, resources={"gcx": GcxResource(home=str(tmp_path))}
    )
    dg.Definitions.validate_loadable(full)
    job = full.resolve_job_def("landing_drops_job")
    assert len(job.asset_layer.selected_asset_keys) == 16
    graph = full.resolve_asset_graph()
    raw = {key for key in graph.get_all_asset_keys() if key.path[0] == "raw"}
    assert dg.AssetKey(["raw", "exchange__trades"]) in raw and len(raw) == 19
    for key in raw:
        node = graph.get(key)
        assert node.group_name == "ingestion"
        assert node.owners == ["team:data-engineering"]
        assert node.partitions_def is not None
        assert node.description


def test_the_registry_matches_the_raw_tables(settings):
    """raw_schema.sql (the dbt engineer's contract) and datasets.py (what ingestion loads) agree."""
    pg_types = {
        "string": "text",
        "int16": "smallint",
        "int32": "integer",
        "int64": "bigint",
        "double": "double precision",
        "timestamp[us, tz=UTC]": "timestamp with time zone",
        "date32[day]": "date",
        "bool": "boolean",
    }
    with database.connect("warehouse") as conn:
        for table, dataset in DATASETS_BY_TABLE.items():
            columns = conn.execute(
                "select column_name, data_type, numeric_precision, numeric_scale from information_schema.columns "
                "where table_schema = 'raw' and table_name = %s and column_name not like '\\_%%' "
                "order by ordinal_position",
                (table,),
            ).fetchall()
            expected = [
                (c.name, "numeric", c.type.precision, c.type.scale)
                if str(c.type).startswith("decimal")
                else (c.name, pg_types[str(c.type)])
                for c in dataset.columns
            ]
            got = [(n, t, p, s) if t == "numeric" else (n, t) for n, t, p, s in columns]
            assert got == expected, table
