-- Incremental by the day an order was created (macros/daily_rebuild.sql). An order's fills,
-- modifications and cancellation each add a version of the order in the same partition as the
-- event, so the orders' partitions alone tell which days to rebuild.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='created_date',
    on_schema_change='fail',
    indexes=[{'columns': ['created_date']}]
) }}
with
{%- if is_incremental() %}

days_to_rebuild as (

    {{ days_to_rebuild([(source('exchange', 'orders'), utc_date('created_at'))]) }}

),
{%- endif %}

orders as (

    select * from {{ ref('stg_exchange__orders') }}
    {%- if is_incremental() %}
    where {{ utc_date('created_at') }} in (select days_to_rebuild.day from days_to_rebuild)
        -- an order's versions are loaded on or after the day it was created
        and {{ key_among('order_id', "select order_id from " ~ source('exchange', 'orders')
            ~ " where _partition_date >= (select min(days_to_rebuild.day) from days_to_rebuild)") }}
    {%- endif %}

),

instruments as (

    select * from {{ ref('stg_exchange__instruments') }}

),

order_events as (

    select * from {{ ref('int_order_events_aggregated') }}
    {%- if is_incremental() %}
    where {{ key_among('order_id', 'select order_id from orders') }}
    {%- endif %}

),

final as (

    select
        orders.order_id,
        orders.instrument_id,
        instruments.symbol,
        instruments.commodity_code,
        orders.member_id,
        orders.account_id,
        orders.side,
        orders.order_type,
        orders.limit_price_ghs_per_t,
        orders.quantity_t,
        orders.filled_t,
        orders.quantity_t - orders.filled_t as remaining_t,
        case when orders.quantity_t > 0 then orders.filled_t / orders.quantity_t end as fill_ratio,
        orders.order_status,
        orders.order_status = 'cancelled' as is_cancelled,
        orders.created_at,
        {{ utc_date('orders.created_at') }} as created_date,
        order_events.first_filled_at,
        order_events.cancelled_at,
        coalesce(order_events.modification_count, 0) as modification_count,
        coalesce(order_events.fill_count, 0) as fill_count,
        orders.updated_at,
        orders._loaded_at

    from orders
    left join instruments
        on orders.instrument_id = instruments.instrument_id
    left join order_events
        on orders.order_id = order_events.order_id

)

select * from final
