"""Executive dashboard: GCX KPIs per day, week, month or quarter with their trend
(marts.fct_executive_kpis, marts.fct_executive_commodity_volumes)."""

from __future__ import annotations

from datetime import date

import psycopg

from api.dashboards import figures
from api.dashboards.figures import bars, column, layout, lines, rows
from api.dashboards.filters import COMMODITIES, DayRange
from api.dashboards.models import AppliedFilters, Dashboard, Option, Table, Tile
from gcx import clock

GRAINS = ("day", "week", "month", "quarter")

TILES = (
    # (column, label, unit, decimals)
    ("volume_t", "Volume traded", "t", 1),
    ("value_ghs", "Value traded", "GHS", 0),
    ("trade_count", "Trades", "", 0),
    ("active_members", "Active members", "", 0),
    ("mrr_ghs", "MRR (end of period)", "GHS", 0),
    ("trading_fees_ghs", "Trading fees", "GHS", 0),
    ("active_users", "Active platform users", "", 0),
    ("new_users", "New users", "", 0),
    ("large_trade_count", "Large trades", "", 0),
    ("position_breach_count", "Position-limit breaches", "", 0),
    ("sanctions_hit_count", "Sanctions hits", "", 0),
    ("quarantined_rows", "Rows quarantined", "", 0),
)


def is_over(record: dict) -> bool:
    """Whether a period has ended by now. Not the mart's is_complete, which counts the as-of date
    (the day of the build) as a complete day even while it is still going on."""
    return record["period_end"] <= clock.today().isoformat()


def period_label(record: dict, grain: str) -> str:
    label = f"{grain.capitalize()} of {record['period_start']}" if grain != "day" else record["period_start"]
    return label if is_over(record) else f"{label} (to date)"


def latest_complete_period(
    periods: list[dict], trading_days: set[str] | None = None
) -> tuple[dict | None, dict | None]:
    """The tiles' period: the latest that is over (today or this week so far would compare a part
    with a whole), else the latest; and the period before it. Per day, only trading days count:
    on a Monday morning the tiles show Friday's session against Thursday's, not an empty Sunday."""
    if trading_days is not None:
        periods = [record for record in periods if record["period_start"] in trading_days]
    complete = [index for index, record in enumerate(periods) if is_over(record)]
    index = complete[-1] if complete else len(periods) - 1
    if index < 0:
        return None, None
    return periods[index], periods[index - 1] if index > 0 else None


