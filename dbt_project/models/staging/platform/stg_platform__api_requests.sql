with

source as (

    {{ latest_version(source('platform', 'api_usage'), 'request_id', version_column='_partition_date') }}

),

renamed as (

    select
        request_id,
        user_id,
        endpoint,
        requested_at,
        status_code,
        rows as rows_returned,
        bytes as bytes_returned,
        latency_ms,
        _loaded_at

    from source

)

select * from renamed
