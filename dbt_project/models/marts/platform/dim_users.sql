-- Platform users without clear PII (salted hashes of e-mail, name and phone; the clear values are
-- in restricted.dim_user_contacts), with their current subscription plan.
with

users as (

    select * from {{ ref('stg_platform__users') }}

),

subscription_states as (

    select * from {{ ref('int_subscription_events_sequenced') }}

),

current_plans as (

    -- of a user's subscriptions in force now, the one that earns most (then the latest)
    select user_id, plan, mrr_ghs
    from (
        select
            user_id,
            plan,
            mrr_ghs,
            row_number() over (
                partition by user_id order by mrr_ghs desc, in_force_from desc
            ) as plan_rank
        from subscription_states
        where in_force_to is null and is_active
    ) as ranked
    where plan_rank = 1

),

first_subscriptions as (

    select user_id, min(in_force_from) as first_subscribed_at
    from subscription_states
    group by user_id

),

final as (

    select
        users.user_id,
        users.email_hash,
        users.full_name_hash,
        users.phone_hash,
        users.country,
        users.member_id,
        users.user_role,
        users.signed_up_at,
        {{ utc_date('users.signed_up_at') }} as signup_date,
        {{ period_start('month', utc_date('users.signed_up_at')) }} as signup_month,
        current_plans.plan as current_plan,
        coalesce(current_plans.mrr_ghs, 0) as current_mrr_ghs,
        first_subscriptions.first_subscribed_at

    from users
    left join current_plans
        on users.user_id = current_plans.user_id
    left join first_subscriptions
        on users.user_id = first_subscriptions.user_id

)

select * from final
