-- One row per settlement obligation (latest version).
--   due_at      the deadline: due_on at settlement_deadline_hour_utc (16:00 UTC)
--   is_late     settled after the deadline, or marked late by the exchange
--   is_failed   marked failed by the exchange
--   is_overdue  not settled, not failed, and due before the as-of date (today by default)
--   delay_days  calendar days from the due date to the settlement date: 0 when settled on or
--               before the due date, null while unsettled
with

settlements as (

    select * from {{ ref('stg_exchange__settlements') }}

),

trades as (

    select trade_id, instrument_id, symbol, commodity_code, trade_date from {{ ref('fct_trades') }}

),

dated as (

    select
        settlements.*,
        {{ utc_date('settlements.settled_at') }} as settled_on,
        {{ dbt.dateadd('hour', var('settlement_deadline_hour_utc'), utc_midnight('settlements.due_on')) }} as due_at

    from settlements

),

final as (

    select
        dated.settlement_id,
        dated.trade_id,
        trades.instrument_id,
        trades.symbol,
        trades.commodity_code,
        trades.trade_date,
        dated.member_id,
        dated.obligation,
        dated.amount_ghs,
        dated.quantity_t,
        dated.due_on,
        dated.due_at,
        dated.settled_at,
        dated.settled_on,
        dated.settlement_status,
        dated.settlement_status = 'late' or coalesce(dated.settled_at > dated.due_at, false) as is_late,
        dated.settlement_status = 'failed' as is_failed,
        (
            dated.settled_at is null
            and dated.settlement_status <> 'failed'
            and dated.due_on < {{ as_of_date() }}
        ) as is_overdue,
        case
            when dated.settled_on > dated.due_on
                then {{ days_between('dated.due_on', 'dated.settled_on') }}
            when dated.settled_on is not null
                then 0
        end as delay_days,
        dated.updated_at

    from dated
    left join trades
        on dated.trade_id = trades.trade_id

)

select * from final
