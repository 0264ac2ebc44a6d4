-- Retention by sign-up cohort: for each sign-up month and each month since (0 = the sign-up
-- month), how many of the cohort's users were active (an app session or an API request) that
-- month. Months up to the month of the as-of date.
with

users as (

    select
        user_id,
        {{ period_start('month', utc_date('signed_up_at')) }} as cohort_month
    from {{ ref('stg_platform__users') }}
    where signed_up_at is not null

),

cohorts as (

    select cohort_month, count(*) as cohort_users
    from users
    group by cohort_month

),

activity_months as (

    select distinct
        user_id,
        {{ period_start('month', 'activity_date') }} as activity_month
    from {{ ref('int_user_activity_daily') }}

),

months as (

    select distinct period_start as activity_month
    from {{ ref('int_days_mapped_to_periods') }}
    where period_grain = 'month'

),

grid as (

    select cohorts.cohort_month, cohorts.cohort_users, months.activity_month
    from cohorts
    inner join months
        on months.activity_month >= cohorts.cohort_month

),

retained as (

    select
        users.cohort_month,
        activity_months.activity_month,
        count(distinct users.user_id) as active_users

    from users
    inner join activity_months
        on users.user_id = activity_months.user_id
        and activity_months.activity_month >= users.cohort_month
    group by users.cohort_month, activity_months.activity_month

)

select
    {{ surrogate_key(['grid.cohort_month', 'grid.activity_month']) }} as cohort_month_id,
    grid.cohort_month,
    grid.activity_month,
    {{ dbt.datediff('grid.cohort_month', 'grid.activity_month', 'month') }} as months_since_signup,
    grid.cohort_users,
    coalesce(retained.active_users, 0) as active_users,
    cast(coalesce(retained.active_users, 0) as {{ dbt.type_numeric() }}) / grid.cohort_users as retention_rate
from grid
left join retained
    on grid.cohort_month = retained.cohort_month
    and grid.activity_month = retained.activity_month
