-- Subscription events as the state of each subscription over time: an event's plan and price are
-- in force from it until the subscription's next event (exclusive), or for good while it is the
-- latest. After a `cancel` event the subscription earns nothing; after `start`, `renew` or
-- `change` it earns the event's monthly price.
with

events as (

    select * from {{ ref('stg_platform__subscription_events') }}

),

sequenced as (

    select
        subscription_event_id,
        subscription_id,
        user_id,
        plan,
        event_type,
        occurred_at as in_force_from,
        lead(occurred_at) over (
            partition by subscription_id order by occurred_at, subscription_event_id
        ) as in_force_to,
        row_number() over (
            partition by subscription_id order by occurred_at, subscription_event_id
        ) = 1 as is_first_event,
        event_type <> 'cancel' as is_active,
        case
            when event_type = 'cancel' then 0
            else coalesce(price_ghs_per_month, 0)
        end as mrr_ghs

    from events

)

select * from sequenced
