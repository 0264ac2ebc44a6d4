with

source as (

    {{ latest_version(source('exchange', 'orders'), 'order_id') }}

),

renamed as (

    select
        order_id,
        instrument_id,
        member_id,
        account_id,
        side,
        order_type,
        limit_price_ghs_per_t,
        quantity_t,
        filled_t,
        status as order_status,
        created_at,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
