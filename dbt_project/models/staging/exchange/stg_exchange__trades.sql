with

source as (

    {{ latest_version(source('exchange', 'trades'), 'trade_id') }}

),

renamed as (

    select
        trade_id,
        instrument_id,
        executed_at,
        price_ghs_per_t,
        quantity_t,
        buy_order_id,
        sell_order_id,
        buyer_member_id,
        buyer_account_id,
        seller_member_id,
        seller_account_id,
        aggressor_side,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
