"""Same seed and options: byte-identical world (tables and files); another seed: another world."""

from datetime import date

import pytest

from gcx.simulator import simulate

START, DAYS = date(2024, 12, 20), 14  # over Christmas, Boxing Day and New Year


@pytest.fixture(scope="module")
def first_run(settings, fingerprint):
    simulate(START, DAYS, seed=21, scale=2.0, bad_rate=0.05, settings=settings)
    return fingerprint()


def test_same_seed_gives_identical_tables_and_files(settings, first_run, fingerprint):
    simulate(START, DAYS, seed=21, scale=2.0, bad_rate=0.05, settings=settings)
    again = fingerprint()
    assert again == first_run
    assert sum(key.startswith("file:landing/") for key in again) > 50
    assert {
        "file:truth/episodes.jsonl",
        "file:truth/bad_records.jsonl",
        "file:truth/member_defaults.csv",
    } <= set(again)


def test_another_seed_gives_another_world(settings, first_run, fingerprint):
    simulate(START, DAYS, seed=22, scale=2.0, bad_rate=0.05, settings=settings)
    other = fingerprint()
    changed = {key for key in first_run if other.get(key) != first_run[key]}
    assert {"table:trades", "table:orders", "table:members", "file:truth/bad_records.jsonl"} <= changed
    assert (
        other["table:trading_calendar"] == first_run["table:trading_calendar"]
    )  # the calendar is not random


def test_a_rerun_replaces_the_previous_world(settings, first_run):
    simulate(START, 3, seed=21, scale=2.0, settings=settings)
    files = sorted(p.name for p in (settings.landing_dir / "platform" / "users").iterdir())
    assert files == ["users_2024-12-20.jsonl", "users_2024-12-21.jsonl", "users_2024-12-22.jsonl"]
    assert (settings.truth_dir / "bad_records.jsonl").read_text() == ""
