with

source as (

    {{ latest_version(source('compliance', 'position_limits'), 'limit_id', version_column='_partition_date') }}

),

renamed as (

    select
        limit_id as position_limit_id,
        member_id,
        commodity_code,
        max_net_position_t,
        effective_from,
        effective_to,
        _loaded_at

    from source

)

select * from renamed
