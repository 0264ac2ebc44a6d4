-- Daily, weekly and monthly active users per day, from app sessions and API requests:
-- DAU = users active that day, WAU = in the 7 days ending that day, MAU = in the 30 days ending
-- that day (rolling windows, the day included). Days from the first to the last activity.
with

activity as (

    select * from {{ ref('int_user_activity_daily') }}

),

days as (

    {{ day_spine('(select min(activity_date) from ' ~ ref('int_user_activity_daily') ~ ')',
                 '(select max(activity_date) from ' ~ ref('int_user_activity_daily') ~ ')') }}

),

windowed as (

    select
        days.day,
        count(distinct case when activity.activity_date = days.day then activity.user_id end) as daily_active_users,
        count(distinct case
            when activity.activity_date > {{ dbt.dateadd('day', -7, 'days.day') }} then activity.user_id
        end) as weekly_active_users,
        count(distinct activity.user_id) as monthly_active_users,
        count(distinct case
            when activity.activity_date = days.day and activity.api_request_count > 0 then activity.user_id
        end) as daily_api_users,
        count(distinct case
            when activity.activity_date = days.day and activity.app_session_count > 0 then activity.user_id
        end) as daily_app_users

    from days
    left join activity
        on activity.activity_date <= days.day
        and activity.activity_date > {{ dbt.dateadd('day', -30, 'days.day') }}
    group by days.day

)

select
    day as activity_date,
    daily_active_users,
    weekly_active_users,
    monthly_active_users,
    daily_app_users,
    daily_api_users
from windowed
