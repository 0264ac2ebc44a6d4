-- Beneficial owners without clear PII: salted hashes (to match the same person across tables and
-- systems) and the birth year; the clear identity is in restricted.dim_beneficial_owners_pii.
with

owners as (

    select * from {{ ref('stg_exchange__beneficial_owners') }}

),

accounts as (

    select
        owner_id,
        count(*) as account_count,
        count(distinct member_id) as member_count

    from {{ ref('stg_exchange__accounts') }}
    group by owner_id

),

final as (

    select
        owners.owner_id,
        owners.full_name_hash,
        owners.national_id_hash,
        owners.email_hash,
        owners.phone_hash,
        owners.birth_year,
        owners.country,
        coalesce(accounts.account_count, 0) as account_count,
        coalesce(accounts.member_count, 0) as member_count,
        owners.updated_at

    from owners
    left join accounts
        on owners.owner_id = accounts.owner_id

)

select * from final
