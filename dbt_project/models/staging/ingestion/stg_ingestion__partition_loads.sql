with

source as (

    select * from {{ source('ingestion', 'ingestion_log') }}

),

renamed as (

    select
        {{ surrogate_key(['source', 'dataset', 'partition_date']) }} as partition_load_id,
        source as source_name,
        dataset as dataset_name,
        partition_date,
        source_rows,
        lake_rows,
        raw_rows,
        quarantined_rows,
        lake_file,
        loaded_at

    from source

)

select * from renamed
