-- The executive dashboard: one row per period (day, week, month, quarter) up to the as-of date.
--   trading      volume_t, value_ghs, trade_count and active_members on the home venue
--   revenue      mrr_ghs: monthly recurring revenue in force at the end of the period (a rate);
--                trading_fees_ghs: fees earned in the period at trading_fee_rate_per_side on each
--                side's traded value (a placeholder schedule: see README "Executive KPIs").
--                They are different measures and are not added up.
--   users        new_users (signed up in the period), active_users (an app session or API request)
--   compliance   flows in the period (large trades, position-limit breaches, sanctions hits,
--                settlement fails, late filings) and states at its last day (KYC expired, filings
--                missing)
--   pipeline     partitions loaded, rows loaded into raw and rows quarantined in the period
with

periods as (

    select * from {{ ref('int_days_mapped_to_periods') }}

),

period_list as (

    select
        period_grain,
        period_start,
        max(period_end) as period_end,
        max(day) as last_day,
        {{ dbt.bool_or("is_complete") }} as is_complete

    from periods
    group by period_grain, period_start

),

trades as (

    select * from {{ ref('fct_trades') }}
    where venue = '{{ var("home_venue") }}'

),

trading as (

    select
        periods.period_grain,
        periods.period_start,
        sum(trades.quantity_t) as volume_t,
        sum(trades.value_ghs) as value_ghs,
        count(*) as trade_count

    from trades
    inner join periods on trades.trade_date = periods.day
    group by periods.period_grain, periods.period_start

),

member_sides as (

    select trade_date, buyer_member_id as member_id from trades
    union
    select trade_date, seller_member_id as member_id from trades

),

active_members as (

    select periods.period_grain, periods.period_start, count(distinct member_sides.member_id) as active_members
    from member_sides
    inner join periods on member_sides.trade_date = periods.day
    group by periods.period_grain, periods.period_start

),

new_users as (

    select periods.period_grain, periods.period_start, count(*) as new_users
    from {{ ref('dim_users') }} as users
    inner join periods on users.signup_date = periods.day
    group by periods.period_grain, periods.period_start

),

active_users as (

    select periods.period_grain, periods.period_start, count(distinct activity.user_id) as active_users
    from {{ ref('int_user_activity_daily') }} as activity
    inner join periods on activity.activity_date = periods.day
    group by periods.period_grain, periods.period_start

),

mrr as (

    select period_list.period_grain, period_list.period_start, sum(states.mrr_ghs) as mrr_ghs
    from period_list
    inner join {{ ref('int_subscription_events_sequenced') }} as states
        on states.in_force_from < {{ utc_midnight(dbt.dateadd('day', 1, 'period_list.last_day')) }}
        and (
            states.in_force_to is null
            or states.in_force_to >= {{ utc_midnight(dbt.dateadd('day', 1, 'period_list.last_day')) }}
        )
    group by period_list.period_grain, period_list.period_start

),

compliance_flows as (

    select
        periods.period_grain,
        periods.period_start,
        sum(daily.large_trade_count) as large_trade_count,
        sum(daily.position_breach_count) as position_breach_count,
        sum(daily.sanctions_potential_match_count + daily.sanctions_confirmed_match_count) as sanctions_hit_count,
        sum(daily.settlement_fail_count) as settlement_fail_count,
        sum(daily.filings_late_count) as filings_late_count

    from {{ ref('fct_compliance_daily') }} as daily
    inner join periods on daily.compliance_date = periods.day
    group by periods.period_grain, periods.period_start

),

compliance_states as (

    select
        period_list.period_grain,
        period_list.period_start,
        daily.kyc_expired_count,
        daily.filings_missing_count

    from period_list
    inner join {{ ref('fct_compliance_daily') }} as daily
        on daily.compliance_date = period_list.last_day

),

pipeline as (

    select
        periods.period_grain,
        periods.period_start,
        count(*) as partitions_loaded,
        sum(loads.raw_rows) as raw_rows_loaded,
        sum(loads.quarantined_rows) as quarantined_rows

    from {{ ref('stg_ingestion__partition_loads') }} as loads
    inner join periods on {{ utc_date('loads.loaded_at') }} = periods.day
    group by periods.period_grain, periods.period_start

),

final as (

    select
        {{ surrogate_key(['period_list.period_grain', 'period_list.period_start']) }} as kpi_period_id,
        period_list.period_grain,
        period_list.period_start,
        period_list.period_end,
        period_list.is_complete,
        coalesce(trading.volume_t, 0) as volume_t,
        coalesce(trading.value_ghs, 0) as value_ghs,
        coalesce(trading.trade_count, 0) as trade_count,
        coalesce(active_members.active_members, 0) as active_members,
        coalesce(mrr.mrr_ghs, 0) as mrr_ghs,
        coalesce(trading.value_ghs, 0) * 2 * {{ var('trading_fee_rate_per_side') }} as trading_fees_ghs,
        coalesce(new_users.new_users, 0) as new_users,
        coalesce(active_users.active_users, 0) as active_users,
        coalesce(compliance_flows.large_trade_count, 0) as large_trade_count,
        coalesce(compliance_flows.position_breach_count, 0) as position_breach_count,
        coalesce(compliance_flows.sanctions_hit_count, 0) as sanctions_hit_count,
        coalesce(compliance_flows.settlement_fail_count, 0) as settlement_fail_count,
        coalesce(compliance_flows.filings_late_count, 0) as filings_late_count,
        coalesce(compliance_states.kyc_expired_count, 0) as kyc_expired_count,
        coalesce(compliance_states.filings_missing_count, 0) as filings_missing_count,
        coalesce(pipeline.partitions_loaded, 0) as partitions_loaded,
        coalesce(pipeline.raw_rows_loaded, 0) as raw_rows_loaded,
        coalesce(pipeline.quarantined_rows, 0) as quarantined_rows

    from period_list
    left join trading using (period_grain, period_start)
    left join active_members using (period_grain, period_start)
    left join mrr using (period_grain, period_start)
    left join new_users using (period_grain, period_start)
    left join active_users using (period_grain, period_start)
    left join compliance_flows using (period_grain, period_start)
    left join compliance_states using (period_grain, period_start)
    left join pipeline using (period_grain, period_start)

)

select * from final
