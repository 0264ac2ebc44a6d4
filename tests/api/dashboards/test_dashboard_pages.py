"""Every dashboard in a real headless Chromium against the real server on the built platform: no
console error, every chart drawn with points, and the figures shown equal the marts (queried here,
independently of the dashboards' own SQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from api.dashboards.compliance import ALERTS_NOT_AVAILABLE
from gcx import clock, database
from tests.conftest import WORLD_START

READY = "#dashboard[data-state=ready]"

CHART_POINTS = """() => Object.fromEntries([...document.querySelectorAll('figure.chart')].map(figure => {
    const plot = figure.querySelector('.js-plotly-plot');
    const points = plot ? plot.data.map(t => (t.x || t.values || t.z || []).length) : null;
    return [figure.dataset.chart, points];
}))"""

TILE_TEXTS = """() => Object.fromEntries([...document.querySelectorAll('[data-tile]')].map(
    tile => [tile.dataset.tile, tile.querySelector('.tile-value').textContent]))"""


def warehouse(settings, sql: str, params=()) -> list[tuple]:
    with database.connect("warehouse", settings=settings) as conn:
        return conn.execute(sql, params).fetchall()


def utc_midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def number(text: str) -> float:
    """A tile's text back to its number: '1,234.5 t' -> 1234.5."""
    match = re.search(r"-?[\d,]+(\.\d+)?", text)
    assert match, f"no number in {text!r}"
    return float(match.group(0).replace(",", ""))


class OpenDashboard:
    """A dashboard page loaded until its script says ready, with what the browser complained about."""

    def __init__(self, context, path: str):
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("requestfailed", lambda request: self.errors.append(f"failed: {request.url}"))
        self.page.goto(path)
        self.page.wait_for_selector(f"{READY}, #dashboard[data-state=error]", timeout=30_000)

    def data(self, query: str = "") -> dict:
        """The page's own data endpoint, fetched from the page with its session (the same code path)."""
        endpoint = self.page.get_attribute("#dashboard", "data-endpoint")
        return self.page.evaluate("async (url) => (await fetch(url)).json()", f"{endpoint}{query}")

    def charts(self) -> dict[str, list[int] | None]:
        return self.page.evaluate(CHART_POINTS)

    def tiles(self) -> dict[str, str]:
        return self.page.evaluate(TILE_TEXTS)

    def check_rendered(self, must_draw: set[str]) -> dict:
        """No console error; each chart drawn with points exactly when its data has points; the
        charts the built platform must fill are drawn. Returns the endpoint's data."""
        assert self.page.get_attribute("#dashboard", "data-state") == "ready", self.page.inner_text("#status")
        assert self.errors == []
        data = self.data(self.page.evaluate("location.search"))
        drawn = self.charts()
        assert set(drawn) == {chart["id"] for chart in data["charts"]}
        for chart in data["charts"]:
            if chart["data"]:
                assert drawn[chart["id"]] and all(points > 0 for points in drawn[chart["id"]]), chart["id"]
            else:
                assert drawn[chart["id"]] is None and chart["empty_message"]
        missing = {chart_id for chart_id in must_draw if not drawn.get(chart_id)}
        assert not missing, f"charts without points: {missing}"
        return data

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def open_dashboard(logged_in):
    opened: list[OpenDashboard] = []

    def open_(path: str, role: str = "admin") -> OpenDashboard:
        opened.append(OpenDashboard(logged_in(role), path))
        return opened[-1]

    yield open_
    for dashboard in opened:
        dashboard.close()


