"""What dbt's manifest says of the marts: ids, descriptions, owners, columns (units, PII) and lineage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.catalog.models import (
    ALL_ROLES,
    DATASET_IDS,
    GROUP_TIERS,
    MART_SCHEMAS,
    TITLES,
    UNIT_SUFFIXES,
    Column,
    Dataset,
    LineageNode,
    Pii,
)
from gcx.access.entitlements import COMPLIANCE_ROLES
from gcx.warehouse.dbt import MANIFEST_PATH, prepare_manifest


def manifest_path() -> Path:
    """dbt's manifest (gcx/warehouse/dbt.py); made now only where none was ever made (`make install`
    makes it), never re-parsed here: the API reads what the pipelines built with."""
    return MANIFEST_PATH if MANIFEST_PATH.exists() else prepare_manifest()


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def dataset_id(model_name: str) -> str:
    if model_name in DATASET_IDS:
        return DATASET_IDS[model_name]
    for prefix in ("fct_", "dim_"):
        if model_name.startswith(prefix):
            return model_name[len(prefix) :]
    return model_name


def unit_of(column: str) -> str | None:
    for suffix, unit in UNIT_SUFFIXES:
        if column.endswith(suffix):
            return unit
    return None


def pii_of(column: str, meta: dict[str, Any]) -> Pii:
    """Clear PII is flagged `meta: {pii: true}` in dbt; masked PII is a hash (`*_hash`)."""
    if meta.get("pii"):
        return "clear"
    return "masked" if column.endswith("_hash") else "none"


def node_asset_key(manifest: dict[str, Any], unique_id: str) -> tuple[str, ...] | None:
    """The Dagster asset key of a model, snapshot or source (gcx_pipelines/defs/dbt/assets.py)."""
    node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
    if node is None or node["resource_type"] not in {"model", "snapshot", "source"}:
        return None
    if node["resource_type"] == "source":
        return (node["schema"], node["identifier"])
    return (node["schema"], node.get("alias") or node["name"])


def raw_inputs(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """The source tables a node is built from, transitively (their names in quality.check_results)."""
    found, seen, stack = set(), set(), [unique_id]
    while stack:
        current = stack.pop()
        for parent in manifest["parent_map"].get(current, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                found.add(manifest["sources"][parent]["identifier"])
            elif parent.startswith(("model.", "snapshot.")):
                stack.append(parent)
    return found


def unique_key(manifest: dict[str, Any], unique_id: str) -> list[str]:
    """The columns a dbt test holds unique for the model (a `unique` column, else a
    `unique_combination_of_columns`): with the time axis first, the export's stable order.
    (dbt's inferred `primary_key` is not used: it takes any not_null column of a composite key.)"""
    single, combined = [], []
    for test in manifest["nodes"].values():
        metadata = test.get("test_metadata") or {}
        if test["resource_type"] != "test" or test.get("attached_node") != unique_id:
            continue
        if metadata.get("name") == "unique" and not (test.get("config") or {}).get("where"):
            single.append([metadata["kwargs"]["column_name"]])
        elif metadata.get("name") == "unique_combination_of_columns":
            combined.append(list(metadata["kwargs"]["combination_of_columns"]))
    return sorted(single)[0] if single else sorted(combined, key=len)[0] if combined else []


def datasets_from_manifest(manifest: dict[str, Any]) -> dict[str, tuple[str, Dataset]]:
    """Every mart of the manifest as a Dataset (no warehouse facts yet), by id, with its unique_id."""
    groups = {group["name"]: group for group in manifest.get("groups", {}).values()}
    found: dict[str, tuple[str, Dataset]] = {}
    for unique_id, node in manifest["nodes"].items():
        # marts only: the staging views that keep clear PII in the restricted schema pseudonymise as
        # they are read, which the API's role may not do (the restricted marts hold the same rows)
        if (
            node["resource_type"] != "model"
            or node["schema"] not in MART_SCHEMAS
            or node["fqn"][1] != "marts"
        ):
            continue
        identifier = dataset_id(node["name"])
        if identifier in found:
            raise ValueError(
                f"two marts give the dataset id {identifier!r}: {found[identifier][0]} and {unique_id}"
            )
        group = node.get("group") or node["config"].get("group")
        owner = node.get("meta", {}).get("owner") or (groups.get(group, {}).get("owner") or {}).get("name")
        restricted = node["schema"] in {"compliance", "restricted"}
        dataset = Dataset(
            id=identifier,
            title=TITLES.get(identifier, identifier.replace("_", " ").capitalize()),
            description=" ".join((node.get("description") or "").split()),
            owner=f"team:{owner}" if owner and "@" not in owner and ":" not in owner else owner,
            schema=node["schema"],
            table=node.get("alias") or node["name"],
            tier=GROUP_TIERS.get(group, "member"),
            roles=COMPLIANCE_ROLES if restricted else ALL_ROLES,
            listed_to_all=node["schema"] != "restricted",
            columns=[
                Column(
                    name=name,
                    type=column.get("data_type") or "",
                    unit=unit_of(name),
                    description=(column.get("description") or None),
                    pii=pii_of(name, {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}),
                )
                for name, column in node.get("columns", {}).items()
            ],
            time_column=None,
            symbol_column=None,
            order_by=unique_key(manifest, unique_id),
            quality_datasets=sorted(raw_inputs(manifest, unique_id) | {node["name"]}),
            key_column=node["config"].get("meta", {}).get("rows_of_key"),
        )
        found[identifier] = (unique_id, dataset)
    ids_by_unique_id = {unique_id: identifier for identifier, (unique_id, _) in found.items()}
    for unique_id, dataset in found.values():
        dataset.upstream = lineage(manifest, manifest["parent_map"].get(unique_id, []), ids_by_unique_id)
        dataset.downstream = lineage(manifest, manifest["child_map"].get(unique_id, []), ids_by_unique_id)
    return found


def lineage(manifest: dict[str, Any], unique_ids: list[str], ids: dict[str, str]) -> list[LineageNode]:
    nodes = []
    for unique_id in sorted(unique_ids):
        key = node_asset_key(manifest, unique_id)
        if key is not None:
            nodes.append(LineageNode(key, ids.get(unique_id)))
    return nodes
