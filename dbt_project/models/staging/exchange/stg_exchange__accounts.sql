with

source as (

    {{ latest_version(source('exchange', 'accounts'), 'account_id') }}

),

renamed as (

    select
        account_id,
        member_id,
        owner_id,
        account_type,
        opened_at,
        closed_at,
        status as account_status,
        updated_at,
        _loaded_at

    from source

)

select * from renamed
