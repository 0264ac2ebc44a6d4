"""Results land in quality.check_results; the daily view scores each dataset's days."""

from datetime import date, timedelta

import dagster as dg

from gcx.quality.results import record_check_result

D1 = date(2024, 5, 1)


def _view(conn, dataset: str) -> list[tuple]:
    return conn.execute(
        """
        select partition_date, checks_total, checks_passed, score::float8, condition
        from quality.dataset_daily_quality where dataset = %s order by partition_date
        """,
        (dataset,),
    ).fetchall()


def test_daily_view_scores_latest_results_and_shows_missing_days(conn):
    dataset = "test__view_scores"
    raw, bronze = dg.AssetKey(["raw", dataset]), dg.AssetKey(["bronze", dataset])

    def record(day, key, check, passed):
        record_check_result(conn, check_name=check, asset_key=key, partition_date=day, passed=passed)

    record(D1, raw, "gx_suite", True)
    record(D1, bronze, "gx_lake_file", True)
    record(D1 + timedelta(days=1), raw, "gx_suite", False)
    record(D1 + timedelta(days=1), bronze, "gx_lake_file", True)
    record(D1 + timedelta(days=3), raw, "gx_suite", False)
    record(D1 + timedelta(days=3), raw, "gx_suite", True)  # re-run after a fix: the latest result counts

    assert _view(conn, dataset) == [
        (D1, 2, 2, 1.0, "available"),
        (D1 + timedelta(days=1), 2, 1, 0.5, "degraded"),
        (D1 + timedelta(days=2), 0, 0, None, "missing"),
        (D1 + timedelta(days=3), 1, 1, 1.0, "available"),
    ]


def test_record_check_result_keeps_one_row_per_execution(conn):
    key = dg.AssetKey(["raw", "test__recorded"])
    first = record_check_result(
        conn,
        check_name="row_counts_reconcile",
        asset_key=key,
        partition_date="2024-05-02",
        passed=False,
        expectations_total=3,
        expectations_passed=2,
        details={"lake_rows": 10, "raw_rows": 9},
        run_id="run-1",
    )
    second = record_check_result(
        conn, check_name="row_counts_reconcile", asset_key="raw/test__recorded", passed=True
    )
    assert second > first
    rows = conn.execute(
        """
        select check_name, asset_key, dataset, partition_date, passed, expectations_total,
               expectations_passed, details, run_id
        from quality.check_results where asset_key = 'raw/test__recorded' order by id
        """
    ).fetchall()
    assert rows == [
        ("row_counts_reconcile", "raw/test__recorded", "test__recorded", date(2024, 5, 2), False, 3, 2,
         {"lake_rows": 10, "raw_rows": 9}, "run-1"),
        ("row_counts_reconcile", "raw/test__recorded", "test__recorded", None, True, None, None, {}, None),
    ]  # fmt: skip
