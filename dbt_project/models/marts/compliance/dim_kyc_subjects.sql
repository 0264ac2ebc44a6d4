-- KYC status of every member and beneficial owner that has been checked, as of the as-of date
-- (today by default). The rules are in int_kyc_subject_days_evaluated.
with

evaluated as (

    select * from {{ ref('int_kyc_subject_days_evaluated') }}
    where day = {{ as_of_date() }}

),

members as (

    select member_id, member_name from {{ ref('stg_exchange__members') }}

),

final as (

    select
        {{ surrogate_key(['evaluated.subject_type', 'evaluated.subject_id']) }} as kyc_subject_id,
        evaluated.subject_type,
        evaluated.subject_id,
        case when evaluated.subject_type = 'member' then evaluated.subject_id end as member_id,
        case when evaluated.subject_type = 'beneficial_owner' then evaluated.subject_id end as owner_id,
        members.member_name,
        evaluated.kyc_status,
        evaluated.is_expiring,
        evaluated.is_expired,
        evaluated.is_failed,
        evaluated.has_failed,
        evaluated.expires_on,
        evaluated.last_checked_at,
        evaluated.day as as_of_date

    from evaluated
    left join members
        on evaluated.subject_type = 'member'
        and evaluated.subject_id = members.member_id

)

select * from final
