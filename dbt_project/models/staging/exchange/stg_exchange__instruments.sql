with

source as (

    {{ latest_version(source('exchange', 'instruments'), 'instrument_id') }}

),

renamed as (

    select
        instrument_id,
        symbol,
        venue,
        commodity_code,
        commodity_name,
        colour,
        grade,
        warehouse_code,
        tick_size_ghs,
        lot_size_t,
        listed_on,
        delisted_on,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
