with

source as (

    {{ latest_version(source('compliance', 'sanctions_screening'), 'screening_id', version_column='_partition_date') }}

),

renamed as (

    select
        screening_id,
        subject_type,
        subject_id,
        list_name,
        screened_at,
        result as screening_result,
        match_score,
        _loaded_at

    from source

)

select * from renamed
