{#-
    One row per key from a raw table that receives change rows (one row per version).

    Mutable exchange tables arrive keyed by (primary key, updated_at): the latest `updated_at`
    wins. File drops carry no version column: the row from the latest partition wins
    (`version_column='_partition_date'`). Ties (the same version loaded twice) go to the latest
    load, then the last row of the file, so the choice is deterministic.
-#}
{% macro latest_version(relation, key, version_column='updated_at') -%}
    {%- set key_columns = [key] if key is string else key -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by
                    {{ version_column }} desc nulls last,
                    _loaded_at desc,
                    _source_row desc
            ) as _version_rank
        from {{ relation }}
    ) as versions
    where _version_rank = 1
{%- endmacro %}
