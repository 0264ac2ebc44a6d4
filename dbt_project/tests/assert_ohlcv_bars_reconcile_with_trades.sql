-- Every interval's bars add up to the trades: per instrument and day, the bars' volume, value
-- and trade count equal fct_trades'. Catches a trade lost or counted twice by an incremental build.
{% set intervals = ['1m', '5m', '1h', '1d'] %}
with

trades as (

    select
        instrument_id,
        trade_date,
        sum(quantity_t) as volume_t,
        sum(value_ghs) as value_ghs,
        count(*) as trade_count
    from {{ ref('fct_trades') }}
    group by instrument_id, trade_date

),

{% for interval in intervals %}
bars_{{ interval }} as (

    select
        '{{ interval }}' as bar_interval,
        instrument_id,
        bar_date,
        sum(volume_t) as volume_t,
        sum(value_ghs) as value_ghs,
        sum(trade_count) as trade_count
    from {{ ref('fct_ohlcv_' ~ interval) }}
    group by instrument_id, bar_date

),
{% endfor %}

bars as (

    {% for interval in intervals %}
    select * from bars_{{ interval }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

bar_intervals as (

    {% for interval in intervals %}
    select '{{ interval }}' as bar_interval
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

expected as (

    select bar_intervals.bar_interval, trades.*
    from trades
    cross join bar_intervals

)

select
    coalesce(expected.bar_interval, bars.bar_interval) as bar_interval,
    coalesce(expected.instrument_id, bars.instrument_id) as instrument_id,
    coalesce(expected.trade_date, bars.bar_date) as trade_date,
    expected.volume_t as trades_volume_t,
    bars.volume_t as bars_volume_t,
    expected.trade_count as trades_count,
    bars.trade_count as bars_trade_count
from expected
full outer join bars
    on expected.bar_interval = bars.bar_interval
    and expected.instrument_id = bars.instrument_id
    and expected.trade_date = bars.bar_date
where expected.volume_t is null
    or bars.volume_t is null
    or expected.volume_t <> bars.volume_t
    or expected.value_ghs <> bars.value_ghs
    or expected.trade_count <> bars.trade_count
