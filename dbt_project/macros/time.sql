{#-
    Time helpers. All platform times are UTC; ranges are half-open [start, end).
    PostgreSQL-specific forms live in the postgres__ implementations; the default__ ones are
    standard SQL for an engine whose session time zone is UTC (Spark, Trino).
-#}

{#- The bar intervals the OHLCV marts are built at, as (count, date part). -#}
{% macro bar_interval(name) -%}
    {%- set intervals = {'1m': (1, 'minute'), '5m': (5, 'minute'), '1h': (1, 'hour'), '1d': (1, 'day')} -%}
    {%- if name not in intervals -%}
        {{ exceptions.raise_compiler_error("unknown bar interval '" ~ name ~ "'; expected one of " ~ (intervals.keys() | list | join(', '))) }}
    {%- endif -%}
    {{ return(intervals[name]) }}
{%- endmacro %}


{#- Start of the `interval` ('1m', '5m', '1h', '1d') holding the instant `ts`, aligned to UTC midnight. -#}
{% macro interval_start(ts, interval) -%}
    {{ return(adapter.dispatch('interval_start')(ts, interval)) }}
{%- endmacro %}

{% macro postgres__interval_start(ts, interval) -%}
    {%- set count, part = bar_interval(interval) -%}
    date_bin(interval '{{ count }} {{ part }}', {{ ts }}, timestamptz '2000-01-01 00:00:00+00')
{%- endmacro %}

{% macro default__interval_start(ts, interval) -%}
    {%- set count, part = bar_interval(interval) -%}
    {%- if count == 1 -%}
        {{ dbt.date_trunc(part, ts) }}
    {%- else -%}
        {%- set parent = {'minute': 'hour', 'hour': 'day'}[part] -%}
        {{ dbt.dateadd(part, 'floor(extract(' ~ part ~ ' from ' ~ ts ~ ') / ' ~ count ~ ') * ' ~ count, dbt.date_trunc(parent, ts)) }}
    {%- endif -%}
{%- endmacro %}


{#- End (exclusive) of the interval starting at `start`. -#}
{% macro interval_end(start, interval) -%}
    {%- set count, part = bar_interval(interval) -%}
    {{ dbt.dateadd(part, count, start) }}
{%- endmacro %}


{#- The UTC calendar date of an instant (GCX trades on Ghana time, which is UTC all year). -#}
{% macro utc_date(ts) -%}
    {{ return(adapter.dispatch('utc_date')(ts)) }}
{%- endmacro %}

{% macro postgres__utc_date(ts) -%}
    cast(({{ ts }} at time zone 'UTC') as date)
{%- endmacro %}

{% macro default__utc_date(ts) -%}
    cast({{ ts }} as date)
{%- endmacro %}


{#- First day of the day/week/month/quarter holding `day` (weeks start on Monday, ISO 8601). -#}
{% macro period_start(grain, day) -%}
    cast({{ dbt.date_trunc(grain, day) }} as date)
{%- endmacro %}


{#- Whole days from `start_day` to `end_day` (dates; negative when end is earlier). -#}
{% macro days_between(start_day, end_day) -%}
    {{ dbt.datediff(start_day, end_day, 'day') }}
{%- endmacro %}


{#-
    One row per day, `day` from `start_day` to `end_day` inclusive (date expressions; a scalar
    subquery is fine). Up to `max_days` days (default about 27 years); standard SQL only.
-#}
{% macro day_spine(start_day, end_day, max_days=10000) -%}
    select days.day
    from (
        select cast({{ dbt.dateadd('day', 'numbers.generated_number - 1', start_day) }} as date) as day
        from ({{ dbt.generate_series(max_days) }}) as numbers
    ) as days
    where days.day <= {{ end_day }}
{%- endmacro %}


{#- The instant a UTC calendar date starts (midnight UTC), as a timestamp with time zone. -#}
{% macro utc_midnight(day) -%}
    {{ return(adapter.dispatch('utc_midnight')(day)) }}
{%- endmacro %}

{% macro postgres__utc_midnight(day) -%}
    (cast({{ day }} as timestamp) at time zone 'UTC')
{%- endmacro %}

{% macro default__utc_midnight(day) -%}
    cast({{ day }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
