{#-
    PII outside the `restricted` schema: a keyed pseudonym, HMAC-SHA256 under the installation's
    key (private.pii_hash, gcx/warehouse/pii.py): stable, so two tables can still be joined on it and
    a person found under the same e-mail in two systems, and not reversible without the key. Values
    are normalised (trimmed, lower case) first so that formatting does not split a person in two;
    null stays null.
-#}
{% macro pii_hash(column) -%}
    private.pii_hash(cast({{ column }} as {{ dbt.type_string() }}))
{%- endmacro %}
