"""Dashboard fixtures: Debian's chromium (installed once when missing; tests that need it skip
when it cannot be), a Playwright browser driving it, and browser sessions logged in through the
login form of the real server (`live_server`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

CHROMIUM_INSTALL_TIMEOUT_S = 900


def install_chromium() -> str | None:
    """Debian's chromium package (`apt-get install`), as the test setup may do on a fresh machine."""
    if shutil.which("apt-get") is None:
        return None
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [
        "apt-get",
        "install",
        "-y",
        "--no-install-recommends",
        "-o",
        "DPkg::Lock::Timeout=300",
        "chromium",
    ]
    for command in (install, ["apt-get", "update"], install):  # update only when the first try fails
        try:
            done = subprocess.run(
                command, env=environment, capture_output=True, text=True, timeout=CHROMIUM_INSTALL_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode == 0 and command is install and shutil.which("chromium"):
            return shutil.which("chromium")
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or install_chromium()
    if path is None:
        pytest.skip(
            "Debian's chromium is not installed and `apt-get install chromium` failed (root and apt needed)"
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def dashboard_key(make_key) -> Callable[[str], str]:
    """One key per role for the session (pro tier: real time, full history)."""
    made: dict[str, str] = {}

    def key(role: str) -> str:
        if role not in made:
            made[role] = make_key("pro", role, name=f"dashboard tests ({role})")
        return made[role]

    return key


@pytest.fixture(scope="session")
def logged_in(browser, live_server, dashboard_key) -> Callable[[str], object]:
    """A browser context logged in through /dashboards/login with a key of the role (one per role)."""
    contexts: dict[str, object] = {}

    def context_for(role: str):
        if role not in contexts:
            context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto("/dashboards/login")
            page.fill("input[name=key]", dashboard_key(role))
            page.click("button[type=submit]")
            page.wait_for_url("**/dashboards/")
            page.close()
            contexts[role] = context
        return contexts[role]

    yield context_for
    for context in contexts.values():
        context.close()
