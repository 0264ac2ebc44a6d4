-- Dashboard login sessions (schema `api`). Idempotent: applied when the API starts.
-- The browser holds a random session id in an HttpOnly cookie; only its SHA-256 is stored here, and
-- the API key itself is never stored nor put in a cookie. A session lives until it expires, is
-- logged out, or its key is revoked (checked on every request through the join with api.keys).
create schema if not exists api;

create table if not exists api.dashboard_sessions (
    session_sha256 bytea primary key,
    key_id         text not null references api.keys (key_id) on delete cascade,
    created_at     timestamptz not null default now(),
    expires_at     timestamptz not null
);
create index if not exists dashboard_sessions_expires_at on api.dashboard_sessions (expires_at);
