-- Trades on the home venue at or above either threshold (README "Compliance rules"):
-- value_ghs >= var large_trade_value_ghs (GHS 1,000,000) or quantity_t >= var large_trade_quantity_t
-- (500 t). The thresholds in force are kept on each row for the report's audit trail.
with

trades as (

    select * from {{ ref('fct_trades') }}
    where venue = '{{ var("home_venue") }}'

),

flagged as (

    select
        trade_id,
        trade_date,
        executed_at,
        instrument_id,
        symbol,
        commodity_code,
        buyer_member_id,
        buyer_account_id,
        seller_member_id,
        seller_account_id,
        is_same_beneficial_owner,
        price_ghs_per_t,
        quantity_t,
        value_ghs,
        value_ghs >= {{ var('large_trade_value_ghs') }} as is_over_value_threshold,
        quantity_t >= {{ var('large_trade_quantity_t') }} as is_over_quantity_threshold,
        cast({{ var('large_trade_value_ghs') }} as {{ dbt.type_numeric() }}) as value_threshold_ghs,
        cast({{ var('large_trade_quantity_t') }} as {{ dbt.type_numeric() }}) as quantity_threshold_t

    from trades

)

select * from flagged
where is_over_value_threshold or is_over_quantity_threshold
