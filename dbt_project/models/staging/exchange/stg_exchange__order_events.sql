with

source as (

    {{ latest_version(source('exchange', 'order_events'), 'event_id') }}

),

renamed as (

    select
        event_id as order_event_id,
        order_id,
        event_type,
        event_at,
        limit_price_ghs_per_t,
        quantity_t,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
