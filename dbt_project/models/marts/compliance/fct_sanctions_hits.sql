-- Sanctions screenings that matched: potential matches (to be reviewed) and confirmed matches.
-- A clear screening is not a hit.
with

screenings as (

    select * from {{ ref('stg_compliance__sanctions_screenings') }}

),

final as (

    select
        screening_id,
        subject_type,
        subject_id,
        case when subject_type = 'member' then subject_id end as member_id,
        case when subject_type = 'beneficial_owner' then subject_id end as owner_id,
        list_name,
        screened_at,
        {{ utc_date('screened_at') }} as screened_date,
        screening_result,
        screening_result = 'confirmed_match' as is_confirmed,
        match_score

    from screenings
    where screening_result in ('potential_match', 'confirmed_match')

)

select * from final
