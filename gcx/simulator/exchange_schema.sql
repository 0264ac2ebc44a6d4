-- The GCX exchange source system (OLTP), as the simulator writes it and `gcx import trades` loads it.
-- It stands in for GCX's real trading database: the lakehouse extracts from these tables, so a real
-- export plugs in by filling the same tables (or by a connector that maps onto them).
--
-- Like a real legacy OLTP system it enforces identity (primary keys) but not every business rule:
-- prices and quantities are not range-checked and some references are nullable, so the faults a
-- real exchange database can hold (negative or absurd prices, missing counterparties, timestamps
-- out of session) can occur here and must be caught by the pipeline, not by this schema.
-- Every table has `updated_at`, the high-water mark for incremental extraction. All times UTC.

create table if not exists warehouses (
    warehouse_code  text primary key,           -- two letters, e.g. EJ (Ejura)
    name            text not null,
    region          text not null,
    capacity_t      numeric(12, 3) not null,
    updated_at      timestamptz not null default now()
);

create table if not exists instruments (
    instrument_id   integer primary key,
    symbol          text not null unique,       -- GCX grammar, e.g. GEJWM1; any text for other venues
    venue           text not null default 'GCX',
    commodity_code  text,                       -- WM YM SB SO SS MR; null for other venues
    commodity_name  text,
    colour          text,                       -- white / yellow for maize, else null
    grade           smallint,
    warehouse_code  text references warehouses (warehouse_code),
    tick_size_ghs   numeric(12, 4) not null,
    lot_size_t      numeric(12, 3) not null,
    listed_on       date not null,
    delisted_on     date,
    updated_at      timestamptz not null default now()
);

create table if not exists members (
    member_id       text primary key,           -- e.g. MBR0007
    name            text not null,
    member_type     text not null,              -- broker, bank, trader, processor
    registered_on   date not null,
    status          text not null,              -- active, suspended, terminated
    contact_email   text,                       -- PII
    contact_phone   text,                       -- PII
    updated_at      timestamptz not null default now()
);

create table if not exists beneficial_owners (
    owner_id        text primary key,           -- e.g. BO000123
    full_name       text not null,              -- PII
    national_id     text,                       -- PII, Ghana card GHA-XXXXXXXXX-X
    email           text,                       -- PII
    phone           text,                       -- PII
    date_of_birth   date,                       -- PII
    country         text not null,
    updated_at      timestamptz not null default now()
);

create table if not exists accounts (
    account_id      text primary key,           -- e.g. ACC000456
    member_id       text not null references members (member_id),
    owner_id        text not null references beneficial_owners (owner_id),
    account_type    text not null,              -- proprietary, client
    opened_at       timestamptz not null,
    closed_at       timestamptz,
    status          text not null,              -- open, frozen, closed
    updated_at      timestamptz not null default now()
);

create table if not exists orders (
    order_id        bigint primary key,
    instrument_id   integer not null references instruments (instrument_id),
    member_id       text not null references members (member_id),
    account_id      text not null references accounts (account_id),
    side            text not null,              -- buy, sell
    order_type      text not null,              -- limit, market
    limit_price_ghs_per_t numeric(12, 2),       -- null for market orders
    quantity_t      numeric(12, 3) not null,
    filled_t        numeric(12, 3) not null default 0,
    status          text not null,              -- open, partially_filled, filled, cancelled
    created_at      timestamptz not null,
    updated_at      timestamptz not null
);

create table if not exists order_events (
    event_id        bigint primary key,
    order_id        bigint not null references orders (order_id),
    event_type      text not null,              -- new, modify, cancel, fill
    event_at        timestamptz not null,
    limit_price_ghs_per_t numeric(12, 2),
    quantity_t      numeric(12, 3),             -- order quantity after the event
    updated_at      timestamptz not null
);

create table if not exists trades (
    trade_id        text primary key,           -- the venue's id, as given
    instrument_id   integer not null references instruments (instrument_id),
    executed_at     timestamptz not null,
    price_ghs_per_t numeric(14, 4),             -- not range-checked: see header
    quantity_t      numeric(14, 4),
    buy_order_id    bigint,
    sell_order_id   bigint,
    buyer_member_id  text,
    buyer_account_id text,
    seller_member_id  text,
    seller_account_id text,
    aggressor_side  text,                       -- buy, sell, or null when unknown
    updated_at      timestamptz not null
);
create index if not exists trades_executed_at_idx on trades (executed_at);
create index if not exists trades_updated_at_idx on trades (updated_at);

create table if not exists settlements (
    settlement_id   bigint primary key,
    trade_id        text not null references trades (trade_id),
    member_id       text not null references members (member_id),
    obligation      text not null,              -- pay_cash (buyer), deliver_commodity (seller)
    amount_ghs      numeric(16, 2) not null,
    quantity_t      numeric(14, 4) not null,
    due_on          date not null,              -- T+1 on the trading calendar
    settled_at      timestamptz,
    status          text not null,              -- pending, settled, late, failed
    updated_at      timestamptz not null
);
create index if not exists settlements_updated_at_idx on settlements (updated_at);

create table if not exists warehouse_receipts (
    receipt_id      text primary key,           -- e.g. WR-EJ-000123
    warehouse_code  text not null references warehouses (warehouse_code),
    account_id      text not null references accounts (account_id),
    commodity_code  text not null,
    grade           smallint not null,
    quantity_t      numeric(12, 3) not null,
    deposited_at    timestamptz not null,
    withdrawn_at    timestamptz,
    status          text not null,              -- active, pledged, withdrawn
    updated_at      timestamptz not null
);

create table if not exists trading_calendar (
    calendar_date   date primary key,
    is_trading_day  boolean not null,
    holiday_name    text,
    session_open_at timestamptz,                -- null on non-trading days
    session_close_at timestamptz
);

-- The live market feed: every message the exchange publishes, in order, as the raw text it sent
-- (so a malformed message is kept as it was). `seq` lets a consumer resume exactly where it
-- stopped; a NOTIFY on channel `gcx_feed` with the new `seq` wakes consumers without polling.
create table if not exists feed_messages (
    seq             bigint generated always as identity primary key,
    published_at    timestamptz not null default clock_timestamp(),
    payload         text not null
);
