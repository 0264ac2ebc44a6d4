-- One row per member, commodity and evaluation day on which the member's net position (long or
-- short) exceeds the position limit in force that day (README "Compliance rules").
--
-- The limit in force on day D: the member's limit for the commodity with effective_from <= D <=
-- effective_to (both dates included, as the compliance drop states them; open-ended when
-- effective_to is null); of several in force, the smallest. A position exactly at the limit is not
-- a breach; a day without a limit in force is not a breach.
with

positions as (

    select * from {{ ref('int_member_positions_accumulated') }}

),

limits as (

    select * from {{ ref('stg_compliance__position_limits') }}

),

limits_in_force as (

    select
        positions.member_position_id,
        limits.position_limit_id,
        limits.max_net_position_t,
        row_number() over (
            partition by positions.member_position_id
            order by limits.max_net_position_t, limits.position_limit_id
        ) as precedence

    from positions
    inner join limits
        on positions.commodity_code = limits.commodity_code
        and positions.member_id = limits.member_id
        and limits.effective_from <= positions.position_date
        and (limits.effective_to is null or positions.position_date <= limits.effective_to)

),

evaluated as (

    select
        positions.member_position_id,
        positions.member_id,
        positions.commodity_code,
        positions.position_date,
        positions.net_position_t,
        limits_in_force.position_limit_id,
        limits_in_force.max_net_position_t,
        coalesce(abs(positions.net_position_t) > limits_in_force.max_net_position_t, false) as is_breach

    from positions
    left join limits_in_force
        on positions.member_position_id = limits_in_force.member_position_id
        and limits_in_force.precedence = 1

),

episodes as (

    select
        *,
        coalesce(
            lag(is_breach) over (
                partition by member_id, commodity_code order by position_date
            ),
            false
        ) as was_breach_day_before

    from evaluated

),

breaches as (

    select
        *,
        sum(case when not was_breach_day_before then 1 else 0 end) over (
            partition by member_id, commodity_code
            order by position_date
            rows between unbounded preceding and current row
        ) as breach_episode

    from episodes
    where is_breach

)

select
    member_position_id as position_breach_id,
    member_id,
    commodity_code,
    position_date as breach_date,
    net_position_t,
    case when net_position_t > 0 then 'long' else 'short' end as position_side,
    position_limit_id,
    max_net_position_t,
    cast(abs(net_position_t) - max_net_position_t as {{ quantity_total_type() }}) as excess_t,
    not was_breach_day_before as is_new_breach,
    min(position_date) over (
        partition by member_id, commodity_code, breach_episode
    ) as breach_started_on
from breaches
