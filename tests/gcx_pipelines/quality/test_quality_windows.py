"""Checking many days at once: one Great Expectations run per window, the same results as day by day."""

from datetime import date, datetime, timedelta

import pytest
from quality_rows import DAY, GOOD_ROWS, replace_partition

from gcx.quality import validation
from gcx.quality.suites import SUITES
from gcx.quality.validation import validate_raw_days, validate_raw_partition, window_expectations

DAYS = [DAY + timedelta(days=n) for n in range(4)]


def _members_on(day: date, updated_at: str | None = None) -> list[dict]:
    """The hand-made members, updated on `day` (or at `updated_at`)."""
    rows = []
    for row in GOOD_ROWS["exchange__members"]:
        moment = datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00"))
        shifted = moment + timedelta(days=(day - DAY).days)
        rows.append({**row, "updated_at": updated_at or shifted.isoformat()})
    return rows


@pytest.fixture
def gx_runs(monkeypatch) -> list[int]:
    """The row count of every Great Expectations run."""
    runs: list[int] = []
    validate_frame = validation.validate_frame

    def counting(frame, *args, **kwargs):
        runs.append(len(frame))
        return validate_frame(frame, *args, **kwargs)

    monkeypatch.setattr(validation, "validate_frame", counting)
    return runs


def _summary(results) -> list[tuple[date, int, bool, list[str]]]:
    return [(r.partition_date, r.rows, r.success, [f.expectation for f in r.failures]) for r in results]


def test_good_days_pass_in_one_run_with_the_day_by_day_results(conn, gx_runs):
    # the first partition also holds an earlier row; the fourth day has no rows
    first = [
        *_members_on(DAYS[0]),
        {**GOOD_ROWS["exchange__members"][0], "updated_at": "2019-01-01T09:00:00Z"},
    ]
    replace_partition(conn, "exchange__members", DAYS[0], first)
    for day in DAYS[1:3]:
        replace_partition(conn, "exchange__members", day, _members_on(day))
    replace_partition(
        conn, "exchange__members", DAYS[3], []
    )  # another test of the session may have filled it

    results = list(validate_raw_days(conn, "exchange__members", DAYS, first_day=DAYS[0]))

    assert gx_runs == [7, 0]  # the three days with rows in one run, the empty day on its own
    day_by_day = [validate_raw_partition(conn, "exchange__members", day, day == DAYS[0]) for day in DAYS]
    assert _summary(results) == _summary(day_by_day)
    assert [r.rows for r in results] == [3, 2, 2, 0] and all(r.success for r in results)
    assert [o.expectation for o in results[1].outcomes] == [o.expectation for o in day_by_day[1].outcomes]


def test_a_failing_window_is_reported_day_by_day(conn, gx_runs):
    replace_partition(conn, "exchange__members", DAYS[0], _members_on(DAYS[0]))
    # updated on the next day: outside its partition, and outside it only (the window holds that day)
    replace_partition(conn, "exchange__members", DAYS[1], _members_on(DAYS[1], "2024-03-07T09:00:00Z"))
    replace_partition(conn, "exchange__members", DAYS[2], _members_on(DAYS[2]))

    results = list(validate_raw_days(conn, "exchange__members", DAYS[:3]))

    assert gx_runs == [6, 2, 2, 2]  # the window, then each day
    assert [r.success for r in results] == [True, False, True]
    assert results[1].failures == validate_raw_partition(conn, "exchange__members", DAYS[1]).failures
    assert [f.expectation for f in results[1].failures] == [
        "expect_compound_columns_to_be_unique(member_id, updated_at)",
        "expect_column_values_to_be_between(updated_at)",
    ]


def test_ingestions_first_day_is_only_bounded_by_its_end(conn):
    early = [{**row, "updated_at": "2019-01-01T09:00:00Z"} for row in GOOD_ROWS["exchange__members"][:1]]
    replace_partition(conn, "exchange__members", DAYS[0], early)
    replace_partition(conn, "exchange__members", DAYS[1], early)

    results = list(validate_raw_days(conn, "exchange__members", DAYS[:2], first_day=DAYS[0]))

    assert [r.success for r in results] == [True, False]


def test_window_suites_compare_with_columns_not_parameters():
    for suite in SUITES:
        for expect in suite.all_expectations():
            rewritten = window_expectations(expect)
            assert rewritten, expect.name
            for window_expect in rewritten:
                assert not any(isinstance(v, dict) for v in window_expect.kwargs.values()), window_expect
                if "unique" in window_expect.type:
                    assert window_expect.kwargs["column_list"][-1] == "_partition_date"
