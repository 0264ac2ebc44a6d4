{#-
    Like `relationships`, but an orphan is allowed when ingestion quarantined its parent: a child
    row whose parent record failed validation (the parent key is in raw.quarantine for the
    parent's raw table, `quarantined_as`, e.g. 'exchange__members') points at nothing, and the
    quarantine already says why. Quarantined rows whose key could not be read may explain as many
    orphan keys as there are of them. Any other orphan fails the test.
-#}
{% test relationships_or_quarantined(model, column_name, to, field, quarantined_as) %}

with

orphans as (

    select distinct cast(child.{{ column_name }} as {{ dbt.type_string() }}) as orphan_key
    from {{ model }} as child
    left join {{ to }} as parent
        on child.{{ column_name }} = parent.{{ field }}
    where child.{{ column_name }} is not null
        and parent.{{ field }} is null

),

quarantined as (

    select record_key
    from {{ source('ingestion', 'quarantine') }}
    where {{ dbt.concat(['source', "'__'", 'dataset']) }} = '{{ quarantined_as }}'

),

unexplained as (

    select orphan_key
    from orphans
    where orphan_key not in (select record_key from quarantined where record_key is not null)

)

select orphan_key
from unexplained
where (select count(*) from unexplained) > (select count(*) from quarantined where record_key is null)

{% endtest %}
