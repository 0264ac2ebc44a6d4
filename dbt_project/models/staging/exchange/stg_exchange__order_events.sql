with

source as (

    -- event_id alone is the key; ranking within (order_id, event_id) picks the same version (an
    -- event never changes order) and lets a filter on order_id reach the ranking (fct_orders)
    {{ latest_version(source('exchange', 'order_events'), ['order_id', 'event_id']) }}

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
