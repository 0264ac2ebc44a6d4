-- Dashboard sessions also end after IDLE minutes without a request (api/dashboards/sessions.py),
-- not only at their absolute expiry.
alter table api.dashboard_sessions add column if not exists last_seen_at timestamptz not null default now();
