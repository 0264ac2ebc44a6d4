with

instruments as (

    select * from {{ ref('stg_exchange__instruments') }}

),

warehouses as (

    select * from {{ ref('stg_exchange__warehouses') }}

),

final as (

    select
        instruments.instrument_id,
        instruments.symbol,
        instruments.venue,
        instruments.commodity_code,
        instruments.commodity_name,
        instruments.colour,
        instruments.grade,
        instruments.warehouse_code,
        warehouses.warehouse_name,
        warehouses.region as warehouse_region,
        instruments.tick_size_ghs,
        instruments.lot_size_t,
        instruments.listed_on,
        instruments.delisted_on,
        instruments.venue = '{{ var("home_venue") }}' as is_home_venue,
        instruments.updated_at

    from instruments
    left join warehouses
        on instruments.warehouse_code = warehouses.warehouse_code

)

select * from final
