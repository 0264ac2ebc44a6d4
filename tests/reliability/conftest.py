"""The reliability suite (`make reliability`): faults injected into real processes, malformed input
at every entry point, API security and sustained load. Longer than the unit tests, so `make test`
leaves it out: every test collected under tests/reliability/ is marked `reliability`."""

from collections.abc import Iterator

import pytest
from api_security import request_facts

# The API security tests (test_security_matrix.py, test_injection_probes.py) use the API tests' app on
# the shared built platform, its in-process client and its real server.
from tests.api.conftest import api_app, client, live_server  # noqa: F401


@pytest.fixture(scope="module")
def facts(scored_platform) -> Iterator[dict[str, str]]:
    """Values that make each route's request succeed on the shared scored platform (request_facts)."""
    with request_facts(scored_platform.settings) as values:
        yield values


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)
