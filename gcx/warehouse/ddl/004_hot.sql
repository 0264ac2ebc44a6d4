-- The live feed's hot tables (gcx/live_feed/hot.py): written by the feed consumer, read by the API.
create schema if not exists hot;
-- The live feed's valid trades, the API's tail and stream. seq = the feed message's seq (gaps where a
-- message was quarantined); the last HOT_RETENTION of stored trades (gcx/live_feed.py).
create table if not exists hot.trades (
    seq              bigint primary key,
    trade_id         text not null unique,
    instrument_id    integer not null,
    symbol           text not null,
    executed_at      timestamptz not null,
    price_ghs_per_t  numeric(14, 4) not null,
    quantity_t       numeric(14, 4) not null,
    value_ghs        numeric(20, 4) not null,
    aggressor_side   text,
    buyer_member_id  text,
    seller_member_id text,
    published_at     timestamptz not null,   -- when the exchange published the message
    executed_through timestamptz not null,   -- the latest executed_at up to this seq: a delayed tier
                                             -- sees a prefix by seq, up to where this is old enough
    stored_at        timestamptz not null default now()
);
create index if not exists trades_symbol_seq_idx on hot.trades (symbol, seq);
create index if not exists trades_executed_through_idx on hot.trades (executed_through, seq);
create index if not exists trades_stored_at_idx on hot.trades (stored_at);
-- One row per consumer: where it is (the last feed seq it has fully handled) and what it has done.
create table if not exists hot.consumer_offsets (
    consumer            text primary key,
    position            bigint not null default 0,
    position_published_at timestamptz,
    messages            bigint not null default 0,
    trades              bigint not null default 0,
    quarantined         bigint not null default 0,
    pruned_through      bigint not null default 0,   -- the highest seq retention removed from hot.trades
    updated_at          timestamptz not null default now()
);
