{#-
    Models land in the schema they name, as is: staging, intermediate, marts, compliance,
    restricted, snapshots (not dbt's default <target_schema>_<custom_schema>), so the API and the
    database roles can address `marts.fct_trades` whatever the profile says.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
