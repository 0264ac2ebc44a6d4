"""Data governance: who may touch what, how long data stays in the warehouse, and erasure.

  roles.py        the API's least-privilege database role (gcx_api) and the append-only audit log
  retention.py    the retention policy of every warehouse dataset; archiving partitions to the lake
                  and reading them back (exports)
  privacy.py      `gcx privacy erase --user ID`: a platform user's personal data, everywhere it is kept

Nothing here imports Dagster: the API reads archived partitions through retention.py. The Dagster
asset and schedule that apply the retention policy are in gcx_pipelines/defs/governance/.
docs/governance.md explains the decisions.
"""
