-- One row per instrument and trading day with at least one trade: the day's OHLCV (from the 1d
-- bars) and its settlement price.
--
-- Settlement price rule (README "Bars and settlement"): the VWAP of the trades in the last
-- `settlement_window_minutes` (30) of the day's session, [session_close_at - 30 min,
-- session_close_at] (the close instant included: ingestion accepts a trade at the close as in
-- session); when that window has no trade, or the day has no session in the calendar, the day's
-- close. `settlement_price_method` says which rule gave the price.
{{ config(indexes=[{'columns': ['symbol', 'trade_date']}, {'columns': ['trade_date']}]) }}
with

daily_bars as (

    select * from {{ ref('fct_ohlcv_1d') }}

),

trades as (

    select * from {{ ref('fct_trades') }}

),

sessions as (

    select
        calendar_date,
        session_close_at,
        {{ dbt.dateadd('minute', -var('settlement_window_minutes'), 'session_close_at') }} as settlement_window_start_at

    from {{ ref('stg_exchange__calendar_days') }}
    where is_trading_day

),

closing_window as (

    select
        trades.instrument_id,
        trades.trade_date,
        sum(trades.value_ghs) as value_ghs,
        sum(trades.quantity_t) as volume_t,
        count(*) as trade_count

    from trades
    inner join sessions
        on trades.trade_date = sessions.calendar_date
    where trades.executed_at >= sessions.settlement_window_start_at
        and trades.executed_at <= sessions.session_close_at
    group by trades.instrument_id, trades.trade_date

),

summary as (

    select
        daily_bars.bar_date as trade_date,
        daily_bars.instrument_id,
        daily_bars.symbol,
        daily_bars.open_ghs_per_t,
        daily_bars.high_ghs_per_t,
        daily_bars.low_ghs_per_t,
        daily_bars.close_ghs_per_t,
        daily_bars.vwap_ghs_per_t,
        daily_bars.volume_t,
        daily_bars.value_ghs,
        daily_bars.trade_count,
        sessions.settlement_window_start_at,
        sessions.session_close_at as settlement_window_end_at,
        coalesce(closing_window.trade_count, 0) as settlement_window_trade_count,
        case
            when closing_window.volume_t > 0
                then cast(closing_window.value_ghs / closing_window.volume_t as {{ vwap_type() }})
            else cast(daily_bars.close_ghs_per_t as {{ vwap_type() }})
        end as settlement_price_ghs_per_t,
        case
            when closing_window.volume_t > 0 then 'closing_vwap'
            else 'close'
        end as settlement_price_method

    from daily_bars
    left join sessions
        on daily_bars.bar_date = sessions.calendar_date
    left join closing_window
        on daily_bars.instrument_id = closing_window.instrument_id
        and daily_bars.bar_date = closing_window.trade_date

),

final as (

    select
        summary.*,
        lag(settlement_price_ghs_per_t) over (
            partition by instrument_id order by trade_date
        ) as previous_settlement_price_ghs_per_t

    from summary

)

select
    trade_date,
    instrument_id,
    symbol,
    open_ghs_per_t,
    high_ghs_per_t,
    low_ghs_per_t,
    close_ghs_per_t,
    vwap_ghs_per_t,
    volume_t,
    value_ghs,
    trade_count,
    settlement_price_ghs_per_t,
    settlement_price_method,
    settlement_window_start_at,
    settlement_window_end_at,
    settlement_window_trade_count,
    cast(previous_settlement_price_ghs_per_t as {{ vwap_type() }}) as previous_settlement_price_ghs_per_t,
    cast(
        settlement_price_ghs_per_t - previous_settlement_price_ghs_per_t as {{ vwap_type() }}
    ) as settlement_change_ghs_per_t
from final
