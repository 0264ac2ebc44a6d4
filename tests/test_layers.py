"""Dependencies point down only (../shared/ARCHITECTURE.md, "Layers"): the core (gcx/) imports
neither the wiring (gcx_pipelines/, api/) nor ml/, except its entry points; the API never imports
the Dagster code location; and importing a module does no work."""

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINTS = {ROOT / "gcx" / "cli.py", ROOT / "gcx" / "services.py"}
"""May import anything: they start the services of every layer."""


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, wherever the import statement stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def offenders(folder: str, forbidden: set[str], allowed: set[Path] = frozenset()) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(imported_packages(path) & forbidden))}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in allowed and imported_packages(path) & forbidden
    ]


def test_the_core_imports_no_layer_above_it():
    assert offenders("gcx", {"api", "gcx_pipelines", "ml"}, ENTRY_POINTS) == []


def test_the_api_never_imports_the_dagster_code_location():
    assert offenders("api", {"gcx_pipelines"}) == []


def test_ml_is_plain_python_below_dagster_and_the_api():
    assert offenders("ml", {"gcx_pipelines", "api", "dagster"}) == []


def run_python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_feed_consumer_loads_no_dagster():
    loaded = (
        "import sys, gcx.live_feed.consumer; print(sorted(m for m in ('dagster', 'api') if m in sys.modules))"
    )
    assert run_python(loaded) == "[]"


@pytest.mark.slow
def test_importing_the_code_location_writes_nothing():
    """No dbt parse, no folder made, no connection: the manifest is made by an explicit step."""
    started = time.time()
    time.sleep(0.01)
    run_python("import gcx_pipelines.definitions")
    skipped = {".git", ".venv", ".uv"}
    written = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in skipped]
        written += [
            os.path.join(folder, name)
            for name in [*files, *subfolders]
            if os.stat(os.path.join(folder, name)).st_mtime > started
        ]
    assert written == []


def test_the_quant_client_stands_alone():
    """clients/python installs with httpx, pandas and pyarrow only, and imports nothing of the platform."""
    import tomllib

    project = tomllib.loads((ROOT / "clients" / "python" / "pyproject.toml").read_text())["project"]
    assert sorted(dependency.split(">")[0] for dependency in project["dependencies"]) == [
        "httpx",
        "pandas",
        "pyarrow",
    ]
    assert offenders("clients/python/src", {"gcx", "api", "gcx_pipelines", "ml", "dagster", "psycopg"}) == []
