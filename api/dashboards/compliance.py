"""Compliance dashboard (compliance and admin roles): surveillance alerts, position-limit breaches,
KYC status, sanctions hits and large trades (schema `compliance`: the compliance marts, and
compliance.surveillance_alerts written by the surveillance model)."""

from __future__ import annotations

import psycopg

from api.dashboards import figures
from api.dashboards.figures import bars, column, layout, rows
from api.dashboards.filters import COMMODITIES, DayRange
from api.dashboards.models import AppliedFilters, Dashboard, Option, Table, Tile

ALERTS_NOT_AVAILABLE = (
    "Surveillance alerts are not available yet: the surveillance model has not run "
    "(compliance.surveillance_alerts does not exist)."
)
TABLE_ROWS = 50
"""Each table lists at most this many rows (the most important first); the tiles count them all."""


def surveillance_alerts(conn: psycopg.Connection, scope: dict) -> list[dict] | None:
    """The alerts in scope, most suspicious first; None when the model has not created its table."""
    if conn.execute("select to_regclass('compliance.surveillance_alerts')").fetchone()[0] is None:
        return None
    return rows(
        conn,
        """
        select alerts.alert_id, alerts.alert_date, alerts.pattern, alerts.symbol,
               array_to_string(alerts.member_ids, ', ') as members, cardinality(alerts.trade_ids) as trades,
               alerts.score, alerts.detector, alerts.model_version, alerts.explanation
        from compliance.surveillance_alerts as alerts
        left join marts.dim_instruments as instruments on instruments.symbol = alerts.symbol
        where alerts.alert_date >= %(start)s and alerts.alert_date < %(end)s
          and (%(commodity)s::text is null or instruments.commodity_code = %(commodity)s)
          and (%(symbols)s::text[] is null or alerts.symbol = any(%(symbols)s))
        order by alerts.score desc, alerts.alert_date desc, alerts.alert_id
        """,
        scope,
    )


def excess_by_side_and_commodity(breaches: list[dict]) -> list[dict]:
    totals: dict[tuple[str, str], float] = {}
    for breach in breaches:
        key = (breach["position_side"], breach["commodity_code"])
        totals[key] = totals.get(key, 0.0) + breach["excess_t"]
    return [
        {"side": side, "commodity": COMMODITIES.get(code, code), "excess_t": total}
        for (side, code), total in sorted(totals.items())
    ]


