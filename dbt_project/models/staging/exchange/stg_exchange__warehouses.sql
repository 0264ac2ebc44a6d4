with

source as (

    {{ latest_version(source('exchange', 'warehouses'), 'warehouse_code') }}

),

renamed as (

    select
        warehouse_code,
        name as warehouse_name,
        region,
        capacity_t,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
