"""Data quality rules: Great Expectations suites on the raw and bronze layers, trades reconciled
across layers, and every result kept in the warehouse (quality.check_results,
quality.dataset_daily_quality).

  suites.py          one declarative suite per raw dataset (the registry)
  validation.py      the one runner: a suite run by Great Expectations on one partition
  reconciliation.py  exchange source trades = marts.fct_trades + quarantined trades, per day
  results.py         quality.check_results, and record_check_result for every domain's checks

Dagster's asset checks call these (gcx_pipelines/defs/quality/checks.py).
"""
