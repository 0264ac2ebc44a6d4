with

source as (

    select * from {{ source('api', 'request_log') }}

),

renamed as (

    select
        request_id,
        requested_at,
        {{ utc_date('requested_at') }} as request_date,
        key_id,
        tier,
        role,
        method,
        endpoint,
        status as status_code,
        case
            when status >= 500 then '5xx'
            when status >= 400 then '4xx'
            when status >= 300 then '3xx'
            when status >= 200 then '2xx'
            else '1xx'
        end as status_class,
        rows as rows_returned,
        bytes as bytes_returned,
        latency_ms

    from source

)

select * from renamed
