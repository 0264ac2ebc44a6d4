-- One row per order: what its event stream says about it (fills, modifications, cancellation).
with

order_events as (

    select * from {{ ref('stg_exchange__order_events') }}

),

aggregated as (

    select
        order_id,
        min(case when event_type = 'fill' then event_at end) as first_filled_at,
        max(case when event_type = 'cancel' then event_at end) as cancelled_at,
        sum(case when event_type = 'modify' then 1 else 0 end) as modification_count,
        sum(case when event_type = 'fill' then 1 else 0 end) as fill_count,
        count(*) as event_count

    from order_events
    group by order_id

)

select * from aggregated
