with

source as (

    {{ latest_version(source('exchange', 'warehouse_receipts'), 'receipt_id') }}

),

renamed as (

    select
        receipt_id,
        warehouse_code,
        account_id,
        commodity_code,
        grade,
        quantity_t,
        deposited_at,
        withdrawn_at,
        status as receipt_status,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
