-- An event is identified by (subscription, event, time); the same event re-sent replaces itself.
with

source as (

    {{ latest_version(source('platform', 'subscriptions'), ['subscription_id', 'event', 'occurred_at'], version_column='_partition_date') }}

),

renamed as (

    select
        {{ surrogate_key(['subscription_id', 'event', 'occurred_at']) }} as subscription_event_id,
        subscription_id,
        user_id,
        plan,
        event as event_type,
        occurred_at,
        price_ghs_per_month,
        _loaded_at

    from source

)

select * from renamed
