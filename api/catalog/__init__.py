"""The dataset catalog: every dataset the API serves, described from three places.

  models.py    the records (Dataset, Column, ...) and the naming rules
  manifest.py  what dbt's manifest says
  facts.py     what the warehouse, the quality results and Dagster say
  build.py     the catalog built and cached per process, and each caller's view of it


- the dbt manifest (dbt_project/target/manifest.json): which marts exist, their descriptions,
  owners (dbt group owner, or `meta.owner`), column descriptions and PII flags, and lineage
  (`parent_map` / `child_map`, as Dagster asset keys `[schema, model]`);
- the warehouse: the relation's real columns and types, row count, time coverage, last load;
- the quality results: `quality.check_results` per day for the dataset and every raw dataset it is
  built from (a day is `available` when every check passed, `degraded` when one failed, `missing`
  when no check looked at it), and the dataset's dbt tests as last evaluated by Dagster.

A dataset's id is its model name without `fct_`/`dim_` (`trades`, `ohlcv_1m`, `large_trades`), except
where `DATASET_IDS` says otherwise (`daily_summary`). Access follows the schema and dbt group: trading
marts are for every tier, platform and executive marts from the member tier, compliance marts for the
compliance and admin roles from the member tier (listed to everyone, readable by them only),
restricted marts (clear PII) listed and readable by those roles only, from the member tier too.

The catalog is built once and kept for `CACHE_TTL_S` per process (`Catalog.get`); the per-caller views
(free tier delay, samples) are computed on each request from it.
"""
