-- The API's database role (gcx/governance/roles.py): what the API process may do in the warehouse,
-- and nothing more. Idempotent; run as the platform's database user (the owner of every schema),
-- with {role} and {database} filled in and quoted by psycopg.
--
-- Reads: the schemas it serves (marts, compliance, restricted: the compliance and admin API roles
-- read clear PII there, masked elsewhere), the live feed's hot tables, the ML feature tables (online
-- scoring), quality results, pipeline
-- failures (dashboards), archived partitions (exports), API keys. Writes: one row per request and
-- per data access (api.request_log, api.audit_log: INSERT only), dashboard sessions. No UPDATE,
-- DELETE or TRUNCATE on the audit log, no DDL, no raw/staging/intermediate/snapshots.

alter role {role} with login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls;

-- TEMPORARY: an export that reaches archived partitions loads them into a temporary table.
grant connect, temporary on database {database} to {role};

-- Schemas read whole. dbt (and the feed consumer, the quality checks) create and recreate their
-- tables as the platform's user: default privileges make each new table readable by the role with
-- no re-grant, as for the BI role (gcx/bi_role.sql). The schemas are created here if missing so
-- that the default privileges are in place before the first table.
create schema if not exists marts;
create schema if not exists compliance;
create schema if not exists restricted;
create schema if not exists hot;
create schema if not exists quality;
create schema if not exists ops;
create schema if not exists governance;
create schema if not exists ml;
grant usage on schema marts, compliance, restricted, hot, quality, ops, governance, ml to {role};
grant select on all tables in schema marts, compliance, restricted, hot, quality, ops, governance, ml
    to {role};
alter default privileges in schema marts grant select on tables to {role};
alter default privileges in schema compliance grant select on tables to {role};
alter default privileges in schema restricted grant select on tables to {role};
alter default privileges in schema hot grant select on tables to {role};
alter default privileges in schema quality grant select on tables to {role};
alter default privileges in schema ops grant select on tables to {role};
alter default privileges in schema governance grant select on tables to {role};
alter default privileges in schema ml grant select on tables to {role};

-- The API's own tables: table by table, exactly what the code does with each.
grant usage on schema api to {role};
grant select on api.keys to {role};
grant insert on api.request_log, api.audit_log to {role};
grant select on api.request_log to {role};  -- the system-health dashboard's API latency and errors
grant usage on sequence api.audit_log_audit_id_seq to {role};
grant select, insert, update, delete on api.dashboard_sessions to {role};
grant select, insert, update on api.rate_windows to {role};
grant select, insert, update on api.export_usage to {role};
revoke update, delete, truncate on api.audit_log from {role};

-- The audit log is append-only for everyone, the platform's own user included: privileges do not
-- bind a table's owner or a superuser, this trigger does (changing it takes a deliberate
-- ALTER TABLE ... DISABLE TRIGGER by the owner). Nothing in the platform updates or deletes audit
-- rows: privacy erasure does not need to (the log holds key ids and query parameters, no personal
-- data of platform users), and the retention policy keeps the audit log in the warehouse.
create or replace function api.refuse_audit_log_change() returns trigger
language plpgsql as $$
begin
    raise exception 'api.audit_log is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
end
$$;
-- Statement-level, so that a change refused is refused even when it matches no row.
drop trigger if exists audit_log_append_only on api.audit_log;
create trigger audit_log_append_only
    before update or delete or truncate on api.audit_log
    for each statement execute function api.refuse_audit_log_change();
