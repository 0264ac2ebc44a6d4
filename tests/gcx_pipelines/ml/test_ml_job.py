"""`ml_job` on the built platform: features, the surveillance model trained, evaluated and
promoted, member risk kept untrained (3 days hold no known settlement outcome), and the days'
alerts and member-risk scores written (the session's `scored_platform`, which removes everything it
added at the end, so the shared platform is left as it was found)."""

import pytest

from gcx import database
from ml import registry
from tests.conftest import run_ml_job


@pytest.fixture(scope="module")
def ml_run(scored_platform):
    """The session's first ml_job run (tests/conftest.py) and a second one on the same days."""
    alert_ids_before = _alert_ids(scored_platform.settings)
    again = run_ml_job(scored_platform.settings, *scored_platform.days)
    return (
        scored_platform.result,
        again,
        scored_platform.days,
        (alert_ids_before, _alert_ids(scored_platform.settings)),
    )


def _alert_ids(settings) -> set[str]:
    with database.connect("warehouse", settings=settings) as conn:
        return {row[0] for row in conn.execute("select alert_id from compliance.surveillance_alerts")}


def materialized(result, asset: str) -> dict:
    """The metadata of the run's materialization of `asset` (e.g. "ml/member_risk_model")."""
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def test_ml_job_trains_promotes_and_scores(ml_run, built_platform):
    result, _, (_, last), _ = ml_run
    failures = [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    assert result.success, failures
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["surveillance_features_expectations"].passed
    assert checks["member_risk_features_expectations"].passed
    assert {"surveillance_feature_drift", "member_risk_feature_drift"} <= set(checks)

    champion = registry.version_by_alias(registry.SURVEILLANCE_MODEL, registry.CHAMPION, built_platform)
    challenger = registry.version_by_alias(registry.SURVEILLANCE_MODEL, registry.CHALLENGER, built_platform)
    assert champion is not None and challenger is not None
    assert challenger.tags["evaluation.champion_version"] in ("", str(champion.version))
    tracking = registry.use_platform_tracking(built_platform)
    run = tracking.get_run(challenger.run_id)
    assert "held_out_from" in run.data.params and "features_unused" in run.data.params
    artifacts = {a.path for a in tracking.list_artifacts(run.info.run_id, "evaluation")}
    assert artifacts == {
        f"evaluation/{n}.png" for n in ("confusion_matrix", "pr_curve", "feature_importance")
    }
    assert materialized(result, "ml/surveillance_model")["trained"] is True

    # no settlement outcome is known within 3 days (12 days after a day): no member-risk version
    risk = materialized(result, "ml/member_risk_model")
    assert risk["trained"] is False
    assert risk["reason"].startswith("0 member-days with a known outcome < 20 needed")
    assert risk["reason"].endswith("no champion yet: every member scores 'insufficient history'")
    assert materialized(result, "ml/member_risk_evaluation")["evaluated"] is False
    assert registry.version_by_alias(registry.MEMBER_RISK_MODEL, registry.CHAMPION, built_platform) is None

    with database.connect("warehouse", settings=built_platform) as conn:
        members = conn.execute(
            "select count(*), count(distinct member_id), min(score_date), max(score_date) from compliance.member_risk_scores"
        ).fetchone()
        bad = conn.execute(
            "select count(*) from compliance.member_risk_scores where probability_settlement_fail is not null"
            " or risk_band <> 'insufficient_history' or model_version <> 'none' or horizon_days <> 7"
        ).fetchone()[0]
        notes = dict(conn.execute("select model_name, note from ml.model_status").fetchall())
        alerts = conn.execute(
            "select alert_id, pattern, member_ids, trade_ids, score, detector, reasons, explanation, model_name"
            " from compliance.surveillance_alerts"
        ).fetchall()
    assert members[0] > 0 and members[1] >= 5 and members[3] == last
    assert bad == 0
    # after the module's second run too: its challenger, the decision, the champion that scores
    assert notes[registry.SURVEILLANCE_MODEL].startswith(f"challenger v{challenger.version}: ")
    assert notes[registry.SURVEILLANCE_MODEL].endswith(f"; champion v{champion.version}")
    assert notes[registry.MEMBER_RISK_MODEL] == risk["reason"]
    # the run scored every day; alerts are optional on 3 quiet days, but when present they are complete
    for alert_id, pattern, member_ids, trade_ids, score, detector, reasons, explanation, model_name in alerts:
        assert alert_id.startswith("SA") and member_ids and trade_ids and 0 <= score <= 1 and explanation
        assert pattern in {
            "wash_trade",
            "circular_trading",
            "spoofing",
            "marking_the_close",
            "pump_and_dump",
            "anomaly",
        }
        assert model_name == registry.SURVEILLANCE_MODEL and detector and isinstance(reasons, list)


def test_re_running_replaces_the_days_and_keeps_alert_ids(ml_run, built_platform):
    result, again, _, (alert_ids_before, alert_ids_after) = ml_run
    assert again.success
    second_champion = registry.version_by_alias(
        registry.SURVEILLANCE_MODEL, registry.CHALLENGER, built_platform
    )
    assert str(second_champion.version) == "2", "a second weekly run registers a new challenger"
    assert registry.version_by_alias(registry.MEMBER_RISK_MODEL, registry.CHALLENGER, built_platform) is None
    with database.connect("warehouse", settings=built_platform) as conn:
        duplicates = conn.execute(
            "select count(*) - count(distinct (member_id, score_date)) from compliance.member_risk_scores"
        ).fetchone()[0]
    assert duplicates == 0
    first_counts = {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata[
            "dagster/row_count"
        ].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[0] in ("compliance", "marts")
    }
    second_counts = {
        e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata[
            "dagster/row_count"
        ].value
        for e in again.get_asset_materialization_events()
        if e.asset_key.path[0] in ("compliance", "marts")
    }
    assert first_counts == second_counts, "the same days re-scored give the same number of rows"
    assert alert_ids_before and alert_ids_after == alert_ids_before, "re-scoring keeps every alert's id"
