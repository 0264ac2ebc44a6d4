with

source as (

    {{ latest_version(source('platform', 'app_sessions'), 'session_id', version_column='_partition_date') }}

),

renamed as (

    select
        session_id,
        user_id,
        platform as app_platform,
        started_at,
        ended_at,
        pages_viewed,
        _loaded_at

    from source

)

select * from renamed
