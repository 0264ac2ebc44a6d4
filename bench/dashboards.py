"""Dashboards: time from navigation to the first chart drawn, per dashboard, at demo scale.

1. A demo world as `make demo` makes it (``days`` simulated days, seed 7, 1 % bad records) goes
   through ``gcx_pipelines.launch.materialize`` on a throwaway embedded PostgreSQL in a temporary
   GCX_HOME: the bench never touches your world.
2. The real API (uvicorn, in a thread) serves it; an admin key logs in through /dashboards/login.
3. Debian's chromium, driven by Playwright, opens each dashboard ``repeats`` times:
   - cold: a new browser context each time (empty cache: plotly.min.js, 4.8 MB, downloaded and
     parsed), the figure is #dashboard's data-first-chart-ms, set by static/dashboards.js when
     plotly's first newPlot resolves (milliseconds since navigation start);
   - warm: the same page reloaded in that context (plotly.min.js from the browser cache: 304);
   - data: the page's JSON data endpoint alone, timed in the browser (server + transfer).
   Medians are reported.

    python -m bench dashboards --days 90 --repeats 5
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from api.dashboards.pages import DASHBOARDS
from bench.local_api import api_in_thread
from gcx import clock, database
from gcx.access import keys
from gcx.settings import Settings
from gcx.simulator import simulate
from gcx.simulator.trading_calendar import sessions_before

SEED = 7
BAD_RATE = 0.01
"""As `make demo`."""
READY = "#dashboard[data-first-chart-ms]"


def _measure(browser, url: str, key: str, name: str, repeats: int) -> dict[str, float]:
    cold, warm, data = [], [], []
    for _ in range(repeats):
        context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 1000})
        context.request.post("/dashboards/login", form={"key": key, "next": "/dashboards/"}, max_redirects=0)
        page = context.new_page()
        page.goto(f"/dashboards/{name}")
        page.wait_for_selector(READY, timeout=60_000)
        cold.append(float(page.get_attribute("#dashboard", "data-first-chart-ms")))
        page.reload()
        page.wait_for_selector(READY, timeout=60_000)
        warm.append(float(page.get_attribute("#dashboard", "data-first-chart-ms")))
        data.append(
            page.evaluate(
                """async (url) => { const t = performance.now(); const r = await fetch(url); await r.json();
                   return performance.now() - t; }""",
                f"/dashboards/api/{name}",
            )
        )
        context.close()
    return {
        f"{name}: first chart, cold cache, median ms": statistics.median(cold),
        f"{name}: first chart, warm cache, median ms": statistics.median(warm),
        f"{name}: data endpoint, median ms": statistics.median(data),
    }


def main(days: int = 90, repeats: int = 5, home: str | None = None) -> dict[str, object]:
    """Build a demo-scale platform of `days` and measure it; or, with `home`, measure an existing
    platform (e.g. the one `make demo` built: `--home .gcx`), which is left as it was."""
    from playwright.sync_api import sync_playwright

    from gcx_pipelines.launch import materialize

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian's chromium is needed: apt-get install -y --no-install-recommends chromium")
    scratch = home is None
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="gcx-bench-dashboards-") if scratch else home))
    figures: dict[str, object] = {"repeats per dashboard": repeats}
    try:
        if scratch:
            figures["simulated days"] = days
            started = time.perf_counter()
            first, last = sessions_before(clock.today(), days)  # as `gcx simulate --days` counts
            simulate(first, (last - first).days + 1, SEED, 1.0, BAD_RATE, settings=settings)
            if not materialize(settings):
                raise RuntimeError("materialize failed: no dashboards to measure")
            figures["demo build s"] = round(time.perf_counter() - started, 1)
        with database.connect("warehouse", settings=settings) as conn:
            key = keys.create_key(conn, "bench", "pro", "admin")
            figures["trades in marts"] = conn.execute("select count(*) from marts.fct_trades").fetchone()[0]
            figures["days in marts"] = conn.execute(
                "select count(distinct trade_date) from marts.fct_trades"
            ).fetchone()[0]
        with api_in_thread(settings) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            for name in DASHBOARDS:
                measured = _measure(browser, url, key, name, repeats)
                print(measured)
                figures.update({label: round(value, 1) for label, value in measured.items()})
            browser.close()
    finally:
        if scratch:
            database.stop_embedded(settings)
            shutil.rmtree(settings.home, ignore_errors=True)
    return figures


if __name__ == "__main__":
    print(main())
