"""The MLflow registry on the platform's PostgreSQL: register, alias, load by alias (no mocks)."""

import pandas as pd
import pytest

from ml import registry
from ml.features import SURVEILLANCE_FEATURES
from ml.labels import NO_PATTERN
from ml.predict import load_champion
from ml.train import SURVEILLANCE_DEFAULT, fit_surveillance


@pytest.fixture(scope="module")
def tiny_model():
    rows = 40
    frame = pd.DataFrame({name: [float(i % 7) for i in range(rows)] for name in SURVEILLANCE_FEATURES})
    frame["same_owner_trade_count"] = [1.0 if i % 10 == 0 else 0.0 for i in range(rows)]
    labels = pd.Series(["wash_trade" if i % 10 == 0 else NO_PATTERN for i in range(rows)])
    return fit_surveillance(frame, labels, SURVEILLANCE_DEFAULT), frame


def test_register_alias_and_load_by_alias(settings, tiny_model):
    import mlflow

    model, frame = tiny_model
    name = "gcx_test_round_trip"
    assert registry.tracking_uri(settings).startswith("postgresql+psycopg2://")
    with mlflow.start_run(experiment_id=registry.experiment(name, settings)):
        first = registry.log_model(model, name, frame[model.features].head(5))
    with mlflow.start_run(experiment_id=registry.experiment(name, settings)):
        second = registry.log_model(model, name, frame[model.features].head(5))
    assert int(second.version) == int(first.version) + 1
    registry.set_alias(name, registry.CHAMPION, first.version, settings)
    registry.set_alias(name, registry.CHALLENGER, second.version, settings)

    champion = load_champion(name, settings, refresh=True)
    assert champion.version == str(first.version) and champion.name == name
    pd.testing.assert_frame_equal(champion.model.score(frame), model.score(frame))
    assert load_champion(name, settings) is champion, "loaded once, then kept"
    assert str(registry.version_by_alias(name, registry.CHALLENGER, settings).version) == str(second.version)
    assert (registry.artifact_root(settings) / name).is_dir(), "artifacts under <GCX_HOME>/mlflow-artifacts"

    registry.set_alias(name, registry.CHAMPION, second.version, settings)
    assert load_champion(name, settings).version == str(first.version), "the cache holds until refreshed"
    assert load_champion(name, settings, refresh=True).version == str(second.version)

    signature = mlflow.models.get_model_info(f"models:/{name}@{registry.CHAMPION}").signature
    assert set(signature.inputs.input_names()) == set(SURVEILLANCE_FEATURES)


def test_a_model_without_a_champion_is_a_clear_error(settings):
    with pytest.raises(LookupError, match="no 'champion'"):
        load_champion("gcx_never_trained", settings, refresh=True)
