-- The API's own tables in the warehouse (schema `api`): keys (gcx/access/keys.py), rate-limit
-- windows, the request and audit logs, dashboard sessions. Keys are stored as a SHA-256 of their
-- secret part only; the key itself is shown once, when it is created.

create schema if not exists api;

create table if not exists api.keys (
    key_id        text primary key,                 -- the public part of a key: gcx_<key_id>_<secret>
    secret_sha256 bytea not null,
    name          text not null,
    tier          text not null check (tier in ('free', 'member', 'pro')),
    role          text not null check (role in ('quant', 'analyst', 'compliance', 'executive', 'admin')),
    created_at    timestamptz not null default now(),
    revoked_at    timestamptz
);

-- Each key's current rate-limit window (api/ratelimit.py), one row per key, shared by every API
-- process. Unlogged: after a crash the windows start afresh, which forgives at most a minute's use.
create unlogged table if not exists api.rate_windows (
    key_id     text primary key,
    started_at timestamptz not null,
    used       integer not null
);

-- One row per HTTP request (and per WebSocket session): what the platform marts meter.
create table if not exists api.request_log (
    request_id   uuid primary key,
    requested_at timestamptz not null,
    key_id       text,                              -- null when no valid key was presented
    tier         text,
    role         text,
    method       text not null,
    endpoint     text not null,                     -- the route template, e.g. /v1/trades
    path         text not null,
    status       smallint not null,
    rows         bigint,                            -- data rows returned, when the route returns data
    bytes        bigint not null,                   -- response body bytes
    latency_ms   double precision not null,         -- until the last byte was sent
    client       text
);
create index if not exists request_log_requested_at on api.request_log (requested_at);

-- Every access to data: who read which dataset, with which parameters, and how many rows.
create table if not exists api.audit_log (
    audit_id     bigserial primary key,
    at           timestamptz not null default now(),
    request_id   uuid,
    key_id       text,
    role         text,
    action       text not null,                     -- read | export | stream | subscribe | key_created | key_revoked
    dataset      text,
    rows         bigint,
    parameters   jsonb not null default '{}'
);
create index if not exists audit_log_at on api.audit_log (at);
-- Dashboard login sessions (api/dashboards/sessions.py).
-- The browser holds a random session id in an HttpOnly cookie; only its SHA-256 is stored here, and
-- the API key itself is never stored nor put in a cookie. A session lives until it expires, is
-- logged out, or its key is revoked (checked on every request through the join with api.keys).
create table if not exists api.dashboard_sessions (
    session_sha256 bytea primary key,
    key_id         text not null references api.keys (key_id) on delete cascade,
    created_at     timestamptz not null default now(),
    expires_at     timestamptz not null
);
create index if not exists dashboard_sessions_expires_at on api.dashboard_sessions (expires_at);
