-- Restricted: beneficial owners' clear identity (the only staging path for it).
with

source as (

    {{ latest_version(source('exchange', 'beneficial_owners'), 'owner_id') }}

),

renamed as (

    select
        owner_id,
        full_name,
        national_id,
        email,
        phone,
        date_of_birth,
        country,
        {{ pii_hash('full_name') }} as full_name_hash,
        {{ pii_hash('national_id') }} as national_id_hash,
        {{ pii_hash('email') }} as email_hash,
        {{ pii_hash('phone') }} as phone_hash,
        updated_at

    from source

)

select * from renamed
