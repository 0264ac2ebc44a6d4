-- Restricted: platform users' clear contact details (the only staging path for them).
with

source as (

    {{ latest_version(source('platform', 'users'), 'user_id', version_column='_partition_date') }}

),

renamed as (

    select
        user_id,
        email,
        full_name,
        phone,
        {{ pii_hash('email') }} as email_hash,
        {{ pii_hash('full_name') }} as full_name_hash,
        {{ pii_hash('phone') }} as phone_hash

    from source

)

select * from renamed
