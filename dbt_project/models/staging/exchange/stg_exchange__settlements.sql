with

source as (

    {{ latest_version(source('exchange', 'settlements'), 'settlement_id') }}

),

renamed as (

    select
        settlement_id,
        trade_id,
        member_id,
        obligation,
        amount_ghs,
        quantity_t,
        due_on,
        settled_at,
        status as settlement_status,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
