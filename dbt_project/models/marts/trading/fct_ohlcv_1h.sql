-- 1h OHLCV bars: see macros/ohlcv_bars.sql and README "Bars and settlement".
-- The unique_key is the unit an incremental build replaces (a UTC day of bars), not the row key:
-- rows are unique on (instrument_id, bar_start_at).
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_days',
        unique_key='bar_date',
        on_schema_change='fail',
        indexes=[
            {'columns': ['symbol', 'bar_start_at']},
            {'columns': ['bar_start_at']},
            {'columns': ['bar_date']},
        ]
    )
}}

{{ ohlcv_bars(ref('fct_trades'), '1h', incremental=is_incremental()) }}
