"""`ml_job` on one trading day, the shortest history there is: no model can be trained, and the run
still succeeds. Surveillance alerts come from the rules alone (the simulated wash trade is flagged),
member risk says "insufficient history", and the run, the catalog and the API say why.

The world: Thursday 3 December 2026, then Farmers' Day and a weekend (the calendar that once made
the suite fail), seed 3, whose one session holds a simulated wash trade. Three trading days are
`built_platform`'s world (test_ml_job.py)."""

import json
from datetime import UTC, date, datetime

import pytest

from api.main import create_app
from gcx import database
from gcx.settings import Settings
from gcx.simulator import simulate
from gcx_pipelines.launch import materialize
from ml import registry
from tests.api.conftest import bearer
from tests.conftest import clock_at, run_ml_job

pytestmark = pytest.mark.slow  # builds and scores a platform of its own

SESSION = date(2026, 12, 3)
SEED = 3


@pytest.fixture(scope="module")
def one_session(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings(home=tmp_path_factory.mktemp("one_session"))
    try:
        with clock_at(datetime(2026, 12, 7, 8, tzinfo=UTC)):  # the Monday morning after
            simulate(SESSION, 1, seed=SEED, settings=settings)
            assert materialize(settings)
            yield settings, run_ml_job(settings, SESSION, SESSION)
    finally:
        database.stop_embedded(settings)


def metadata(result, asset: str) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def test_the_run_succeeds_and_says_why_nothing_was_trained(one_session):
    settings, result = one_session
    assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    surveillance = metadata(result, "ml/surveillance_model")
    assert surveillance == {
        "trained": False,
        "reason": "1 day(s) of features < 2 needed (days to train on and a later one to compare with the"
        " champion on): no champion yet: alerts come from the rules alone",
    }
    member_risk = metadata(result, "ml/member_risk_model")
    assert member_risk["trained"] is False and "insufficient history" in member_risk["reason"]
    for name in (registry.SURVEILLANCE_MODEL, registry.MEMBER_RISK_MODEL):
        assert registry.version_by_alias(name, registry.CHAMPION, settings) is None
    with database.connect("warehouse", settings=settings) as conn:
        notes = dict(conn.execute("select model_name, note from ml.model_status").fetchall())
    assert notes == {
        registry.SURVEILLANCE_MODEL: surveillance["reason"],
        registry.MEMBER_RISK_MODEL: member_risk["reason"],
    }


def test_the_rules_flag_the_simulated_wash_trade(one_session):
    settings, _ = one_session
    episodes = [json.loads(line) for line in (settings.truth_dir / "episodes.jsonl").read_text().splitlines()]
    [wash] = [episode for episode in episodes if episode["type"] == "wash_trade"]
    with database.connect("warehouse", settings=settings) as conn:
        alerts = conn.execute(
            "select pattern, detector, model_version, trade_ids, member_ids from compliance.surveillance_alerts"
        ).fetchall()
    flagged = [alert for alert in alerts if set(alert[3]) & set(wash["trade_ids"])]
    assert flagged and all(alert[:3] == ("wash_trade", "rule", "none") for alert in flagged)
    assert set(flagged[0][4]) <= set(wash["member_ids"])


def test_member_risk_says_insufficient_history(one_session):
    settings, _ = one_session
    with database.connect("warehouse", settings=settings) as conn:
        bands = conn.execute(
            "select risk_band, count(*), count(probability_settlement_fail), count(*) filter"
            " (where top_factors <> '[]'::jsonb) from compliance.member_risk_scores group by 1"
        ).fetchall()
    assert len(bands) == 1
    band, members, with_probability, with_factors = bands[0]
    assert (band, with_probability, with_factors) == ("insufficient_history", 0, 0) and members > 0


def test_compliance_reads_the_alerts_and_the_reason_through_the_api(one_session):
    from fastapi.testclient import TestClient

    from gcx.access import keys

    settings, _ = one_session
    with database.connect("warehouse", settings=settings) as conn:
        key = keys.create_key(conn, "test", "pro", "compliance")
    with TestClient(create_app(settings)) as client:
        alerts = client.get("/v1/surveillance/alerts", headers=bearer(key))
        dataset = client.get("/v1/datasets/surveillance_alerts", headers=bearer(key))
    assert alerts.status_code == 200 and alerts.json()["data"], alerts.text
    model = dataset.json()["model"]
    assert model["champion_version"] is None and model["note"].endswith("alerts come from the rules alone")
