-- Restricted: members' clear contact details (the only staging path for them).
with

source as (

    {{ latest_version(source('exchange', 'members'), 'member_id') }}

),

renamed as (

    select
        member_id,
        contact_email,
        contact_phone,
        {{ pii_hash('contact_email') }} as contact_email_hash,
        {{ pii_hash('contact_phone') }} as contact_phone_hash,
        updated_at

    from source

)

select * from renamed
