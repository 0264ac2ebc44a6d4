"""The warehouse's dbt project (dbt_project/) as Dagster assets: staging, intermediate and marts.

See assets.py for how sources, groups, owners and tests map onto Dagster. The `dbt` resource is
bound here (it names the project, nothing secret); `gcx` (GcxResource) is bound in definitions.py.
"""

import dagster as dg

from gcx_pipelines.defs.dbt.assets import dbt_resource, translator, warehouse_dbt_models

__all__ = ["defs", "translator", "warehouse_dbt_models"]

defs = dg.Definitions(assets=[warehouse_dbt_models], resources={"dbt": dbt_resource()})
