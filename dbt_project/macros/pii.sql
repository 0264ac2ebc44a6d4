{#-
    PII outside the `restricted` schema: a salted hash (stable, so two tables can still be joined
    on it, and a person found under the same e-mail in two systems) or a coarse value. Values are
    normalised (trimmed, lower case) before hashing so that formatting differences do not split a
    person in two. The salt is the `pii_salt` var (env GCX_PII_SALT); null stays null.
-#}
{% macro pii_hash(column) -%}
    case when {{ column }} is not null then
        {{ dbt.hash(dbt.concat(["'" ~ var('pii_salt') ~ "'", "lower(trim(cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")))"])) }}
    end
{%- endmacro %}

