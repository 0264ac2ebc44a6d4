with

source as (

    {{ latest_version(source('compliance', 'kyc_checks'), 'check_id', version_column='_partition_date') }}

),

renamed as (

    select
        check_id as kyc_check_id,
        subject_type,
        subject_id,
        check_type,
        status as check_status,
        checked_at,
        expires_on,
        _loaded_at

    from source

)

select * from renamed
