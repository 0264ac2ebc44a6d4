-- Each member's net position per commodity at the end of every evaluation day, from its trades
-- on the home venue (GCX): bought quantity minus sold quantity, cumulated from its first trade in
-- that commodity. A trade between two accounts of the same member nets to zero for it.
--
-- Evaluation days = the calendar's trading days and any day with a trade, from the member's first
-- trade in the commodity to the as-of date (today by default): a position carries over the days
-- it does not change, so a limit lowered on a quiet day is still checked against it.
with

trades as (

    select * from {{ ref('fct_trades') }}
    where venue = '{{ var("home_venue") }}'
        and commodity_code is not null

),

trade_sides as (

    select trade_date, buyer_member_id as member_id, commodity_code, quantity_t as signed_quantity_t
    from trades
    where buyer_member_id is not null

    union all

    select trade_date, seller_member_id as member_id, commodity_code, -quantity_t as signed_quantity_t
    from trades
    where seller_member_id is not null

),

daily_changes as (

    select
        member_id,
        commodity_code,
        trade_date,
        sum(case when signed_quantity_t > 0 then signed_quantity_t else 0 end) as bought_t,
        sum(case when signed_quantity_t < 0 then -signed_quantity_t else 0 end) as sold_t,
        sum(signed_quantity_t) as net_change_t

    from trade_sides
    group by member_id, commodity_code, trade_date

),

member_commodities as (

    select member_id, commodity_code, min(trade_date) as first_trade_date
    from daily_changes
    group by member_id, commodity_code

),

evaluation_days as (

    select calendar_date as evaluation_date
    from {{ ref('stg_exchange__calendar_days') }}
    where is_trading_day

    union

    select distinct trade_date as evaluation_date
    from trades

),

member_days as (

    select
        member_commodities.member_id,
        member_commodities.commodity_code,
        evaluation_days.evaluation_date as position_date

    from member_commodities
    inner join evaluation_days
        on evaluation_days.evaluation_date >= member_commodities.first_trade_date
        and evaluation_days.evaluation_date <= {{ as_of_date() }}

),

accumulated as (

    select
        member_days.member_id,
        member_days.commodity_code,
        member_days.position_date,
        cast(coalesce(daily_changes.bought_t, 0) as {{ quantity_total_type() }}) as bought_t,
        cast(coalesce(daily_changes.sold_t, 0) as {{ quantity_total_type() }}) as sold_t,
        cast(coalesce(daily_changes.net_change_t, 0) as {{ quantity_total_type() }}) as net_change_t,
        cast(
            sum(coalesce(daily_changes.net_change_t, 0)) over (
                partition by member_days.member_id, member_days.commodity_code
                order by member_days.position_date
                rows between unbounded preceding and current row
            ) as {{ quantity_total_type() }}
        ) as net_position_t

    from member_days
    left join daily_changes
        on member_days.member_id = daily_changes.member_id
        and member_days.commodity_code = daily_changes.commodity_code
        and member_days.position_date = daily_changes.trade_date

)

select
    {{ surrogate_key(['member_id', 'commodity_code', 'position_date']) }} as member_position_id,
    *
from accumulated
