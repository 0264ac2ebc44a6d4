-- Monthly recurring revenue by plan and month: the subscriptions in force at the end of the month
-- (for the current month, at the end of the as-of date) and the sum of their monthly prices;
-- with the month's new and cancelled subscriptions. Free plans count as active with zero MRR.
with

states as (

    select * from {{ ref('int_subscription_events_sequenced') }}

),

months as (

    select distinct
        period_start as month_start,
        case
            when is_complete then {{ utc_midnight('period_end') }}
            else {{ utc_midnight(dbt.dateadd('day', 1, as_of_date())) }}
        end as measured_at
    from {{ ref('int_days_mapped_to_periods') }}
    where period_grain = 'month'
        and period_start >= (select {{ period_start('month', 'min(' ~ utc_date('in_force_from') ~ ')') }} from states)

),

plans as (

    select distinct plan from states

),

in_force as (

    select
        months.month_start,
        states.plan,
        count(distinct case when states.is_active then states.subscription_id end) as active_subscriptions,
        sum(states.mrr_ghs) as mrr_ghs

    from months
    inner join states
        on states.in_force_from < months.measured_at
        and (states.in_force_to is null or states.in_force_to >= months.measured_at)
    group by months.month_start, states.plan

),

movements as (

    select
        {{ period_start('month', utc_date('in_force_from')) }} as month_start,
        plan,
        sum(case when is_first_event then 1 else 0 end) as new_subscriptions,
        sum(case when not is_active then 1 else 0 end) as cancelled_subscriptions

    from states
    group by 1, 2

),

final as (

    select
        {{ surrogate_key(['months.month_start', 'plans.plan']) }} as mrr_month_id,
        months.month_start,
        plans.plan,
        coalesce(in_force.active_subscriptions, 0) as active_subscriptions,
        coalesce(in_force.mrr_ghs, 0) as mrr_ghs,
        coalesce(movements.new_subscriptions, 0) as new_subscriptions,
        coalesce(movements.cancelled_subscriptions, 0) as cancelled_subscriptions

    from months
    cross join plans
    left join in_force
        on months.month_start = in_force.month_start
        and plans.plan = in_force.plan
    left join movements
        on months.month_start = movements.month_start
        and plans.plan = movements.plan

)

select * from final
