-- Partitions the retention policy moved from the warehouse to the lake's archive (gcx/governance/retention.py).
create schema if not exists governance;
create table if not exists governance.archived_partitions (
    schema_name      text not null,
    table_name       text not null,
    partition_date   date not null,
    partition_column text not null,
    rows             bigint not null,
    bytes            bigint not null,
    path             text not null,      -- absolute: the Parquet file in the lake's archive
    archived_at      timestamptz not null default now(),
    primary key (schema_name, table_name, partition_date)
);
