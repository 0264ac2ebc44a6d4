-- Each member's net position per commodity and trading day on the home venue (GCX): the tonnes
-- it bought minus the tonnes it sold in that commodity that day, cumulated over the day's trades
-- (the quantity the position limits bound, docs/sources.md), and, for context, the running net
-- position over all days so far. One row per member, commodity and day with a trade.
-- A trade between two accounts of the same member counts as bought and sold: net zero.
with

trades as (

    select * from {{ ref('fct_trades') }}
    where venue = '{{ var("home_venue") }}'
        and commodity_code is not null

),

trade_sides as (

    select trade_date, buyer_member_id as member_id, commodity_code, quantity_t as bought_t, 0 as sold_t
    from trades
    where buyer_member_id is not null

    union all

    select trade_date, seller_member_id as member_id, commodity_code, 0 as bought_t, quantity_t as sold_t
    from trades
    where seller_member_id is not null

),

daily as (

    select
        member_id,
        commodity_code,
        trade_date as position_date,
        sum(bought_t) as bought_t,
        sum(sold_t) as sold_t

    from trade_sides
    group by member_id, commodity_code, trade_date

)

select
    {{ surrogate_key(['member_id', 'commodity_code', 'position_date']) }} as member_position_id,
    member_id,
    commodity_code,
    position_date,
    cast(bought_t as {{ quantity_total_type() }}) as bought_t,
    cast(sold_t as {{ quantity_total_type() }}) as sold_t,
    cast(bought_t - sold_t as {{ quantity_total_type() }}) as net_position_t,
    cast(
        sum(bought_t - sold_t) over (
            partition by member_id, commodity_code
            order by position_date
            rows between unbounded preceding and current row
        ) as {{ quantity_total_type() }}
    ) as cumulative_net_position_t
from daily