def test_executive_tiles_and_trend_equal_the_kpi_marts(open_dashboard, built_platform):
    dashboard = open_dashboard("/dashboards/executive?grain=day", role="executive")
    data = dashboard.check_rendered(
        {"volume_value", "commodity_volumes", "trades_members", "revenue", "users", "compliance_events"}
    )
    start, end = data["filters"]["start"], data["filters"]["end"]
    periods = warehouse(
        built_platform,
        """select period_start, volume_t, value_ghs, trade_count, active_members, mrr_ghs
           from marts.fct_executive_kpis
           where period_grain = 'day' and period_start >= %s and period_start < %s order by period_start""",
        (start, end),
    )
    trading = {
        row[0]
        for row in warehouse(
            built_platform, "select calendar_date from marts.dim_calendar_days where is_trading_day"
        )
    }
    today = clock.today()
    over = [period for period in periods if period[0] < today and period[0] in trading]
    latest, previous = over[-1], over[-2]  # the tiles: the last trading day that is over, and the one before
    tiles = dashboard.tiles()
    change = dashboard.page.inner_text("[data-tile=trade_count] .tile-change")
    assert number(change) == pytest.approx(round((latest[3] - previous[3]) / previous[3] * 100, 1))
    assert number(tiles["volume_t"]) == round(float(latest[1]), 1)
    assert number(tiles["value_ghs"]) == round(float(latest[2]))
    assert number(tiles["trade_count"]) == latest[3] > 0
    assert number(tiles["active_members"]) == latest[4]
    assert number(tiles["mrr_ghs"]) == round(float(latest[5]))
    volume_trace = dashboard.page.evaluate(
        "() => document.querySelector('[data-chart=volume_value] .js-plotly-plot').data[0]"
    )
    assert volume_trace["x"] == [str(period[0]) for period in periods]
    assert volume_trace["y"] == pytest.approx([float(period[1]) for period in periods])

    dashboard.page.select_option("select[name=grain]", "week")
    dashboard.page.wait_for_function("location.search.includes('grain=week')")
    dashboard.page.wait_for_selector(READY)
    weeks = warehouse(
        built_platform,
        "select count(*) from marts.fct_executive_kpis where period_grain = 'week' and period_start >= %s"
        " and period_start < %s",
        (start, end),
    )[0][0]
    assert (
        len(
            dashboard.charts()["volume_value"]
            and dashboard.page.evaluate(
                "() => document.querySelector('[data-chart=volume_value] .js-plotly-plot').data[0].x"
            )
        )
        == weeks
    )
    assert dashboard.errors == []


def test_trading_figures_equal_the_market_marts_and_follow_the_filters(open_dashboard, built_platform):
    today = clock.today()
    week = f"start={today - timedelta(days=6)}&end={today + timedelta(days=1)}"  # a week: hourly candles
    dashboard = open_dashboard(f"/dashboards/trading?{week}")
    data = dashboard.check_rendered(
        {"volume_by_commodity", "value_by_commodity", "vwap_by_symbol", "candles", "active_members"}
    )
    start, end = data["filters"]["start"], data["filters"]["end"]
    totals_sql = """
        select sum(s.volume_t), sum(s.value_ghs), sum(s.trade_count)
        from marts.fct_daily_market_summary s join marts.dim_instruments i using (instrument_id)
        where i.is_home_venue and s.trade_date >= %s and s.trade_date < %s and (%s::text is null or i.commodity_code = %s)
    """
    volume, value, trades = warehouse(built_platform, totals_sql, (start, end, None, None))[0]
    tiles = dashboard.tiles()
    assert number(tiles["volume_t"]) == round(float(volume), 1)
    assert number(tiles["value_ghs"]) == round(float(value))
    assert number(tiles["trade_count"]) == trades > 0

    # the candles are the hourly bars of the most traded symbol, as the mart has them
    symbol = data["tables"][0]["rows"][0][0]
    bars = warehouse(
        built_platform,
        "select open_ghs_per_t, high_ghs_per_t, low_ghs_per_t, close_ghs_per_t from marts.fct_ohlcv_1h"
        " where symbol = %s and bar_start_at >= %s and bar_start_at < %s order by bar_start_at",
        (symbol, utc_midnight(start), utc_midnight(end)),
    )
    candles = dashboard.page.evaluate(
        "() => document.querySelector('[data-chart=candles] .js-plotly-plot').data[0]"
    )
    assert candles["name"] == symbol and len(candles["open"]) == len(bars) > 0
    assert candles["close"] == pytest.approx([float(bar[3]) for bar in bars])
    assert candles["high"] == pytest.approx([float(bar[1]) for bar in bars])

    # a commodity filter: the URL, the tiles and the symbol choices follow it
    commodity = warehouse(
        built_platform,
        "select i.commodity_code from marts.fct_daily_market_summary s join marts.dim_instruments i"
        " using (instrument_id) where i.is_home_venue and s.trade_date >= %s group by 1 order by sum(s.value_ghs) limit 1",
        (start,),
    )[0][0]
    dashboard.page.select_option("select[name=commodity]", commodity)
    dashboard.page.wait_for_function(f"location.search.includes('commodity={commodity}')")
    dashboard.page.wait_for_selector(READY)
    volume, value, trades = warehouse(built_platform, totals_sql, (start, end, commodity, commodity))[0]
    assert number(dashboard.tiles()["trade_count"]) == trades > 0
    assert number(dashboard.tiles()["value_ghs"]) == round(float(value))
    symbols = dashboard.page.eval_on_selector_all("select[name=symbol] option", "os => os.map(o => o.value)")
    in_commodity = warehouse(
        built_platform,
        "select symbol from marts.dim_instruments where is_home_venue and commodity_code = %s",
        (commodity,),
    )
    assert set(symbols) - {""} == {row[0] for row in in_commodity}
    assert dashboard.errors == []


