"""Ingestion rules, below both the batch pipeline and the live feed: GCX's sources -> the lake
(bronze Parquet) -> the warehouse's raw schema and quarantine.

  datasets.py   the registry: every source dataset, its columns, types, units and record rules
  validate.py   what a valid record is, vectorised for a batch and value by value for the feed
  extract.py    a day's rows from the exchange database or a landing-folder file
  lake.py       the bronze layer: one Parquet file per source, dataset and day
  load.py       the raw schema and quarantine: a day's load, replaced in one transaction
  reconcile.py  per day, source rows = lake rows = raw rows + quarantined rows

Dagster wires these into assets (gcx_pipelines/defs/ingestion/); the feed consumer
(gcx/live_feed/) judges each message with the same rules.
"""
