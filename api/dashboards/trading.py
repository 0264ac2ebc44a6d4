"""Trading dashboard: GCX volume, value and prices per commodity and symbol, OHLC candles of one
symbol, the most active members (marts.fct_daily_market_summary, fct_ohlcv_1h/1d, fct_trades,
dim_instruments, dim_members). Home venue only: the exchange's own market."""

from __future__ import annotations

import psycopg

from api.dashboards import figures
from api.dashboards.figures import bars, column, layout, lines, rows
from api.dashboards.filters import COMMODITIES, DayRange
from api.dashboards.models import AppliedFilters, Dashboard, Option, Table, Tile

HOURLY_CANDLES_UP_TO_DAYS = 7
"""Ranges up to a week get hourly candles; longer ones daily candles."""
TOP_SYMBOLS = 10
TOP_MEMBERS = 10


def home_symbols(conn: psycopg.Connection) -> list[dict]:
    return rows(
        conn,
        "select symbol, commodity_code, commodity_name from marts.dim_instruments"
        " where is_home_venue order by commodity_code, symbol",
    )


def build(conn: psycopg.Connection, days: DayRange, commodity: str | None, symbols: list[str]) -> Dashboard:
    scope = {
        "start": days.start,
        "end": days.end,
        "commodity": commodity,
        "symbols": symbols or None,
    }
    in_scope = """
        instruments.is_home_venue
        and (%(commodity)s::text is null or instruments.commodity_code = %(commodity)s)
        and (%(symbols)s::text[] is null or instruments.symbol = any(%(symbols)s))
    """
    summary = rows(
        conn,
        f"""
        select summary.trade_date, summary.symbol, instruments.commodity_code,
               summary.close_ghs_per_t, summary.vwap_ghs_per_t, summary.volume_t, summary.value_ghs,
               summary.trade_count
        from marts.fct_daily_market_summary as summary
        join marts.dim_instruments as instruments using (instrument_id)
        where summary.trade_date >= %(start)s and summary.trade_date < %(end)s and {in_scope}
        order by summary.trade_date, summary.symbol
        """,
        scope,
    )
    per_commodity = rows(
        conn,
        f"""
        select summary.trade_date, instruments.commodity_code,
               sum(summary.volume_t) as volume_t, sum(summary.value_ghs) as value_ghs
        from marts.fct_daily_market_summary as summary
        join marts.dim_instruments as instruments using (instrument_id)
        where summary.trade_date >= %(start)s and summary.trade_date < %(end)s and {in_scope}
        group by summary.trade_date, instruments.commodity_code
        order by instruments.commodity_code, summary.trade_date
        """,
        scope,
    )
    per_symbol = rows(
        conn,
        f"""
        select summary.symbol, max(instruments.commodity_code) as commodity_code,
               sum(summary.volume_t) as volume_t, sum(summary.value_ghs) as value_ghs,
               sum(summary.trade_count) as trade_count,
               sum(summary.value_ghs) / nullif(sum(summary.volume_t), 0) as vwap_ghs_per_t,
               (array_agg(summary.close_ghs_per_t order by summary.trade_date desc))[1] as last_close_ghs_per_t
        from marts.fct_daily_market_summary as summary
        join marts.dim_instruments as instruments using (instrument_id)
        where summary.trade_date >= %(start)s and summary.trade_date < %(end)s and {in_scope}
        group by summary.symbol
        order by value_ghs desc, summary.symbol
        """,
        scope,
    )
    members = rows(
        conn,
        f"""
        with sides as (
            select trades.buyer_member_id as member_id, trades.value_ghs, trades.quantity_t
            from marts.fct_trades as trades
            join marts.dim_instruments as instruments using (instrument_id)
            where trades.trade_date >= %(start)s and trades.trade_date < %(end)s and {in_scope}
            union all
            select trades.seller_member_id, trades.value_ghs, trades.quantity_t
            from marts.fct_trades as trades
            join marts.dim_instruments as instruments using (instrument_id)
            where trades.trade_date >= %(start)s and trades.trade_date < %(end)s and {in_scope}
        )
        select sides.member_id, coalesce(members.member_name, sides.member_id::text) as member_name,
               sum(sides.value_ghs) as value_ghs, sum(sides.quantity_t) as volume_t, count(*) as trade_sides
        from sides
        left join marts.dim_members as members on members.member_id = sides.member_id and members.is_current
        group by sides.member_id, members.member_name
        order by value_ghs desc, sides.member_id
        limit {TOP_MEMBERS}
        """,
        scope,
    )
    candle_symbol = symbols[0] if symbols else (per_symbol[0]["symbol"] if per_symbol else None)
    hourly = days.days <= HOURLY_CANDLES_UP_TO_DAYS
    candles = rows(
        conn,
        f"""
        select bar_start_at, open_ghs_per_t, high_ghs_per_t, low_ghs_per_t, close_ghs_per_t, volume_t
        from marts.{"fct_ohlcv_1h" if hourly else "fct_ohlcv_1d"}
        where symbol = %(symbol)s and bar_start_at >= %(start_at)s and bar_start_at < %(end_at)s
        order by bar_start_at
        """,
        {"symbol": candle_symbol, "start_at": days.start_at(), "end_at": days.end_at()},
    )
    total_volume = sum(column(summary, "volume_t"))
    total_value = sum(column(summary, "value_ghs"))
    tiles = [
        Tile(id="volume_t", label="Volume traded", value=total_volume, unit="t", decimals=1),
        Tile(id="value_ghs", label="Value traded", value=total_value, unit="GHS"),
        Tile(id="trade_count", label="Trades", value=sum(column(summary, "trade_count"))),
        Tile(id="symbols_traded", label="Symbols traded", value=len(per_symbol)),
        Tile(
            id="vwap_ghs_per_t",
            label="Average price (VWAP)",
            value=round(total_value / total_volume, 2) if total_volume else None,
            unit="GHS/t",
            decimals=2,
        ),
    ]
    top_symbols = {record["symbol"] for record in per_symbol[:TOP_SYMBOLS]}
    for record in per_commodity:  # white and yellow maize are both "maize" in dim_instruments
        record["commodity"] = COMMODITIES.get(record["commodity_code"], record["commodity_code"])
    bar_size = "hourly" if hourly else "daily"
    charts = [
        figures.chart(
            "volume_by_commodity",
            "Volume per day and commodity",
            bars(figures.series_by(per_commodity, "commodity", "trade_date", "volume_t")),
            layout("trade date", "tonnes", barmode="stack", days=days),
        ),
        figures.chart(
            "value_by_commodity",
            "Value per day and commodity",
            bars(figures.series_by(per_commodity, "commodity", "trade_date", "value_ghs")),
            layout("trade date", "GHS", barmode="stack", days=days),
        ),
        figures.chart(
            "vwap_by_symbol",
            f"Daily VWAP per symbol (the {TOP_SYMBOLS} most traded)",
            lines(
                figures.series_by(
                    [record for record in summary if record["symbol"] in top_symbols],
                    "symbol",
                    "trade_date",
                    "vwap_ghs_per_t",
                )
            ),
            layout("trade date", "GHS per tonne", yaxis={"title": {"text": "GHS per tonne"}}, days=days),
        ),
        figures.chart(
            "candles",
            f"{candle_symbol or 'No symbol traded'}: {bar_size} OHLC candles",
            [
                {
                    "type": "candlestick",
                    "name": candle_symbol,
                    "x": column(candles, "bar_start_at"),
                    "open": column(candles, "open_ghs_per_t"),
                    "high": column(candles, "high_ghs_per_t"),
                    "low": column(candles, "low_ghs_per_t"),
                    "close": column(candles, "close_ghs_per_t"),
                }
            ],
            layout(
                "bar start (UTC)",
                "GHS per tonne",
                yaxis={"title": {"text": "GHS per tonne"}},
                xaxis={"title": {"text": "bar start (UTC)"}, "rangeslider": {"visible": False}},
            ),
        ),
        figures.chart(
            "active_members",
            f"Most active members by traded value (top {TOP_MEMBERS}, buy and sell sides)",
            [
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": "Value (GHS)",
                    "x": column(members, "value_ghs")[::-1],
                    "y": column(members, "member_name")[::-1],
                }
            ],
            layout("GHS", "", margin={"l": 220, "r": 20, "t": 30, "b": 50}, yaxis={"automargin": True}),
        ),
    ]
    table = Table(
        id="symbols",
        title="Per symbol",
        columns=[
            "Symbol",
            "Commodity",
            "Volume (t)",
            "Value (GHS)",
            "Trades",
            "VWAP (GHS/t)",
            "Last close (GHS/t)",
        ],
        rows=[
            [
                r["symbol"],
                COMMODITIES.get(r["commodity_code"], r["commodity_code"]),
                r["volume_t"],
                r["value_ghs"],
                r["trade_count"],
                r["vwap_ghs_per_t"],
                r["last_close_ghs_per_t"],
            ]
            for r in per_symbol
        ],
    )
    symbol_options = home_symbols(conn)
    return Dashboard(
        name="trading",
        title="Trading",
        filters=AppliedFilters(
            start=days.start,
            end=days.end,
            commodity=commodity,
            symbols=symbols,
            commodities=[Option(value=code, label=name) for code, name in COMMODITIES.items()],
            symbol_options=[
                Option(
                    value=s["symbol"],
                    label=f"{s['symbol']} ({COMMODITIES.get(s['commodity_code'], s['commodity_name'])})",
                )
                for s in symbol_options
                if commodity is None or s["commodity_code"] == commodity
            ],
        ),
        tiles=tiles,
        charts=charts,
        tables=[table],
        rows_read=len(summary) + len(per_commodity) + len(members) + len(candles),
    )
