-- One row per day, from the first day with compliance-relevant data to the as-of date: what the
-- compliance dashboard and the daily report count. Flows count what happened that day; states
-- count what stood at the end of that day.
--   large_trade_count, large_trade_value_ghs    large trades executed that day (fct_large_trades)
--   position_breach_count                       members' daily net positions over their limit that day
--   kyc_expiring_count, kyc_expired_count,
--   kyc_failed_count                            subjects in that KYC state that day (state)
--   sanctions_potential_match_count,
--   sanctions_confirmed_match_count             screenings with that result that day
--   filings_late_count                          filings filed that day after their due date
--   filings_missing_count                       filings due before that day and not filed by its end (state)
--   settlement_late_count, settlement_fail_count  obligations due that day that were settled late / failed
with

large_trades as (

    select
        trade_date as day,
        count(*) as large_trade_count,
        sum(value_ghs) as large_trade_value_ghs

    from {{ ref('fct_large_trades') }}
    group by trade_date

),

breaches as (

    select
        breach_date as day,
        count(*) as position_breach_count

    from {{ ref('fct_position_limit_breaches') }}
    group by breach_date

),

kyc as (

    select
        day,
        sum(case when is_expiring then 1 else 0 end) as kyc_expiring_count,
        sum(case when is_expired then 1 else 0 end) as kyc_expired_count,
        sum(case when is_failed then 1 else 0 end) as kyc_failed_count

    from {{ ref('int_kyc_subject_days_evaluated') }}
    group by day

),

sanctions as (

    select
        screened_date as day,
        sum(case when not is_confirmed then 1 else 0 end) as sanctions_potential_match_count,
        sum(case when is_confirmed then 1 else 0 end) as sanctions_confirmed_match_count

    from {{ ref('fct_sanctions_hits') }}
    group by screened_date

),

filings as (

    select * from {{ ref('fct_regulatory_filings') }}

),

settlements as (

    select
        due_on as day,
        sum(case when is_late then 1 else 0 end) as settlement_late_count,
        sum(case when is_failed then 1 else 0 end) as settlement_fail_count

    from {{ ref('fct_settlements') }}
    group by due_on

),

first_days as (

    select min(day) as day from large_trades
    union all
    select min(day) from breaches
    union all
    select min(day) from kyc
    union all
    select min(day) from sanctions
    union all
    select min(due_on) from filings
    union all
    select min(day) from settlements

),

days as (

    {{ day_spine('(select min(day) from first_days)', as_of_date()) }}

),

filings_late as (

    select filed_on as day, count(*) as filings_late_count
    from filings
    where is_late
    group by filed_on

),

filings_missing as (

    select days.day, count(*) as filings_missing_count
    from days
    inner join filings
        on filings.due_on < days.day
        and (filings.filed_on is null or filings.filed_on > days.day)
    group by days.day

),

final as (

    select
        days.day as compliance_date,
        coalesce(large_trades.large_trade_count, 0) as large_trade_count,
        coalesce(large_trades.large_trade_value_ghs, 0) as large_trade_value_ghs,
        coalesce(breaches.position_breach_count, 0) as position_breach_count,
        coalesce(kyc.kyc_expiring_count, 0) as kyc_expiring_count,
        coalesce(kyc.kyc_expired_count, 0) as kyc_expired_count,
        coalesce(kyc.kyc_failed_count, 0) as kyc_failed_count,
        coalesce(sanctions.sanctions_potential_match_count, 0) as sanctions_potential_match_count,
        coalesce(sanctions.sanctions_confirmed_match_count, 0) as sanctions_confirmed_match_count,
        coalesce(filings_late.filings_late_count, 0) as filings_late_count,
        coalesce(filings_missing.filings_missing_count, 0) as filings_missing_count,
        coalesce(settlements.settlement_late_count, 0) as settlement_late_count,
        coalesce(settlements.settlement_fail_count, 0) as settlement_fail_count

    from days
    left join large_trades on days.day = large_trades.day
    left join breaches on days.day = breaches.day
    left join kyc on days.day = kyc.day
    left join sanctions on days.day = sanctions.day
    left join filings_late on days.day = filings_late.day
    left join filings_missing on days.day = filings_missing.day
    left join settlements on days.day = settlements.day

)

select * from final
