-- One row per member, commodity and trading day on which the member's net position that day
-- (|bought - sold| tonnes, int_member_positions_netted) exceeds the position limit in force that
-- day (README "Compliance rules").
--
-- The limit in force on day D: the member's limit for the commodity with effective_from <= D <=
-- effective_to (both dates included, as the compliance drop states them; open-ended when
-- effective_to is null); of several in force, the smallest. A position exactly at the limit is not
-- a breach; a day without a limit in force is not a breach.
with

positions as (

    select * from {{ ref('int_member_positions_netted') }}

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
        ) as tightness

    from positions
    inner join limits
        on positions.member_id = limits.member_id
        and positions.commodity_code = limits.commodity_code
        and limits.effective_from <= positions.position_date
        and (limits.effective_to is null or positions.position_date <= limits.effective_to)

),

breaches as (

    select
        positions.member_position_id as position_breach_id,
        positions.member_id,
        positions.commodity_code,
        positions.position_date as breach_date,
        positions.bought_t,
        positions.sold_t,
        positions.net_position_t,
        case when positions.net_position_t > 0 then 'long' else 'short' end as position_side,
        limits_in_force.position_limit_id,
        limits_in_force.max_net_position_t,
        cast(
            abs(positions.net_position_t) - limits_in_force.max_net_position_t as {{ quantity_total_type() }}
        ) as excess_t

    from positions
    inner join limits_in_force
        on positions.member_position_id = limits_in_force.member_position_id
        and limits_in_force.tightness = 1
    where abs(positions.net_position_t) > limits_in_force.max_net_position_t

)

select * from breaches
