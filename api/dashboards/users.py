"""User analytics: DAU/WAU/MAU, retention cohorts, subscriptions and MRR, API usage by the
platform's users (marts.fct_active_users_daily, fct_retention_cohorts, fct_mrr_monthly,
fct_api_usage_daily). Monthly figures are shown for the months that start inside the range."""

from __future__ import annotations

import psycopg

from api.dashboards import figures
from api.dashboards.figures import bars, column, layout, lines, rows
from api.dashboards.filters import DayRange
from api.dashboards.models import AppliedFilters, Dashboard, Table, Tile

RETENTION_COHORTS = 12
"""The heat map shows the latest cohorts that signed up before the range's end."""


def build(conn: psycopg.Connection, days: DayRange) -> Dashboard:
    scope = {"start": days.start, "end": days.end}
    active = rows(
        conn,
        """
        select * from marts.fct_active_users_daily
        where activity_date >= %(start)s and activity_date < %(end)s
        order by activity_date
        """,
        scope,
    )
    mrr = rows(
        conn,
        """
        select month_start, plan, active_subscriptions, mrr_ghs, new_subscriptions, cancelled_subscriptions
        from marts.fct_mrr_monthly
        where month_start >= date_trunc('month', %(start)s::date) and month_start < %(end)s
        order by plan, month_start
        """,
        scope,
    )
    cohorts = rows(
        conn,
        """
        select cohort_month, months_since_signup, cohort_users, active_users, retention_rate
        from marts.fct_retention_cohorts
        where cohort_month in (
            select distinct cohort_month from marts.fct_retention_cohorts
            where cohort_month < %(end)s order by cohort_month desc limit %(cohorts)s
        ) and activity_month < %(end)s
        order by cohort_month, months_since_signup
        """,
        {**scope, "cohorts": RETENTION_COHORTS},
    )
    api_usage = rows(
        conn,
        """
        select usage_date, endpoint, request_count, user_count, error_count, mean_latency_ms, p95_latency_ms
        from marts.fct_api_usage_daily
        where usage_date >= %(start)s and usage_date < %(end)s
        order by endpoint, usage_date
        """,
        scope,
    )
    last_day = active[-1] if active else None
    latest_month = max(column(mrr, "month_start"), default=None)
    latest_mrr = [record for record in mrr if record["month_start"] == latest_month]
    requests = sum(column(api_usage, "request_count"))
    errors = sum(column(api_usage, "error_count"))
    on_last_day = f"on {last_day['activity_date']}" if last_day else ""
    tiles = [
        Tile(
            id="dau",
            label="Daily active users",
            value=last_day and last_day["daily_active_users"],
            note=on_last_day,
        ),
        Tile(
            id="wau",
            label="Weekly active users",
            value=last_day and last_day["weekly_active_users"],
            note=on_last_day,
        ),
        Tile(
            id="mau",
            label="Monthly active users",
            value=last_day and last_day["monthly_active_users"],
            note=on_last_day,
        ),
        Tile(
            id="mrr_ghs",
            label="MRR",
            value=sum(column(latest_mrr, "mrr_ghs")) if latest_mrr else None,
            unit="GHS",
            note=f"month of {latest_month}" if latest_month else "",
        ),
        Tile(
            id="active_subscriptions",
            label="Paying subscriptions",
            value=sum(r["active_subscriptions"] for r in latest_mrr if r["plan"] != "free")
            if latest_mrr
            else None,
            note=f"month of {latest_month}" if latest_month else "",
        ),
        Tile(id="api_requests", label="API requests", value=requests),
        Tile(
            id="api_error_rate",
            label="API error rate",
            value=round(errors / requests * 100, 2) if requests else None,
            unit="%",
            decimals=2,
        ),
    ]
    x = column(active, "activity_date")
    retention_months = sorted(set(column(cohorts, "months_since_signup")))
    cohort_months = sorted(set(column(cohorts, "cohort_month")))
    rate = {(r["cohort_month"], r["months_since_signup"]): r["retention_rate"] for r in cohorts}
    charts = [
        figures.chart(
            "active_users",
            "Daily, weekly and monthly active users",
            lines(
                {
                    "DAU": (x, column(active, "daily_active_users")),
                    "WAU": (x, column(active, "weekly_active_users")),
                    "MAU": (x, column(active, "monthly_active_users")),
                }
            ),
            layout("day", "users", days=days),
        ),
        figures.chart(
            "dau_split",
            "Daily active users: app and API",
            bars(
                {"App": (x, column(active, "daily_app_users")), "API": (x, column(active, "daily_api_users"))}
            ),
            layout("day", "users", barmode="group", days=days),
        ),
        figures.chart(
            "retention",
            "Retention: share of each sign-up cohort active N months later (%)",
            [
                {
                    "type": "heatmap",
                    "x": [str(m) for m in retention_months],
                    "y": cohort_months,
                    "z": [
                        [
                            None if rate.get((cohort, m)) is None else round(rate[(cohort, m)] * 100, 1)
                            for m in retention_months
                        ]
                        for cohort in cohort_months
                    ],
                    "colorscale": "Blues",
                    "zmin": 0,
                    "zmax": 100,
                }
            ]
            if cohorts
            else [],
            layout("months since sign-up", "cohort (sign-up month)", yaxis={"type": "category"}),
        ),
        figures.chart(
            "mrr_by_plan",
            "MRR per month and plan",
            bars(figures.series_by(mrr, "plan", "month_start", "mrr_ghs")),
            layout("month", "GHS", barmode="stack"),
        ),
        figures.chart(
            "subscriptions",
            "Subscriptions per month: in force, new and cancelled (every plan)",
            bars(
                {
                    label: (
                        sorted(set(column(mrr, "month_start"))),
                        [
                            sum(r[name] for r in mrr if r["month_start"] == month)
                            for month in sorted(set(column(mrr, "month_start")))
                        ],
                    )
                    for name, label in (
                        ("active_subscriptions", "In force"),
                        ("new_subscriptions", "New"),
                        ("cancelled_subscriptions", "Cancelled"),
                    )
                }
            ),
            layout("month", "subscriptions", barmode="group"),
        ),
        figures.chart(
            "api_requests",
            "API requests per day and endpoint",
            bars(figures.series_by(api_usage, "endpoint", "usage_date", "request_count")),
            layout("day", "requests", barmode="stack", days=days),
        ),
    ]
    endpoints: dict[str, dict] = {}
    for record in api_usage:
        summary = endpoints.setdefault(
            record["endpoint"], {"requests": 0, "errors": 0, "p95": 0.0, "weighted": 0.0}
        )
        summary["requests"] += record["request_count"]
        summary["errors"] += record["error_count"]
        summary["weighted"] += record["mean_latency_ms"] * record["request_count"]
        summary["p95"] = max(summary["p95"], record["p95_latency_ms"] or 0)
    table = Table(
        id="api_endpoints",
        title="API usage per endpoint",
        columns=[
            "Endpoint",
            "Requests",
            "Errors",
            "Error rate (%)",
            "Mean latency (ms)",
            "Worst daily p95 (ms)",
        ],
        rows=[
            [
                endpoint,
                s["requests"],
                s["errors"],
                round(s["errors"] / s["requests"] * 100, 2) if s["requests"] else None,
                round(s["weighted"] / s["requests"], 1) if s["requests"] else None,
                round(s["p95"], 1),
            ]
            for endpoint, s in sorted(endpoints.items(), key=lambda item: -item[1]["requests"])
        ],
    )
    return Dashboard(
        name="users",
        title="User analytics",
        filters=AppliedFilters(start=days.start, end=days.end),
        tiles=tiles,
        charts=charts,
        tables=[table],
        rows_read=len(active) + len(mrr) + len(cohorts) + len(api_usage),
    )
