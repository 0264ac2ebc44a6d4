-- Restricted (compliance roles only): members' clear contact details, with the hashes the other
-- marts carry, so a compliance officer can go from a hash to the person.
with

members as (

    select member_id, member_name, member_status from {{ ref('stg_exchange__members') }}

),

contacts as (

    select * from {{ ref('stg_exchange__member_contacts') }}

),

final as (

    select
        members.member_id,
        members.member_name,
        members.member_status,
        contacts.contact_email,
        contacts.contact_phone,
        contacts.contact_email_hash,
        contacts.contact_phone_hash

    from members
    inner join contacts
        on members.member_id = contacts.member_id

)

select * from final
