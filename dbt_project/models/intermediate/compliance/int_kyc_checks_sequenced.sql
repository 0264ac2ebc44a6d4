-- KYC checks as the state of a subject's check type over time: each check is in force from its
-- check date until the next check of the same type for the same subject (exclusive), or for
-- good while it is the latest. Point-in-time KYC status (current or on any past day) joins here.
with

kyc_checks as (

    select * from {{ ref('stg_compliance__kyc_checks') }}

),

sequenced as (

    select
        kyc_check_id,
        subject_type,
        subject_id,
        check_type,
        check_status,
        checked_at,
        {{ utc_date('checked_at') }} as in_force_from,
        lead({{ utc_date('checked_at') }}) over (
            partition by subject_type, subject_id, check_type
            order by checked_at, kyc_check_id
        ) as in_force_to,
        expires_on

    from kyc_checks

)

select
    *,
    in_force_to is null as is_latest
from sequenced
