-- Contact details leave raw only as salted hashes; the clear values are in
-- restricted.stg_exchange__member_contacts.
with

source as (

    {{ latest_version(source('exchange', 'members'), 'member_id') }}

),

renamed as (

    select
        member_id,
        name as member_name,
        member_type,
        registered_on,
        status as member_status,
        {{ pii_hash('contact_email') }} as contact_email_hash,
        {{ pii_hash('contact_phone') }} as contact_phone_hash,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
