-- Identity columns leave raw only as salted hashes (date of birth as the birth year); the clear
-- values are in restricted.stg_exchange__beneficial_owner_identities.
with

source as (

    {{ latest_version(source('exchange', 'beneficial_owners'), 'owner_id') }}

),

renamed as (

    select
        owner_id,
        {{ pii_hash('full_name') }} as full_name_hash,
        {{ pii_hash('national_id') }} as national_id_hash,
        {{ pii_hash('email') }} as email_hash,
        {{ pii_hash('phone') }} as phone_hash,
        cast(extract(year from date_of_birth) as integer) as birth_year,
        country,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
