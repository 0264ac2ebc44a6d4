{#-
    Snapshot time as a timestamp with time zone, like every time in the platform (dbt-postgres'
    default is a timestamp without time zone, which mismatches the members' updated_at).
-#}
{% macro postgres__snapshot_get_time() -%}
    {{ current_timestamp() }}
{%- endmacro %}
