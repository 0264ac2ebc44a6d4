-- The trading calendar has no version column: a day re-sent in a later partition replaces it.
with

source as (

    {{ latest_version(source('exchange', 'trading_calendar'), 'calendar_date', version_column='_partition_date') }}

),

renamed as (

    select
        calendar_date,
        is_trading_day,
        holiday_name,
        session_open_at,
        session_close_at,
        _loaded_at

    from source

)

select * from renamed
