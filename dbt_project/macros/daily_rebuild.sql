{#-
    Daily marts are incremental by day: a run replaces whole days of the model (the `replace_days`
    incremental strategy below), it never appends rows or updates them in place. A day is the UTC
    date of the column that places a row: a trade's executed_at, an order's created_at, a bar's start.

    Which days (`days_to_rebuild`, from the raw tables the mart is built from):
      - with a partition window (Dagster passes the run's window, raw partitions with both ends
        inclusive, as the vars `window_start` and `window_end`): the window's days, and the day of
        every row loaded into one of the window's partitions. A correction to a trade of D-3 that
        arrives in partition D rebuilds D-3 as well as D.
      - without one (a plain `dbt build`): the day of every row loaded since the model's last build,
        i.e. after its latest `_loaded_at`, less `load_lookback_minutes` for loads that committed late.
    `--full-refresh` builds the model whole.

    The column that places a row must not change between its versions: a version that moved a
    trade to another day would leave the old day's copy behind. The marts' unique tests fail on it;
    `gcx materialize --full-refresh` repairs it.
-#}

{#- The run's partition window as (start, end) ISO dates, or none. -#}
{% macro partition_window() -%}
    {%- set start, end = var('window_start', none), var('window_end', none) -%}
    {%- if (start is none) != (end is none) -%}
        {{ exceptions.raise_compiler_error("give both vars window_start and window_end, or neither") }}
    {%- endif -%}
    {{ return(none if start is none else (start, end)) }}
{%- endmacro %}


{#-
    The days to rebuild, as a query of one column `day`, from `sources`: (raw relation, day
    expression) pairs. In an incremental build only; see the header for the rules.
-#}
{% macro days_to_rebuild(sources) -%}
    {%- set window = partition_window() -%}
    {%- if window is none %}
    {%- set since = dbt.dateadd('minute', -var('load_lookback_minutes'),
        "coalesce(max(_loaded_at), cast('1970-01-01' as " ~ dbt.type_timestamp() ~ "))") %}
    {%- for relation, day_expression in sources %}
    {{ 'union' if not loop.first }}
    select {{ day_expression }} as day
    from {{ relation }}
    where _loaded_at > (select {{ since }} from {{ this }})
    {%- endfor %}
    {%- else %}
    {%- set first_day = "cast('" ~ window[0] ~ "' as date)" -%}
    {%- set last_day = "cast('" ~ window[1] ~ "' as date)" -%}
    select window_days.day from ({{ day_spine(first_day, last_day) }}) as window_days
    {%- for relation, day_expression in sources %}
    union
    select {{ day_expression }} as day
    from {{ relation }}
    where _partition_date between {{ first_day }} and {{ last_day }}
    {%- endfor %}
    {%- endif %}
{%- endmacro %}


{#-
    `key` is one of the keys the subquery returns. PostgreSQL pushes `= any(array(...))` into a
    staging view's latest-version window when `key` is the window's partition key, so only the
    rebuilt rows' versions are ranked; `in (subquery)` would rank every version first.
-#}
{% macro key_among(key, subquery) -%}
    {{ return(adapter.dispatch('key_among')(key, subquery)) }}
{%- endmacro %}

{% macro postgres__key_among(key, subquery) -%}
    {{ key }} = any(array({{ subquery }}))
{%- endmacro %}

{% macro default__key_among(key, subquery) -%}
    {{ key }} in ({{ subquery }})
{%- endmacro %}


{#-
    The `replace_days` strategy: delete the days being rebuilt, insert their rows. `unique_key`
    names the model's day column. The days deleted are the new rows' days and the window's days,
    so that a day of the window whose rows all went away is emptied too.
-#}
{% macro get_incremental_replace_days_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set day = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set window = partition_window() -%}
    {%- if day is not string -%}
        {{ exceptions.raise_compiler_error("replace_days needs unique_key set to the model's day column") }}
    {%- endif -%}
    delete from {{ target }}
    where {{ day }} in (select {{ day }} from {{ arg_dict['temp_relation'] }})
    {%- if window %}
        or {{ day }} between cast('{{ window[0] }}' as date) and cast('{{ window[1] }}' as date)
    {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }};
{%- endmacro %}
