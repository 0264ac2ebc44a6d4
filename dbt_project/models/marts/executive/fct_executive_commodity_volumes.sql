-- Volume and value traded on the home venue per commodity and period (day, week, month, quarter),
-- with the number of members that traded the commodity in the period.
with

periods as (

    select * from {{ ref('int_days_mapped_to_periods') }}

),

trades as (

    select * from {{ ref('fct_trades') }}
    where venue = '{{ var("home_venue") }}'

),

member_sides as (

    select trade_date, commodity_code, buyer_member_id as member_id from trades
    union all
    select trade_date, commodity_code, seller_member_id as member_id from trades

),

volumes as (

    select
        periods.period_grain,
        periods.period_start,
        trades.commodity_code,
        max(trades.commodity_name) as commodity_name,
        sum(trades.quantity_t) as volume_t,
        sum(trades.value_ghs) as value_ghs,
        count(*) as trade_count

    from trades
    inner join periods
        on trades.trade_date = periods.day
    group by periods.period_grain, periods.period_start, trades.commodity_code

),

members as (

    select
        periods.period_grain,
        periods.period_start,
        member_sides.commodity_code,
        count(distinct member_sides.member_id) as active_members

    from member_sides
    inner join periods
        on member_sides.trade_date = periods.day
    group by periods.period_grain, periods.period_start, member_sides.commodity_code

)

select
    {{ surrogate_key(['volumes.period_grain', 'volumes.period_start', 'volumes.commodity_code']) }} as commodity_period_id,
    volumes.period_grain,
    volumes.period_start,
    volumes.commodity_code,
    volumes.commodity_name,
    volumes.volume_t,
    volumes.value_ghs,
    volumes.trade_count,
    members.active_members
from volumes
inner join members
    on volumes.period_grain = members.period_grain
    and volumes.period_start = members.period_start
    and volumes.commodity_code = members.commodity_code
