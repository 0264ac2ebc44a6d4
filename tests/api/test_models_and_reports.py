"""Surveillance alerts, member risk (stored and online scores with the champion) and the reports
archive through the API, on the session's scored platform (ml_job has run)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from api.params import decode_cursor
from gcx import clock, database
from gcx_pipelines.launch import materialize


def warehouse(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def scored(scored_platform):
    assert scored_platform.result.success
    return scored_platform.settings


@pytest.fixture(scope="module")
def extra_alerts(scored):
    """Three alerts on one day with known scores (the 3 simulated days may have none), removed after."""
    day = scored_day(scored) + timedelta(days=1)
    rows = [
        (f"SA-TEST-{n}", day, "wash_trade", "GEJWM1", ["M0001", "M0002"], [f"T{n}"], [], score, "rule",
         "gcx_surveillance", "1", json.dumps([{"feature": "same_owner_trades", "value": 1, "why": "test"}]),
         "M0001 traded with itself (test).")
        for n, score in ((1, 0.9), (2, 0.5), (3, 0.5))
    ]  # fmt: skip
    with database.connect("warehouse", settings=scored) as conn:
        conn.cursor().executemany(
            "insert into compliance.surveillance_alerts (alert_id, alert_date, pattern, symbol, member_ids,"
            " trade_ids, order_ids, score, detector, model_name, model_version, reasons, explanation, scored_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(*row, clock.now()) for row in rows],
        )
    yield day
    with database.connect("warehouse", settings=scored) as conn:
        conn.execute("delete from compliance.surveillance_alerts where alert_id like 'SA-TEST-%'")


def scored_day(settings):
    return warehouse(settings, "select max(score_date) from compliance.member_risk_scores")[0][0]


def test_alerts_are_for_compliance_only(client, auth, scored):
    refused = client.get("/v1/surveillance/alerts", headers=auth("pro", "quant"))
    assert refused.status_code == 403 and refused.json()["error"]["reason"] == "role_not_allowed"


def test_alerts_page_in_a_stable_order_and_equal_the_table(client, auth, scored, extra_alerts):
    headers = auth("member", "compliance")
    seen, cursor = [], None
    while True:
        page = client.get(
            "/v1/surveillance/alerts",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        ).json()
        seen += [alert["alert_id"] for alert in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        decode_cursor(cursor, {"day", "score", "id"})
    expected = warehouse(
        scored,
        "select alert_id from compliance.surveillance_alerts order by alert_date desc, score desc, alert_id",
    )
    assert seen == [alert_id for (alert_id,) in expected]
    assert seen[:3] == ["SA-TEST-1", "SA-TEST-2", "SA-TEST-3"]


def test_alert_filters(client, auth, extra_alerts):
    headers = auth("pro", "admin")
    body = client.get(
        "/v1/surveillance/alerts",
        params={"start": extra_alerts.isoformat(), "min_score": 0.6, "member_id": "M0002"},
        headers=headers,
    ).json()
    assert [alert["alert_id"] for alert in body["data"]] == ["SA-TEST-1"]
    alert = body["data"][0]
    assert alert["reasons"][0]["feature"] == "same_owner_trades" and alert["explanation"]
    bad = client.get(
        "/v1/surveillance/alerts", params={"start": "2026-11-02", "end": "2026-11-01"}, headers=headers
    )
    assert bad.status_code == 422


def test_member_risk_is_the_latest_daily_score(client, auth, scored, fresh_catalog):
    """The built platform's 3 days hold no settlement outcome yet (one is known 12 days after its
    day): the scores say so instead of a number, and the catalog says why."""
    member_id, score_date, probability, band = warehouse(
        scored,
        "select member_id, score_date, probability_settlement_fail, risk_band from compliance.member_risk_scores"
        " order by score_date desc, member_id limit 1",
    )[0]
    body = client.get(f"/v1/risk/members/{member_id}", headers=auth("pro", "compliance")).json()
    assert body["latest"]["score_date"] == score_date.isoformat()
    assert (probability, band) == (None, "insufficient_history")
    assert (body["latest"]["probability_settlement_fail"], body["latest"]["risk_band"]) == (probability, band)
    assert body["latest"]["model_version"] == "none" and body["latest"]["top_factors"] == []
    assert len(body["history"]) >= 1
    model = client.get("/v1/datasets/member_risk_scores", headers=auth("pro", "compliance")).json()["model"]
    assert model["name"] == "gcx_member_risk" and model["champion_version"] is None
    assert "known outcome < 20 needed" in model["note"] and "insufficient history" in model["note"]
    missing = client.get("/v1/risk/members/NOBODY", headers=auth("pro", "compliance"))
    assert missing.status_code == 404 and missing.json()["error"]["reason"] == "unknown_member"


def test_online_scoring_equals_the_daily_score_of_the_same_features(client, auth, scored):
    member_id, probability, band = warehouse(
        scored,
        "select s.member_id, s.probability_settlement_fail, s.risk_band from compliance.member_risk_scores s"
        " join ml.member_risk_features f on f.member_id = s.member_id and f.as_of_date = s.score_date"
        " where s.score_date = (select max(as_of_date) from ml.member_risk_features) limit 1",
    )[0]
    response = client.post(
        "/v1/risk/score", json={"members": [{"member_id": member_id}]}, headers=auth("pro", "admin")
    )
    assert response.status_code == 200, response.text
    (online,) = response.json()["data"]
    assert online["risk_band"] == band
    assert online["probability_settlement_fail"] == (
        None if probability is None else pytest.approx(probability, abs=1e-9)
    )


@pytest.fixture
def member_risk_champion(scored):
    """A gcx_member_risk champion fitted on made-up member-days with known outcomes (the built
    platform has none yet), registered in the platform's MLflow; the model is removed after."""
    import mlflow
    import numpy as np
    import pandas as pd

    from ml import registry
    from ml.features import MEMBER_RISK_FEATURES
    from ml.names import MEMBER_RISK_MODEL
    from ml.predict import load_champion
    from ml.train import fit_member_risk

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        rng.uniform(0, 1, (60, len(MEMBER_RISK_FEATURES))), columns=list(MEMBER_RISK_FEATURES)
    )
    frame["member_id"] = [f"M{n % 10}" for n in range(60)]
    frame["as_of_date"] = [clock.today() - timedelta(days=20 + n % 6) for n in range(60)]
    model = fit_member_risk(frame, (frame.delayed_rate_30d > 0.6).astype(float), {"C": 1.0})
    assert model.classifier is not None
    registry.use_platform_tracking(scored)
    with mlflow.start_run(experiment_id=registry.experiment(MEMBER_RISK_MODEL, scored)):
        version = registry.log_model(model, MEMBER_RISK_MODEL, frame[list(MEMBER_RISK_FEATURES)].head(20))
    registry.set_alias(MEMBER_RISK_MODEL, registry.CHAMPION, str(version.version), scored)
    load_champion.cache_clear()
    yield str(version.version)
    registry.use_platform_tracking(scored).delete_registered_model(MEMBER_RISK_MODEL)
    load_champion.cache_clear()


