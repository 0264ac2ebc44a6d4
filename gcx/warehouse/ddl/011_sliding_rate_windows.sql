-- Rate limits become sliding windows (api/ratelimit.py): each row also keeps the count of the minute
-- before the current one, which weighs on the current minute as it slides out.
alter table api.rate_windows add column if not exists previous_used integer not null default 0;
