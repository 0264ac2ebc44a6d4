"""MLflow on the platform's PostgreSQL: the one place that says where tracking and artifacts live.

Tracking and the model registry are the `mlflow` database of the platform's server; artifacts go
under `<GCX_HOME>/mlflow-artifacts`. Nothing is set at import: callers pass their Settings and
`use_platform_tracking` points MLflow at that platform for the calls that follow.

Registered models: `gcx_surveillance` and `gcx_member_risk`, each version holding a
`SurveillanceModel` or `MemberRiskModel` (ml/models.py) inside an MLflow pyfunc, with the aliases
`challenger` (the latest trained) and `champion` (the one that scores).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from gcx import database
from gcx.settings import Settings
from ml.models import LoadedModel
from ml.names import CHALLENGER, CHAMPION, MEMBER_RISK_MODEL, SURVEILLANCE_MODEL  # noqa: F401 (re-exported)

PIP_REQUIREMENTS = ["scikit-learn", "pandas", "numpy", "scipy"]
"""Given explicitly: inferring them starts a slow subprocess."""


def tracking_uri(settings: Settings) -> str:
    """The MLflow tracking and registry URI of a platform: its `mlflow` database."""
    return database.database_url("mlflow", driver="psycopg2", settings=settings)


def artifact_root(settings: Settings) -> Path:
    return settings.home.resolve() / "mlflow-artifacts"


def use_platform_tracking(settings: Settings) -> MlflowClient:
    """Point MLflow (tracking and registry) at this platform; returns a client bound to it."""
    database.ensure_databases(settings)
    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment(name: str, settings: Settings) -> str:
    """The experiment's id, created with its artifacts under <GCX_HOME>/mlflow-artifacts/<name>."""
    client = use_platform_tracking(settings)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = artifact_root(settings) / name
    location.mkdir(parents=True, exist_ok=True)
    try:
        return client.create_experiment(name, artifact_location=location.as_uri())
    except MlflowException:  # created meanwhile by another process
        return client.get_experiment_by_name(name).experiment_id


class RegisteredModel(mlflow.pyfunc.PythonModel):
    """The pyfunc wrapper: `predict` gives the model's scores for a feature frame; the model
    object itself (with its explanations) is `.model` after `unwrap_python_model()`."""

    def __init__(self, model: object) -> None:
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if hasattr(self.model, "score"):
            return self.model.score(model_input)
        return pd.DataFrame({"probability_settlement_fail": self.model.probability(model_input)})


def log_model(model: object, name: str, example: pd.DataFrame) -> ModelVersion:
    """Log `model` in the active run with its signature and register it as a new version of `name`."""
    from mlflow.models import infer_signature

    wrapper = RegisteredModel(model)
    output = wrapper.predict(None, example)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=wrapper,
        signature=infer_signature(example, output),
        input_example=example.head(3),
        pip_requirements=PIP_REQUIREMENTS,
        code_paths=None,
        registered_model_name=name,
    )
    client = MlflowClient()
    return client.get_model_version(name, str(info.registered_model_version))


def version_by_alias(name: str, alias: str, settings: Settings) -> ModelVersion | None:
    client = use_platform_tracking(settings)
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def set_alias(name: str, alias: str, version: str, settings: Settings) -> None:
    use_platform_tracking(settings).set_registered_model_alias(name, alias, version)


def remove_alias(name: str, alias: str, settings: Settings) -> None:
    """Take `alias` off whichever version has it; nothing when none does (or the model is not registered)."""
    with contextlib.suppress(MlflowException):
        use_platform_tracking(settings).delete_registered_model_alias(name, alias)


def load_version(name: str, version: str, settings: Settings) -> LoadedModel:
    use_platform_tracking(settings)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return LoadedModel(name, str(version), pyfunc.unwrap_python_model().model)


def load_by_alias(name: str, alias: str, settings: Settings) -> LoadedModel | None:
    """The version behind `alias`, loaded; None when no version has the alias yet."""
    found = version_by_alias(name, alias, settings)
    return None if found is None else load_version(name, found.version, settings)
