{#-
    Column types of the market-data marts (their contracts declare the same), in one place.
    Prices keep the source's 4 decimals; sums of quantities 4; values (price x quantity) keep all
    8 decimals of the product, so they add up exactly; VWAPs are rounded to 6 decimals.
-#}
{% macro price_type() -%}
    {{ return('numeric(14, 4)') }}
{%- endmacro %}

{% macro quantity_total_type() -%}
    {{ return('numeric(18, 4)') }}
{%- endmacro %}

{% macro value_type() -%}
    {{ return('numeric(24, 8)') }}
{%- endmacro %}

{% macro vwap_type() -%}
    {{ return('numeric(20, 6)') }}
{%- endmacro %}
