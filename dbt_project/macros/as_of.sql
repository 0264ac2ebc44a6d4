{#-
    The date "now" means for point-in-time rules (KYC expiring/expired, filings missing, spines
    that run to today): the `as_of_date` var when given (reports, backfills, tests), else today.
-#}
{% macro as_of_date() -%}
    {%- set as_of = var('as_of_date', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as date)
    {%- else -%}
        {{ utc_date(dbt.current_timestamp()) }}
    {%- endif -%}
{%- endmacro %}
