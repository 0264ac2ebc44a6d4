{#-
    OHLCV bars at `interval` ('1m', '5m', '1h', '1d') from a relation of trades, one bar per
    instrument and interval holding at least one trade (an interval without a trade has no bar).

    Conventions (README "Bars and settlement"):
      - a bar covers the half-open [bar_start_at, bar_end_at) and is stamped with its start;
        intervals are aligned to UTC midnight;
      - open / close = price of the first / last trade ordered by (executed_at, trade_id);
      - high / low = highest / lowest trade price; volume_t = sum of quantities;
        value_ghs = sum of price * quantity; vwap = value_ghs / volume_t; trade_count = trades.

    Incremental builds (`incremental` = is_incremental() of the calling model) rebuild every bar of
    the days the run loaded trades of (macros/daily_rebuild.sql); the model's `replace_days` on
    `bar_date` then replaces those days whole, so a bar whose trades were corrected away disappears too.
-#}
{% macro ohlcv_bars(trades, interval, incremental=false) -%}

with trades as (

    select
        instrument_id,
        symbol,
        trade_id,
        executed_at,
        price_ghs_per_t,
        quantity_t,
        value_ghs,
        _loaded_at,
        {{ interval_start('executed_at', interval) }} as bar_start_at
    from {{ trades }}
    {%- if incremental %}
    where {{ utc_date('executed_at') }} in (
        select day from (
            {{ days_to_rebuild([(source('exchange', 'trades'), utc_date('executed_at'))]) }}
        ) as days_to_rebuild
    )
    {%- endif %}

),

sequenced as (

    select
        *,
        row_number() over (
            partition by instrument_id, bar_start_at
            order by executed_at, trade_id
        ) as trade_number,
        row_number() over (
            partition by instrument_id, bar_start_at
            order by executed_at desc, trade_id desc
        ) as trade_number_from_last
    from trades

),

bars as (

    select
        instrument_id,
        symbol,
        bar_start_at,
        max(case when trade_number = 1 then price_ghs_per_t end) as open_ghs_per_t,
        max(price_ghs_per_t) as high_ghs_per_t,
        min(price_ghs_per_t) as low_ghs_per_t,
        max(case when trade_number_from_last = 1 then price_ghs_per_t end) as close_ghs_per_t,
        sum(quantity_t) as volume_t,
        sum(value_ghs) as value_ghs,
        count(*) as trade_count,
        max(_loaded_at) as _loaded_at
    from sequenced
    group by instrument_id, symbol, bar_start_at

)

select
    instrument_id,
    symbol,
    bar_start_at,
    {{ interval_end('bar_start_at', interval) }} as bar_end_at,
    {{ utc_date('bar_start_at') }} as bar_date,
    cast(open_ghs_per_t as {{ price_type() }}) as open_ghs_per_t,
    cast(high_ghs_per_t as {{ price_type() }}) as high_ghs_per_t,
    cast(low_ghs_per_t as {{ price_type() }}) as low_ghs_per_t,
    cast(close_ghs_per_t as {{ price_type() }}) as close_ghs_per_t,
    cast(value_ghs / volume_t as {{ vwap_type() }}) as vwap_ghs_per_t,
    cast(volume_t as {{ quantity_total_type() }}) as volume_t,
    cast(value_ghs as {{ value_type() }}) as value_ghs,
    cast(trade_count as {{ dbt.type_bigint() }}) as trade_count,
    _loaded_at
from bars

{%- endmacro %}

