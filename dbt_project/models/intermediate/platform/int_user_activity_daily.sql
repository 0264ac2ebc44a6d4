-- One row per user and day with any activity: an app session started or an API request made.
with

app_days as (

    select user_id, {{ utc_date('started_at') }} as activity_date, 1 as app_sessions, 0 as api_requests
    from {{ ref('stg_platform__app_sessions') }}

),

api_days as (

    select user_id, {{ utc_date('requested_at') }} as activity_date, 0 as app_sessions, 1 as api_requests
    from {{ ref('stg_platform__api_requests') }}

),

activity as (

    select * from app_days
    union all
    select * from api_days

),

daily as (

    select
        user_id,
        activity_date,
        sum(app_sessions) as app_session_count,
        sum(api_requests) as api_request_count

    from activity
    where user_id is not null
    group by user_id, activity_date

)

select
    {{ surrogate_key(['user_id', 'activity_date']) }} as user_activity_day_id,
    *
from daily