def build(
    conn: psycopg.Connection, days: DayRange, grain: str, commodity: str | None, history_start: date
) -> Dashboard:
    periods = rows(
        conn,
        """
        select * from marts.fct_executive_kpis
        where period_grain = %(grain)s and period_start >= %(start)s and period_start < %(end)s
        order by period_start
        """,
        {"grain": grain, "start": days.start, "end": days.end},
    )
    by_commodity = rows(
        conn,
        """
        select period_start, commodity_code, volume_t, value_ghs
        from marts.fct_executive_commodity_volumes
        where period_grain = %(grain)s and period_start >= %(start)s and period_start < %(end)s
          and (%(commodity)s::text is null or commodity_code = %(commodity)s)
        order by commodity_code, period_start
        """,
        {"grain": grain, "start": days.start, "end": days.end, "commodity": commodity},
    )
    # Day, week, month and quarter to date as of the range's last day (periods the tier sees whole).
    to_date = rows(
        conn,
        """
        select distinct on (period_grain) *
        from marts.fct_executive_kpis
        where period_start < %(end)s and period_start >= %(history_start)s
        order by period_grain, period_start desc
        """,
        {"end": days.end, "history_start": history_start},
    )
    for record in by_commodity:  # white and yellow maize are both "maize" in the mart's commodity_name
        record["commodity"] = COMMODITIES.get(record["commodity_code"], record["commodity_code"])
    trading_days = (
        {
            record["calendar_date"]
            for record in rows(
                conn,
                "select calendar_date from marts.dim_calendar_days where is_trading_day"
                " and calendar_date >= %(start)s and calendar_date < %(end)s",
                {"start": days.start, "end": days.end},
            )
        }
        if grain == "day"
        else None
    )
    latest, previous = latest_complete_period(periods, trading_days)
    before = "trading day" if grain == "day" else grain
    note = f"{period_label(latest, grain)}; change against the {before} before" if latest else ""
    tiles = [
        Tile(
            id=name,
            label=label,
            value=latest[name] if latest else None,
            unit=unit,
            decimals=decimals,
            change_pct=figures.change_pct(latest[name], previous[name]) if latest and previous else None,
            note=note,
        )
        for name, label, unit, decimals in TILES
    ]
    x = column(periods, "period_start")
    axis = f"{grain} starting"
    charts = [
        figures.chart(
            "volume_value",
            f"Volume and value per {grain}",
            [
                {"type": "bar", "name": "Volume (t)", "x": x, "y": column(periods, "volume_t")},
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": "Value (GHS)",
                    "x": x,
                    "y": column(periods, "value_ghs"),
                    "yaxis": "y2",
                },
            ],
            layout(
                axis,
                "tonnes",
                days=days,
                yaxis2={"title": {"text": "GHS"}, "overlaying": "y", "side": "right", "rangemode": "tozero"},
            ),
        ),
        figures.chart(
            "commodity_volumes",
            f"Volume per commodity per {grain}",
            bars(figures.series_by(by_commodity, "commodity", "period_start", "volume_t")),
            layout(axis, "tonnes", barmode="stack", days=days),
        ),
        figures.chart(
            "trades_members",
            f"Trades and active members per {grain}",
            lines(
                {
                    "Trades": (x, column(periods, "trade_count")),
                    "Active members": (x, column(periods, "active_members")),
                }
            ),
            layout(axis, "count", days=days),
        ),
        figures.chart(
            "revenue",
            f"Revenue per {grain}: MRR at the end and trading fees earned",
            lines(
                {
                    "MRR (GHS)": (x, column(periods, "mrr_ghs")),
                    "Trading fees (GHS)": (x, column(periods, "trading_fees_ghs")),
                }
            ),
            layout(axis, "GHS", days=days),
        ),
        figures.chart(
            "users",
            f"Platform users per {grain}",
            bars(
                {
                    "Active users": (x, column(periods, "active_users")),
                    "New users": (x, column(periods, "new_users")),
                }
            ),
            layout(axis, "users", barmode="group", days=days),
        ),
        figures.chart(
            "compliance_events",
            f"Compliance events per {grain}",
            bars(
                {
                    label: (x, column(periods, name))
                    for name, label in (
                        ("large_trade_count", "Large trades"),
                        ("position_breach_count", "Limit breaches"),
                        ("sanctions_hit_count", "Sanctions hits"),
                        ("settlement_fail_count", "Settlement fails"),
                        ("filings_late_count", "Late filings"),
                    )
                }
            ),
            layout(axis, "events", barmode="stack", days=days),
        ),
    ]
    to_date.sort(key=lambda record: GRAINS.index(record["period_grain"]))
    table = Table(
        id="to_date",
        title=f"Day, week, month and quarter to {days.end}",
        columns=["Period", "Volume (t)", "Value (GHS)", "Trades", "Active members", "MRR (GHS)", "Over"],
        rows=[
            [
                period_label(record, record["period_grain"]),
                record["volume_t"],
                record["value_ghs"],
                record["trade_count"],
                record["active_members"],
                record["mrr_ghs"],
                "yes" if is_over(record) else "no",
            ]
            for record in to_date
        ],
    )
    return Dashboard(
        name="executive",
        title="Executive",
        filters=AppliedFilters(
            start=days.start,
            end=days.end,
            commodity=commodity,
            grain=grain,
            commodities=[Option(value=code, label=name) for code, name in COMMODITIES.items()],
            grains=[Option(value=g, label=g.capitalize()) for g in GRAINS],
        ),
        tiles=tiles,
        charts=charts,
        tables=[table],
        rows_read=len(periods) + len(by_commodity) + len(to_date),
    )
