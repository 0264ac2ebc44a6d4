with

source as (

    {{ latest_version(source('compliance', 'regulatory_filings'), 'filing_id', version_column='_partition_date') }}

),

renamed as (

    select
        filing_id,
        member_id,
        filing_type,
        period_end as period_end_on,
        due_on,
        filed_at,
        status as filing_status,
        _loaded_at

    from source

)

select * from renamed