def build(conn: psycopg.Connection, days: DayRange, commodity: str | None, symbols: list[str]) -> Dashboard:
    scope = {"start": days.start, "end": days.end, "commodity": commodity, "symbols": symbols or None}
    daily = rows(
        conn,
        """
        select * from compliance.fct_compliance_daily
        where compliance_date >= %(start)s and compliance_date < %(end)s
        order by compliance_date
        """,
        scope,
    )
    alerts = surveillance_alerts(conn, scope)
    breaches = rows(
        conn,
        """
        select breaches.breach_date, coalesce(members.member_name, breaches.member_id::text) as member,
               breaches.commodity_code, breaches.position_side, breaches.net_position_t,
               breaches.max_net_position_t, breaches.excess_t
        from compliance.fct_position_limit_breaches as breaches
        left join marts.dim_members as members on members.member_id = breaches.member_id and members.is_current
        where breaches.breach_date >= %(start)s and breaches.breach_date < %(end)s
          and (%(commodity)s::text is null or breaches.commodity_code = %(commodity)s)
        order by breaches.excess_t desc, breaches.breach_date desc, member
        """,
        scope,
    )
    large_trades = rows(
        conn,
        """
        select large.trade_date, large.trade_id, large.symbol, large.quantity_t, large.value_ghs,
               large.buyer_member_id, large.seller_member_id
        from compliance.fct_large_trades as large
        join marts.dim_instruments as instruments using (instrument_id)
        where large.trade_date >= %(start)s and large.trade_date < %(end)s
          and (%(commodity)s::text is null or instruments.commodity_code = %(commodity)s)
          and (%(symbols)s::text[] is null or large.symbol = any(%(symbols)s))
        order by large.value_ghs desc, large.trade_id
        """,
        scope,
    )
    sanctions = rows(
        conn,
        """
        select screened_date, subject_type, subject_id, list_name, screening_result, match_score
        from compliance.fct_sanctions_hits
        where screened_date >= %(start)s and screened_date < %(end)s
        order by is_confirmed desc, match_score desc nulls last, screened_date desc, screening_id
        """,
        scope,
    )
    kyc = rows(
        conn,
        """
        select subject_type, kyc_status, count(*) as subjects, max(as_of_date) as as_of_date
        from compliance.dim_kyc_subjects
        group by subject_type, kyc_status
        order by subject_type, kyc_status
        """,
    )
    kyc_attention = rows(
        conn,
        """
        select subject_type, subject_id, coalesce(member_name, '') as member_name, kyc_status,
               is_expiring, expires_on
        from compliance.dim_kyc_subjects
        where kyc_status in ('failed', 'expired') or is_expiring
        order by case kyc_status when 'failed' then 0 when 'expired' then 1 else 2 end, expires_on, subject_id
        """,
    )

    def total(name: str) -> float:
        return sum(column(daily, name))

    kyc_as_of = max(column(kyc, "as_of_date"), default=None)
    kyc_counts = {status: 0 for status in ("passed", "pending", "expired", "failed")}
    for record in kyc:
        kyc_counts[record["kyc_status"]] += record["subjects"]
    tiles = [
        Tile(
            id="alerts",
            label="Surveillance alerts",
            value=None if alerts is None else len(alerts),
            note="not available yet" if alerts is None else "",
        ),
        Tile(id="large_trades", label="Large trades", value=len(large_trades)),
        Tile(id="limit_breaches", label="Position-limit breaches", value=len(breaches)),
        Tile(id="sanctions_hits", label="Sanctions hits", value=len(sanctions)),
        Tile(id="settlement_fails", label="Settlement fails", value=total("settlement_fail_count")),
        Tile(id="kyc_failed", label="KYC failed", value=kyc_counts["failed"], note=f"as of {kyc_as_of}"),
        Tile(id="kyc_expired", label="KYC expired", value=kyc_counts["expired"], note=f"as of {kyc_as_of}"),
        Tile(
            id="kyc_expiring",
            label="KYC expiring within 30 days",
            value=sum(1 for record in kyc_attention if record["is_expiring"]),
            note=f"as of {kyc_as_of}",
        ),
    ]
    x = column(daily, "compliance_date")
    charts = [
        figures.chart(
            "events_per_day",
            "Compliance events per day (every commodity)",
            bars(
                {
                    label: (x, column(daily, name))
                    for name, label in (
                        ("large_trade_count", "Large trades"),
                        ("position_breach_count", "Limit breaches"),
                        ("sanctions_potential_match_count", "Sanctions: potential"),
                        ("sanctions_confirmed_match_count", "Sanctions: confirmed"),
                        ("settlement_fail_count", "Settlement fails"),
                        ("filings_late_count", "Late filings"),
                    )
                }
            ),
            layout("day", "events", barmode="stack", days=days),
        ),
        figures.chart(
            "kyc_status",
            f"KYC status of members and beneficial owners (as of {kyc_as_of})",
            bars(figures.series_by(kyc, "subject_type", "kyc_status", "subjects")),
            layout("KYC status", "subjects", barmode="group"),
        ),
        figures.chart(
            "breaches_by_commodity",
            "Position-limit breaches: tonnes over the limit per commodity",
            bars(figures.series_by(excess_by_side_and_commodity(breaches), "side", "commodity", "excess_t")),
            layout("commodity", "tonnes over the limit", barmode="stack"),
        ),
    ]
    if alerts is not None:
        alerts_per_day: dict[tuple[str, str], int] = {}
        for alert in alerts:
            key = (alert["pattern"], alert["alert_date"])
            alerts_per_day[key] = alerts_per_day.get(key, 0) + 1
        charts.insert(
            0,
            figures.chart(
                "alerts_per_day",
                "Surveillance alerts per day and pattern",
                bars(
                    figures.series_by(
                        [
                            {"pattern": p, "day": d, "alerts": n}
                            for (p, d), n in sorted(alerts_per_day.items())
                        ],
                        "pattern",
                        "day",
                        "alerts",
                    )
                ),
                layout("day", "alerts", barmode="stack", days=days),
                empty="No surveillance alert in this range.",
            ),
        )
    tables = [
        Table(
            id="breaches",
            title="Position-limit breaches (largest excess first)",
            columns=["Day", "Member", "Commodity", "Side", "Net position (t)", "Limit (t)", "Excess (t)"],
            rows=[list(record.values()) for record in breaches[:TABLE_ROWS]],
        ),
        Table(
            id="sanctions",
            title="Sanctions hits (confirmed first)",
            columns=["Day", "Subject type", "Subject", "List", "Result", "Match score"],
            rows=[list(record.values()) for record in sanctions[:TABLE_ROWS]],
        ),
        Table(
            id="kyc_attention",
            title=f"KYC needing attention: failed, expired, expiring (as of {kyc_as_of})",
            columns=["Subject type", "Subject", "Member", "Status", "Expiring", "Expires on"],
            rows=[list(record.values()) for record in kyc_attention[:TABLE_ROWS]],
        ),
        Table(
            id="large_trades",
            title="Large trades (largest value first)",
            columns=["Day", "Trade", "Symbol", "Quantity (t)", "Value (GHS)", "Buyer", "Seller"],
            rows=[list(record.values()) for record in large_trades[:TABLE_ROWS]],
        ),
    ]
    notices = []
    if alerts is None:
        notices.append(ALERTS_NOT_AVAILABLE)
    else:
        tables.insert(
            0,
            Table(
                id="alerts",
                title="Surveillance alerts (highest score first)",
                columns=[
                    "Alert",
                    "Day",
                    "Pattern",
                    "Symbol",
                    "Members",
                    "Trades",
                    "Score",
                    "Detector",
                    "Model version",
                    "Explanation",
                ],
                rows=[list(record.values()) for record in alerts[:TABLE_ROWS]],
                empty_message="No surveillance alert in this range.",
            ),
        )
    return Dashboard(
        name="compliance",
        title="Compliance",
        filters=AppliedFilters(
            start=days.start,
            end=days.end,
            commodity=commodity,
            symbols=symbols,
            commodities=[Option(value=code, label=name) for code, name in COMMODITIES.items()],
        ),
        tiles=tiles,
        charts=charts,
        tables=tables,
        notices=notices,
        rows_read=len(daily)
        + len(alerts or [])
        + len(breaches)
        + len(large_trades)
        + len(sanctions)
        + len(kyc)
        + len(kyc_attention),
    )
