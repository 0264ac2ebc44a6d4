with

orders as (

    select * from {{ ref('stg_exchange__orders') }}

),

instruments as (

    select * from {{ ref('stg_exchange__instruments') }}

),

order_events as (

    select * from {{ ref('int_order_events_aggregated') }}

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
        orders.updated_at

    from orders
    left join instruments
        on orders.instrument_id = instruments.instrument_id
    left join order_events
        on orders.order_id = order_events.order_id

)

select * from final
