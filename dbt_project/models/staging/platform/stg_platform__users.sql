-- E-mail, name and phone leave raw only as salted hashes; the clear values are in
-- restricted.stg_platform__user_contacts.
with

source as (

    {{ latest_version(source('platform', 'users'), 'user_id', version_column='_partition_date') }}

),

renamed as (

    select
        user_id,
        {{ pii_hash('email') }} as email_hash,
        {{ pii_hash('full_name') }} as full_name_hash,
        {{ pii_hash('phone') }} as phone_hash,
        country,
        member_id,
        role as user_role,
        signed_up_at,
        _loaded_at

    from source

)

select * from renamed
