-- The API's own metering (api.request_log) per UTC day, key, tier, role, method, route and status
-- class: requests, errors, data rows and body bytes returned, latency percentiles. Requests without
-- a valid key are kept (key, tier and role null) so refused traffic shows up too.
with

requests as (

    select * from {{ ref('stg_api__requests') }}

),

daily as (

    select
        request_date,
        key_id,
        tier,
        role,
        method,
        endpoint,
        status_class,
        count(*) as request_count,
        sum(case when status_code >= 400 then 1 else 0 end) as error_count,
        sum(case when status_code >= 500 then 1 else 0 end) as server_error_count,
        coalesce(sum(rows_returned), 0) as rows_returned,
        sum(bytes_returned) as bytes_returned,
        percentile_cont(0.5) within group (order by latency_ms) as latency_p50_ms,
        percentile_cont(0.99) within group (order by latency_ms) as latency_p99_ms,
        max(latency_ms) as latency_max_ms,
        max(requested_at) as last_requested_at

    from requests
    group by request_date, key_id, tier, role, method, endpoint, status_class

)

select
    {{ surrogate_key(['request_date', 'key_id', 'tier', 'role', 'method', 'endpoint', 'status_class']) }}
        as api_request_day_id,
    *
from daily
