-- The warehouse's `raw` schema: what the ingestion assets load from the lake, one table per
-- source dataset, named <source>__<dataset>. dbt's staging models are the only readers.
--
-- Rows here passed validation; rows that failed are in raw.quarantine with the reason. Columns
-- mirror the source (same names and types, see docs/sources.md) plus lineage columns:
--   _partition_date  the daily partition the row was ingested in (exchange: updated_at's UTC date,
--                    calendar_date for trading_calendar; the first partition, 2024-01-01, also holds
--                    every earlier row; file drops: the date in the file name)
--   _lake_file       the Parquet file in the lake the row was loaded from (relative to the lake)
--   _source_row      1-based row number within that partition's extract (files: physical line)
--   _loaded_at       when the partition was loaded
-- A partition is replaced as a whole (delete + COPY in one transaction), never appended twice.
-- Mutable source tables (orders, settlements, members, ...) arrive as change rows: one row per
-- version, keyed by (primary key, updated_at); staging keeps the latest version.
-- This schema holds clear PII and is readable only by the platform and compliance roles.
--
-- gcx/ingestion/datasets.py declares the same columns with their validation rules;
-- a test checks that the two agree. Changing a column here means changing it there too.

create schema if not exists raw;

create table if not exists raw.exchange__warehouses (
    warehouse_code text, name text, region text, capacity_t numeric(12, 3), updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__instruments (
    instrument_id integer, symbol text, venue text, commodity_code text, commodity_name text, colour text,
    grade smallint, warehouse_code text, tick_size_ghs numeric(12, 4), lot_size_t numeric(12, 3),
    listed_on date, delisted_on date, updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__members (
    member_id text, name text, member_type text, registered_on date, status text,
    contact_email text, contact_phone text, updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__beneficial_owners (
    owner_id text, full_name text, national_id text, email text, phone text, date_of_birth date,
    country text, updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__accounts (
    account_id text, member_id text, owner_id text, account_type text, opened_at timestamptz,
    closed_at timestamptz, status text, updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__orders (
    order_id bigint, instrument_id integer, member_id text, account_id text, side text, order_type text,
    limit_price_ghs_per_t numeric(12, 2), quantity_t numeric(12, 3), filled_t numeric(12, 3), status text,
    created_at timestamptz, updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__order_events (
    event_id bigint, order_id bigint, event_type text, event_at timestamptz,
    limit_price_ghs_per_t numeric(12, 2), quantity_t numeric(12, 3), updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__trades (
    trade_id text, instrument_id integer, executed_at timestamptz, price_ghs_per_t numeric(14, 4),
    quantity_t numeric(14, 4), buy_order_id bigint, sell_order_id bigint, buyer_member_id text,
    buyer_account_id text, seller_member_id text, seller_account_id text, aggressor_side text,
    updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__settlements (
    settlement_id bigint, trade_id text, member_id text, obligation text, amount_ghs numeric(16, 2),
    quantity_t numeric(14, 4), due_on date, settled_at timestamptz, status text, updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__warehouse_receipts (
    receipt_id text, warehouse_code text, account_id text, commodity_code text, grade smallint,
    quantity_t numeric(12, 3), deposited_at timestamptz, withdrawn_at timestamptz, status text,
    updated_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.exchange__trading_calendar (
    calendar_date date, is_trading_day boolean, holiday_name text, session_open_at timestamptz,
    session_close_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);

-- compliance drops (CSV)
create table if not exists raw.compliance__kyc_checks (
    check_id text, subject_type text, subject_id text, check_type text, status text,
    checked_at timestamptz, expires_on date,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.compliance__sanctions_screening (
    screening_id text, subject_type text, subject_id text, list_name text, screened_at timestamptz,
    result text, match_score double precision,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.compliance__regulatory_filings (
    filing_id text, member_id text, filing_type text, period_end date, due_on date, filed_at timestamptz,
    status text,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.compliance__position_limits (
    limit_id text, member_id text, commodity_code text, max_net_position_t numeric(14, 3),
    effective_from date, effective_to date,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);

-- platform events (JSON lines)
create table if not exists raw.platform__users (
    user_id text, email text, full_name text, phone text, country text, member_id text, role text,
    signed_up_at timestamptz,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.platform__subscriptions (
    subscription_id text, user_id text, plan text, event text, occurred_at timestamptz,
    price_ghs_per_month numeric(12, 2),
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.platform__api_usage (
    request_id text, user_id text, endpoint text, requested_at timestamptz, status_code integer,
    rows bigint, bytes bigint, latency_ms double precision,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);
create table if not exists raw.platform__app_sessions (
    session_id text, user_id text, platform text, started_at timestamptz, ended_at timestamptz,
    pages_viewed integer,
    _partition_date date not null, _lake_file text not null, _source_row integer not null, _loaded_at timestamptz not null default now()
);

-- Loads delete and reconciliation counts one partition at a time.
create index if not exists exchange__warehouses_partition_idx on raw.exchange__warehouses (_partition_date);
create index if not exists exchange__instruments_partition_idx on raw.exchange__instruments (_partition_date);
create index if not exists exchange__members_partition_idx on raw.exchange__members (_partition_date);
create index if not exists exchange__beneficial_owners_partition_idx on raw.exchange__beneficial_owners (_partition_date);
create index if not exists exchange__accounts_partition_idx on raw.exchange__accounts (_partition_date);
create index if not exists exchange__orders_partition_idx on raw.exchange__orders (_partition_date);
create index if not exists exchange__order_events_partition_idx on raw.exchange__order_events (_partition_date);
create index if not exists exchange__trades_partition_idx on raw.exchange__trades (_partition_date);
create index if not exists exchange__settlements_partition_idx on raw.exchange__settlements (_partition_date);
create index if not exists exchange__warehouse_receipts_partition_idx on raw.exchange__warehouse_receipts (_partition_date);
create index if not exists exchange__trading_calendar_partition_idx on raw.exchange__trading_calendar (_partition_date);
create index if not exists compliance__kyc_checks_partition_idx on raw.compliance__kyc_checks (_partition_date);
create index if not exists compliance__sanctions_screening_partition_idx on raw.compliance__sanctions_screening (_partition_date);
create index if not exists compliance__regulatory_filings_partition_idx on raw.compliance__regulatory_filings (_partition_date);
create index if not exists compliance__position_limits_partition_idx on raw.compliance__position_limits (_partition_date);
create index if not exists platform__users_partition_idx on raw.platform__users (_partition_date);
create index if not exists platform__subscriptions_partition_idx on raw.platform__subscriptions (_partition_date);
create index if not exists platform__api_usage_partition_idx on raw.platform__api_usage (_partition_date);
create index if not exists platform__app_sessions_partition_idx on raw.platform__app_sessions (_partition_date);

-- Every row that failed validation, with why and where it came from. Nothing is dropped silently:
-- per partition, source rows = raw rows + quarantined rows.
create table if not exists raw.quarantine (
    source          text not null,          -- exchange, compliance, platform, feed
    dataset         text not null,          -- e.g. trades, kyc_checks
    partition_date  date not null,
    source_file     text not null,          -- drops: the landing file, relative to landing/
                                            -- (compliance/kyc_checks/kyc_checks_2024-01-02.csv);
                                            -- exchange: the lake file, relative to lake/
    source_row      integer,                -- as _source_row (files: the physical line number)
    record_key      text,                   -- the record's id when it could be read
    reason          text not null,          -- every problem, "; "-separated, each
                                            -- "<column>: must <rule> (got <value>)", e.g.
                                            -- "price_ghs_per_t: must be > 0 (got -12.5)"; unreadable
                                            -- lines say "line: ..." and bad headers "file: ..."
    record          text not null,          -- the record as received: the line's text for drops
                                            -- (invalid bytes as \xNN), a JSON object for exchange rows
    quarantined_at  timestamptz not null default now()
);
create index if not exists quarantine_partition_idx on raw.quarantine (source, dataset, partition_date);

-- One row per (dataset, partition) and load: the reconciliation counts the quality checks read.
create table if not exists raw.ingestion_log (
    source          text not null,
    dataset         text not null,
    partition_date  date not null,
    source_rows     bigint not null,        -- rows (or lines) the source had for the partition
    lake_rows       bigint not null,        -- rows written to the lake's Parquet
    raw_rows        bigint not null,        -- rows loaded into raw
    quarantined_rows bigint not null,
    lake_file       text not null,
    loaded_at       timestamptz not null default now(),
    primary key (source, dataset, partition_date)
);
