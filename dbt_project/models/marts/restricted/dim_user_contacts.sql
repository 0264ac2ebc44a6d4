-- Restricted (compliance and support roles only): platform users' clear contact details, with
-- the hashes dim_users carries.
with

contacts as (

    select * from {{ ref('stg_platform__user_contacts') }}

),

final as (

    select
        user_id,
        email,
        full_name,
        phone,
        email_hash,
        full_name_hash,
        phone_hash

    from contacts

)

select * from final
