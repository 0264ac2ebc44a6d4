with

accounts as (

    select * from {{ ref('stg_exchange__accounts') }}

),

final as (

    select
        account_id,
        member_id,
        owner_id,
        account_type,
        account_status,
        opened_at,
        closed_at,
        closed_at is null as is_open,
        updated_at

    from accounts

)

select * from final
