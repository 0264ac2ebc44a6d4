-- Every day from the platform's first data (first trade, sign-up or load) to the as-of date,
-- once per reporting grain, with the period holding it: 4 rows per day. Weeks start on Monday.
-- A period is [period_start, period_end); is_complete says it ended by the as-of date.
{% set grains = ['day', 'week', 'month', 'quarter'] %}
{% set lengths = {'day': (1, 'day'), 'week': (7, 'day'), 'month': (1, 'month'), 'quarter': (3, 'month')} %}
with

first_days as (

    select min({{ utc_date('executed_at') }}) as day from {{ ref('stg_exchange__trades') }}
    union all
    select min({{ utc_date('signed_up_at') }}) from {{ ref('stg_platform__users') }}
    union all
    select min({{ utc_date('loaded_at') }}) from {{ ref('stg_ingestion__partition_loads') }}

),

days as (

    {{ day_spine('(select min(day) from first_days)', as_of_date()) }}

),

periods as (

    {% for grain in grains %}
    select
        day,
        '{{ grain }}' as period_grain,
        {{ period_start(grain, 'day') }} as period_start,
        cast({{ dbt.dateadd(lengths[grain][1], lengths[grain][0], period_start(grain, 'day')) }} as date) as period_end
    from days
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    {{ surrogate_key(['period_grain', 'day']) }} as period_day_id,
    day,
    period_grain,
    period_start,
    period_end,
    period_end <= {{ dbt.dateadd('day', 1, as_of_date()) }} as is_complete
from periods
