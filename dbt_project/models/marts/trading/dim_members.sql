-- Members with their history (type 2): one row per version the members snapshot has seen.
-- The current version of a member has is_current = true and valid_to null.
with

snapshot as (

    select * from {{ ref('members_snapshot') }}

),

final as (

    select
        dbt_scd_id as member_version_id,
        member_id,
        member_name,
        member_type,
        member_status,
        registered_on,
        contact_email_hash,
        contact_phone_hash,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        dbt_valid_to is null as is_current

    from snapshot

)

select * from final
