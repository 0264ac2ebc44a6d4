-- The exchange's trading calendar, one row per day, as the API serves it (GET /v1/calendar):
-- sessions in UTC on trading days, the holiday's name on public holidays.
with

calendar_days as (

    select * from {{ ref('stg_exchange__calendar_days') }}

),

final as (

    select
        calendar_date,
        is_trading_day,
        holiday_name,
        session_open_at,
        session_close_at

    from calendar_days

)

select * from final
