-- The key of the PII pseudonyms: HMAC-SHA256 of the normalised value (trimmed, lower case) under a
-- key generated per installation (gcx/warehouse/pii.py installs it at first start). Only the
-- platform's owner reads it: dbt's models call private.pii_hash(); the API and BI roles have no
-- usage on this schema. The key is stored as its two HMAC pads, never in dbt's compiled SQL.
create schema if not exists private;
revoke all on schema private from public;

create table if not exists private.pii_key (
    id           boolean primary key default true check (id),   -- one key at a time
    inner_pad    bytea not null,                                 -- key xor 0x36 (64 bytes)
    outer_pad    bytea not null,                                 -- key xor 0x5c (64 bytes)
    fingerprint  text not null,                                  -- sha256 of the key: which key, not the key
    installed_at timestamptz not null default now()
);

-- HMAC-SHA256 (RFC 2104) with PostgreSQL's own sha256(); null stays null (strict).
create or replace function private.pii_hash(value text) returns text
language sql stable strict as $$
    select encode(sha256(outer_pad || sha256(inner_pad || convert_to(lower(trim(value)), 'UTF8'))), 'hex')
    from private.pii_key
$$;
