-- One row per regulatory filing a member owes (latest version of the record).
--   is_late     filed after its due date
--   is_missing  not filed and its due date is before the as-of date (today by default)
--   days_late   days from the due date to the filing date (late filings) or to the as-of date
--               (missing filings)
with

filings as (

    select * from {{ ref('stg_compliance__regulatory_filings') }}

),

dated as (

    select
        filings.*,
        {{ utc_date('filed_at') }} as filed_on

    from filings

),

final as (

    select
        filing_id,
        member_id,
        filing_type,
        period_end_on,
        due_on,
        filed_at,
        filed_on,
        filing_status,
        coalesce(filed_on > due_on, false) as is_late,
        filed_at is null and due_on < {{ as_of_date() }} as is_missing,
        case
            when filed_on > due_on then {{ days_between('due_on', 'filed_on') }}
            when filed_at is null and due_on < {{ as_of_date() }} then {{ days_between('due_on', as_of_date()) }}
            else 0
        end as days_late

    from dated

)

select * from final
