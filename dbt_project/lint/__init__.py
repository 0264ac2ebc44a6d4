"""What sqlfluff needs to render the dbt project's SQL without dbt (`make lint`; .sqlfluff points here):
`var` reads the project's own vars, dbt.py and adapter.py stand in for dbt's macros."""

from pathlib import Path

import yaml

_VARS = yaml.safe_load((Path(__file__).parents[1] / "dbt_project.yml").read_text())["vars"]


def var(name, default=None):
    return _VARS.get(name, default)