def test_compliance_figures_equal_the_compliance_marts(open_dashboard, built_platform):
    dashboard = open_dashboard("/dashboards/compliance", role="compliance")
    data = dashboard.check_rendered({"events_per_day", "kyc_status"})
    start, end = data["filters"]["start"], data["filters"]["end"]
    large, breaches, hits = warehouse(
        built_platform,
        """select (select count(*) from compliance.fct_large_trades l join marts.dim_instruments i
                   using (instrument_id) where l.trade_date >= %(s)s and l.trade_date < %(e)s),
                  (select count(*) from compliance.fct_position_limit_breaches
                   where breach_date >= %(s)s and breach_date < %(e)s),
                  (select count(*) from compliance.fct_sanctions_hits
                   where screened_date >= %(s)s and screened_date < %(e)s)""",
        {"s": start, "e": end},
    )[0]
    kyc = dict(
        warehouse(built_platform, "select kyc_status, count(*) from compliance.dim_kyc_subjects group by 1")
    )
    tiles = dashboard.tiles()
    assert number(tiles["large_trades"]) == large
    assert number(tiles["limit_breaches"]) == breaches
    assert number(tiles["sanctions_hits"]) == hits
    assert number(tiles["kyc_failed"]) == kyc.get("failed", 0)
    assert number(tiles["kyc_expired"]) == kyc.get("expired", 0)
    kyc_bars = dashboard.page.evaluate(
        "() => document.querySelector('[data-chart=kyc_status] .js-plotly-plot').data.map(t => t.y)"
    )
    assert sum(sum(trace) for trace in kyc_bars) == sum(kyc.values()) > 0
    alerts_exist = warehouse(built_platform, "select to_regclass('compliance.surveillance_alerts')")[0][0]
    if alerts_exist is None:
        assert dashboard.page.inner_text("#notices") == ALERTS_NOT_AVAILABLE
        assert tiles["alerts"] == "\u2013"  # the page's "no value"
    else:
        (alerts,) = warehouse(
            built_platform,
            "select count(*) from compliance.surveillance_alerts where alert_date >= %s and alert_date < %s",
            (start, end),
        )[0]
        assert number(tiles["alerts"]) == alerts


