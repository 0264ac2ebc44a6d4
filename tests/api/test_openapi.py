"""The OpenAPI document is complete and the API keeps to it: schemathesis generates requests from
the document (valid and invalid) and every answer must be a documented status with a body matching
its schema, and never a server error. In process, against the session's built platform."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import bearer

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def api_schema(api_app, client):
    """The schema of the app whose lifespan `client` has started (pool, metering)."""
    return schemathesis.openapi.from_asgi("/openapi.json", api_app)


@pytest.fixture(scope="module")
def admin_headers(make_key) -> dict[str, str]:
    """A pro admin key: every route is open to it, so generated requests reach the code behind the checks."""
    return bearer(make_key("pro", "admin", name="schemathesis"))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_to_its_documented_contract(case, admin_headers):
    response = case.call_and_validate(headers=admin_headers)
    assert response.status_code < 500, response.text


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
