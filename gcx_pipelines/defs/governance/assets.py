"""The retention policy as a Dagster asset (the policy itself: gcx/governance/retention.py; its
schedule: schedules.py). Erasure of a platform user's personal data is a command, not an asset:
`gcx privacy erase`."""

from collections import Counter
from datetime import date

import dagster as dg

from gcx.governance import retention
from gcx_pipelines.resources import GcxResource

GROUP = "governance"
OWNERS = ["team:data-engineering"]
ARCHIVED_DATASETS = [policy for policy in retention.POLICIES if policy.action == "archive"]


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds={"postgres", "parquet"},
    deps=[dg.AssetKey([policy.schema, policy.table]) for policy in ARCHIVED_DATASETS],
    config_schema={"today": dg.Field(str, is_required=False, description="Run as of this day (ISO).")},
)
def archived_partitions(context: dg.AssetExecutionContext, gcx: GcxResource) -> dg.MaterializeResult:
    """Warehouse partitions older than their dataset's retention (e.g. 1-minute bars after 365 days),
    moved to the lake's archive as Parquet (`lake/archive/<schema>/<table>/date=.../part-0.parquet`)
    one partition per transaction, each checked by row count before its rows leave the warehouse.
    Bulk exports still include them. Policies: gcx/governance/retention.py, docs/governance.md."""
    today = date.fromisoformat(context.op_config["today"]) if context.op_config.get("today") else None
    archived = retention.apply_retention(gcx.settings(), today=today)
    by_dataset = Counter(f"{a.schema}.{a.table}" for a in archived)
    for partition in archived:
        context.log.info(
            f"archived {partition.schema}.{partition.table} {partition.day}: {partition.rows} rows -> {partition.path}"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(a.rows for a in archived),
            "partitions_archived": len(archived),
            "bytes_written": sum(a.bytes for a in archived),
            "partitions_by_dataset": dict(by_dataset),
            "policies": dg.MetadataValue.md(policy_table()),
        }
    )


def policy_table() -> str:
    """The policy as a Markdown table, shown with each materialization in the UI."""
    lines = ["| dataset | action | warehouse days | why |", "|---|---|---|---|"]
    for policy in retention.POLICIES:
        lines.append(
            f"| {policy.relation} | {policy.action} | {policy.keep_days or 'all'} | {policy.reason} |"
        )
    return "\n".join(lines)
