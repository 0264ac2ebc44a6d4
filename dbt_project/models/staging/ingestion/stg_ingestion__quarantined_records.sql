-- The record itself (which may hold PII) stays in raw: only where and why it was refused.
with

source as (

    select * from {{ source('ingestion', 'quarantine') }}

),

renamed as (

    select
        source as source_name,
        dataset as dataset_name,
        partition_date,
        source_file,
        source_row,
        record_key,
        reason,
        quarantined_at

    from source

)

select * from renamed