def test_compliance_shows_the_surveillance_alerts_once_the_model_has_written_them(
    open_dashboard, built_platform
):
    """With alerts in compliance.surveillance_alerts (made here when the model has not run; removed after)."""
    if warehouse(built_platform, "select to_regclass('compliance.surveillance_alerts')")[0][0] is not None:
        pytest.skip("the surveillance model's table exists: the test above compares it")
    day = (clock.now() - timedelta(days=2)).date()
    symbol = warehouse(
        built_platform, "select symbol from marts.dim_instruments where is_home_venue limit 1"
    )[0][0]
    with database.connect("warehouse", settings=built_platform) as conn:
        conn.execute(
            """create table compliance.surveillance_alerts (alert_id text primary key, alert_date date not null,
               pattern text not null, symbol text, member_ids text[] not null, trade_ids text[] not null,
               score double precision not null, detector text not null, model_version text not null,
               reasons jsonb not null, explanation text not null)"""
        )
        conn.cursor().executemany(
            "insert into compliance.surveillance_alerts values (%s, %s, %s, %s, %s, %s, %s, 'rules', '1', '{}', %s)",
            [
                ("a1", day, "wash_trade", symbol, ["M1"], ["T1", "T2"], 0.97, "same owner on both sides"),
                ("a2", day, "spoofing", symbol, ["M2"], ["T3"], 0.81, "large orders cancelled"),
                ("a3", day - timedelta(days=1), "wash_trade", symbol, ["M3"], ["T4"], 0.66, "same owner"),
            ],
        )
    try:
        dashboard = open_dashboard("/dashboards/compliance", role="admin")
        dashboard.check_rendered({"alerts_per_day"})
        assert number(dashboard.tiles()["alerts"]) == 3
        assert dashboard.page.inner_text("#notices") == ""
        rows = dashboard.page.eval_on_selector_all(
            "[data-table=alerts] tbody tr", "rows => rows.map(r => r.cells[0].textContent)"
        )
        assert rows == ["a1", "a2", "a3"]  # highest score first
    finally:
        with database.connect("warehouse", settings=built_platform) as conn:
            conn.execute("drop table compliance.surveillance_alerts")


def test_user_analytics_equal_the_platform_marts(open_dashboard, built_platform):
    dashboard = open_dashboard("/dashboards/users", role="executive")
    data = dashboard.check_rendered(
        {"active_users", "dau_split", "retention", "mrr_by_plan", "subscriptions"}
    )
    start, end = data["filters"]["start"], data["filters"]["end"]
    dau, wau, mau = warehouse(
        built_platform,
        "select daily_active_users, weekly_active_users, monthly_active_users from marts.fct_active_users_daily"
        " where activity_date >= %s and activity_date < %s order by activity_date desc limit 1",
        (start, end),
    )[0]
    tiles = dashboard.tiles()
    assert (number(tiles["dau"]), number(tiles["wau"]), number(tiles["mau"])) == (dau, wau, mau)
    assert mau > 0
    (requests,) = warehouse(
        built_platform,
        "select coalesce(sum(request_count), 0) from marts.fct_api_usage_daily where usage_date >= %s and usage_date < %s",
        (start, end),
    )[0]
    assert number(tiles["api_requests"]) == requests


def test_system_health_shows_the_dagster_runs_checks_and_api_traffic(
    open_dashboard, built_platform, live_server, real_time
):
    """Over the world's days (its checks) up to today (Dagster's runs, stamped with the real clock)."""
    import httpx

    for _ in range(3):  # some API traffic of this server in the request log
        httpx.get(f"{live_server.url}/health")
    live_server.server.config.app.state.meter.flush()
    dashboard = open_dashboard(f"/dashboards/health?start={WORLD_START}&end={real_time + timedelta(days=1)}")
    data = dashboard.check_rendered(
        {"runs_per_day", "run_durations", "checks_per_day", "freshness", "api_latency", "api_errors"}
    )
    start, end = data["filters"]["start"], data["filters"]["end"]
    # the runs as Dagster's own run storage API counts them (not the dashboard's SQL)
    from dagster import RunsFilter
    from dagster_postgres import PostgresRunStorage

    storage = PostgresRunStorage(
        database.database_url("dagster", driver="psycopg2", settings=built_platform),
        should_autocreate_tables=False,
    )
    runs = storage.get_runs(RunsFilter(created_after=utc_midnight(start), created_before=utc_midnight(end)))
    tiles = dashboard.tiles()
    assert number(tiles["runs"]) == len(runs) > 0
    assert number(tiles["failed_runs"]) == sum(1 for run in runs if run.status.value == "FAILURE")
    (failed_checks,) = warehouse(
        built_platform,
        "select count(*) from quality.check_results where not passed and partition_date >= %s and partition_date < %s",
        (start, end),
    )[0]
    assert number(tiles["failed_checks"]) == failed_checks
    (requests,) = warehouse(
        built_platform,
        "select count(*) from api.request_log where requested_at >= %s and requested_at < %s",
        (utc_midnight(start), utc_midnight(end)),
    )[0]
    assert number(tiles["api_requests"]) <= requests and number(tiles["api_requests"]) >= 3
