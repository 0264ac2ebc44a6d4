-- API usage per day and endpoint: requests, distinct users, errors (4xx and 5xx), volume served
-- and latency (mean and 95th percentile).
with

requests as (

    select
        *,
        {{ utc_date('requested_at') }} as usage_date
    from {{ ref('stg_platform__api_requests') }}

),

daily as (

    select
        usage_date,
        endpoint,
        count(*) as request_count,
        count(distinct user_id) as user_count,
        sum(case when status_code >= 400 then 1 else 0 end) as error_count,
        sum(case when status_code >= 500 then 1 else 0 end) as server_error_count,
        sum(rows_returned) as rows_returned,
        sum(bytes_returned) as bytes_returned,
        avg(latency_ms) as mean_latency_ms,
        percentile_cont(0.95) within group (order by latency_ms) as p95_latency_ms

    from requests
    group by usage_date, endpoint

)

select
    {{ surrogate_key(['usage_date', 'endpoint']) }} as api_usage_day_id,
    *
from daily
