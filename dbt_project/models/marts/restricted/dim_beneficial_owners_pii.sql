-- Restricted (compliance roles only): beneficial owners' clear identity, with the hashes the
-- other marts carry (dim_beneficial_owners, fct_trades' owner ids) to go from a hash to the person.
with

identities as (

    select * from {{ ref('stg_exchange__beneficial_owner_identities') }}

),

final as (

    select
        owner_id,
        full_name,
        national_id,
        email,
        phone,
        date_of_birth,
        country,
        full_name_hash,
        national_id_hash,
        email_hash,
        phone_hash

    from identities

)

select * from final
