-- Every KYC subject's status on every day from its first check to the as-of date: the one place
-- the KYC rules are written (dim_kyc_subjects takes the as-of day, fct_compliance_daily counts
-- each day). Rules (README "Compliance rules"), over the checks in force that day, one per type:
--   is_failed    a check in force has status failed
--   is_expired   a check in force expired before the day (expires_on < day)
--   is_expiring  not expired, and a check in force expires within kyc_expiry_warning_days
--                (day <= expires_on <= day + 30)
--   has_failed   the subject failed a check on or before the day (even if since re-checked)
--   kyc_status   failed, else expired, else pending (a check in force is pending), else passed
with

checks as (

    select * from {{ ref('int_kyc_checks_sequenced') }}

),

days as (

    {{ day_spine('(select min(in_force_from) from ' ~ ref('int_kyc_checks_sequenced') ~ ')', as_of_date()) }}

),

checks_in_force as (

    select
        days.day,
        checks.subject_type,
        checks.subject_id,
        checks.check_type,
        checks.check_status,
        checks.expires_on,
        checks.checked_at

    from days
    inner join checks
        on checks.in_force_from <= days.day
        and (checks.in_force_to is null or days.day < checks.in_force_to)

),

failures as (

    select subject_type, subject_id, min(in_force_from) as first_failed_on
    from checks
    where check_status = 'failed'
    group by subject_type, subject_id

),

subject_days as (

    select
        day,
        subject_type,
        subject_id,
        count(*) as checks_in_force,
        max(case when check_status = 'failed' then 1 else 0 end) = 1 as is_failed,
        max(case when expires_on < day then 1 else 0 end) = 1 as is_expired,
        max(case when check_status = 'pending' then 1 else 0 end) = 1 as is_pending,
        min(expires_on) as expires_on,
        max(checked_at) as last_checked_at

    from checks_in_force
    group by day, subject_type, subject_id

),

evaluated as (

    select
        subject_days.day,
        subject_days.subject_type,
        subject_days.subject_id,
        case
            when subject_days.is_failed then 'failed'
            when subject_days.is_expired then 'expired'
            when subject_days.is_pending then 'pending'
            else 'passed'
        end as kyc_status,
        subject_days.is_failed,
        subject_days.is_expired,
        (
            not subject_days.is_expired
            and subject_days.expires_on <= {{ dbt.dateadd('day', var('kyc_expiry_warning_days'), 'subject_days.day') }}
        ) as is_expiring,
        coalesce(failures.first_failed_on <= subject_days.day, false) as has_failed,
        subject_days.expires_on,
        subject_days.last_checked_at,
        subject_days.checks_in_force

    from subject_days
    left join failures
        on subject_days.subject_type = failures.subject_type
        and subject_days.subject_id = failures.subject_id

)

select
    {{ surrogate_key(['subject_type', 'subject_id', 'day']) }} as kyc_subject_day_id,
    *
from evaluated
