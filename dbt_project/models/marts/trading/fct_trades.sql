-- One row per valid trade (latest version), with its instrument, members and beneficial owners.
-- Valid = a known instrument, an execution time, and a positive price and quantity; raw rows
-- that fail these were already quarantined by ingestion, and the staging tests check it.
-- Incremental by trade date (macros/daily_rebuild.sql): a run replaces the days it loaded trades
-- of, including the day of a trade corrected days later.
-- Indexed for the API's pages: by symbol and time, and by time alone, in the pages' stable order.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='trade_date',
    on_schema_change='fail',
    indexes=[
        {'columns': ['symbol', 'executed_at', 'trade_id']},
        {'columns': ['executed_at', 'trade_id']},
        {'columns': ['trade_date']},
    ]
) }}
with
{%- if is_incremental() %}

days_to_rebuild as (

    {{ days_to_rebuild([(source('exchange', 'trades'), utc_date('executed_at'))]) }}

),
{%- endif %}

trades as (

    select * from {{ ref('stg_exchange__trades') }}
    {%- if is_incremental() %}
    where {{ utc_date('executed_at') }} in (select days_to_rebuild.day from days_to_rebuild)
        -- a trade's versions are loaded on or after the day it executed
        and {{ key_among('trade_id', "select trade_id from " ~ source('exchange', 'trades')
            ~ " where _partition_date >= (select min(days_to_rebuild.day) from days_to_rebuild)") }}
    {%- endif %}

),

instruments as (

    select * from {{ ref('stg_exchange__instruments') }}

),

accounts as (

    select * from {{ ref('stg_exchange__accounts') }}

),

final as (

    select
        trades.trade_id,
        trades.instrument_id,
        instruments.symbol,
        instruments.venue,
        instruments.commodity_code,
        instruments.commodity_name,
        trades.executed_at,
        {{ utc_date('trades.executed_at') }} as trade_date,
        trades.price_ghs_per_t,
        trades.quantity_t,
        cast(trades.price_ghs_per_t * trades.quantity_t as {{ value_type() }}) as value_ghs,
        trades.aggressor_side,
        trades.buy_order_id,
        trades.sell_order_id,
        trades.buyer_member_id,
        trades.buyer_account_id,
        buyer_accounts.owner_id as buyer_owner_id,
        trades.seller_member_id,
        trades.seller_account_id,
        seller_accounts.owner_id as seller_owner_id,
        coalesce(buyer_accounts.owner_id = seller_accounts.owner_id, false) as is_same_beneficial_owner,
        trades.updated_at,
        trades._loaded_at

    from trades
    inner join instruments
        on trades.instrument_id = instruments.instrument_id
    left join accounts as buyer_accounts
        on trades.buyer_account_id = buyer_accounts.account_id
    left join accounts as seller_accounts
        on trades.seller_account_id = seller_accounts.account_id
    where trades.executed_at is not null
        and trades.price_ghs_per_t > 0
        and trades.quantity_t > 0

)

select * from final