def test_what_if_scoring_is_the_champions_own_prediction(client, auth, scored, member_risk_champion):
    """Feature values sent to the API score exactly as the champion scores them in process. (That a
    member with repeated fails scores riskier is a model behaviour test: tests/ml/.)"""
    import pandas as pd

    from ml.features import MEMBER_RISK_FEATURES
    from ml.names import MEMBER_RISK_MODEL
    from ml.predict import load_champion, score_members

    failing = dict.fromkeys(MEMBER_RISK_FEATURES, 0.0) | {
        "obligations_due_30d": 20.0,
        "delayed_30d": 12.0,
        "delayed_rate_30d": 0.6,
        "severe_delays_90d": 6.0,
        "overdue_now": 3.0,
        "overdue_amount_share": 0.5,
        "days_since_last_delay": 1.0,
    }
    body = client.post(
        "/v1/risk/score",
        json={"members": [{"member_id": "FAILING", "features": failing}]},
        headers=auth("pro", "compliance"),
    ).json()
    frame = pd.DataFrame([{"member_id": "FAILING", "as_of_date": clock.today(), **failing}])
    expected = score_members(load_champion(MEMBER_RISK_MODEL, scored), frame)
    (scored_row,) = body["data"]
    assert scored_row["probability_settlement_fail"] == pytest.approx(
        float(expected.probability_settlement_fail[0])
    )
    assert scored_row["risk_band"] == expected.risk_band[0] != "insufficient_history"
    assert scored_row["model_version"] == str(expected.model_version[0]) == member_risk_champion


@pytest.mark.parametrize(
    ("members", "status"),
    [
        ([], 422),
        ([{"member_id": "X", "features": {"delayed_30d": 1.0}}], 422),
        ([{"member_id": "NOBODY"}], 404),
    ],
)
def test_scoring_refusals(client, auth, scored, members, status):
    response = client.post("/v1/risk/score", json={"members": members}, headers=auth("pro", "compliance"))
    assert response.status_code == status, response.text
    quant = client.post("/v1/risk/score", json={"members": members}, headers=auth("pro", "quant"))
    assert quant.status_code == 403


@pytest.fixture(scope="module")
def reports(built_platform):
    """The reports of the platform's last simulated day (and any summary it completes)."""
    last = warehouse(built_platform, "select max(trade_date) from marts.fct_trades where venue = 'GCX'")[0][0]
    assert materialize(built_platform, start=last, end=last, job_name="compliance_reports_job")
    return last


def test_reports_are_listed_and_downloaded(client, auth, reports):
    headers = auth("pro", "compliance")
    listing = client.get("/v1/reports", params={"kind": "daily"}, headers=headers).json()
    pdf = next(r for r in listing["data"] if r["period"] == reports.isoformat() and r["format"] == "pdf")
    download = client.get(pdf["url"], headers=headers)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert len(download.content) == pdf["size_bytes"]


@pytest.mark.parametrize(
    "name", ["daily/..%2F..%2Fpg/postmaster.pid", "daily/2026-11-18/..%2F..%2F..%2Fetc%2Fpasswd", "x/y/z"]
)
def test_report_names_outside_the_archive_are_404(client, auth, reports, name):
    response = client.get(f"/v1/reports/{name}", headers=auth("pro", "compliance"))
    assert response.status_code == 404


def test_reports_are_for_compliance_only(client, auth, reports):
    assert client.get("/v1/reports", headers=auth("pro", "executive")).status_code == 403
