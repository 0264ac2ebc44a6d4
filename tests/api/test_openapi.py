"""The OpenAPI document is complete and the API keeps to it: schemathesis generates requests from
the document (valid and invalid) and every answer must be a documented status with a body matching
its schema, and never a server error. In process, against the session's built platform."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api.main import create_app
from tests.api.conftest import bearer

EXAMPLES_PER_OPERATION = 25

NOT_CHECKED = {
    # A request valid parameter by parameter can still be refused as a whole (end before start),
    # which OpenAPI cannot express; those refusals are 422s, tested route by route.
    schemathesis.GenerationMode.POSITIVE: positive_data_acceptance,
    # Invalid requests are sent with a valid key added (so they reach the routes), which defeats
    # the "missing Authorization must be refused" expectation, and unknown query parameters are
    # ignored by design; server errors and response schemas are still checked.
    schemathesis.GenerationMode.NEGATIVE: negative_data_rejection,
}


@pytest.fixture(scope="module")
def admin_headers(make_key) -> dict[str, str]:
    """A pro admin key: every route is open to it, so generated requests reach the code behind the checks."""
    return bearer(make_key("pro", "admin", name="schemathesis"))


@pytest.fixture(scope="module")
def fuzzed_app(scored_platform) -> Iterator[FastAPI]:
    """An app of its own on the scored platform (every route has data behind it, models included):
    schemathesis runs the app's lifespan itself and keeps it until it is shut down, which must not
    touch the pool of the session's shared app."""
    yield create_app(scored_platform.settings)
    asgi.shutdown_lifespans()


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_every_operation_keeps_to_its_documented_contract(fuzzed_app, admin_headers, mode):
    """Valid and invalid requests for every operation: every answer is documented, matches its
    schema and is never a server error. (Driven through `as_strategy`: schemathesis' pytest fixture
    loader does not work with pytest 9.)"""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    tried: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/dashboards"):
            continue  # HTML pages and their data endpoints: tests/api/dashboards

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def check(case):
            response = case.call(headers=admin_headers)
            # 503 is a documented answer (database away, models not run yet); any other 5xx is a bug
            assert response.status_code < 500 or response.status_code == 503, (
                f"{case.method} {case.formatted_path}: {response.text}"
            )
            case.validate_response(response, excluded_checks=[NOT_CHECKED[mode]])

        try:
            check()
        except Unsatisfiable:
            # nothing invalid can be sent to an operation without parameters (e.g. /v1/me)
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.path
            continue
        tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(tried) >= (15 if mode == schemathesis.GenerationMode.POSITIVE else 10), tried


def test_every_route_documents_its_errors(api_app):
    """Each operation declares its parameters' descriptions and the error responses it can give."""
    document = api_app.openapi()
    undocumented = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/dashboards"):
                continue
            for parameter in operation.get("parameters", []):
                if not parameter.get("description") and not parameter.get("schema", {}).get("description"):
                    undocumented.append(
                        f"{method.upper()} {path}: parameter {parameter['name']} has no description"
                    )
            if path != "/health" and not {"401", "422", "429"} <= set(operation["responses"]):
                undocumented.append(f"{method.upper()} {path}: 401/422/429 not documented")
    assert not undocumented, "\n".join(undocumented)
