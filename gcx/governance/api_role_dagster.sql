-- What the API's role (gcx/governance/roles.py) may read of Dagster's storage, the `dagster` database:
-- the few facts the dataset catalog and the system-health dashboard show, through three functions, and
-- no table at all. Idempotent; run as the platform's database user (the owner of Dagster's tables),
-- with {role} and {database} filled in and quoted by psycopg.
--
-- Why functions and not SELECT on the tables: Dagster creates its tables the first time one of its
-- processes opens the instance, which can be after the API started (`gcx up` starts both at once), and
-- a grant cannot name a table that does not exist yet. A function's body is resolved when it is called,
-- so these work from the moment Dagster's tables appear. They also narrow the read to the columns shown:
-- not the run bodies (run config), tags or event payloads. Each is SECURITY DEFINER (it reads as the
-- tables' owner) with a fixed search_path and only typed arguments used as values: the caller chooses
-- nothing but which runs or asset keys.

grant connect on database {database} to {role};
create schema if not exists api_read;
revoke all on schema api_read from public;
grant usage on schema api_read to {role};

set local check_function_bodies = off;  -- Dagster's tables may not exist yet (see above)

-- Runs created in [created_from, created_before) (UTC wall time, as Dagster stores it), oldest first.
create or replace function api_read.pipeline_runs(created_from timestamp, created_before timestamp)
returns table (
    run_id text, job_name text, status text, started_at timestamptz, ended_at timestamptz,
    duration_min double precision
)
language sql stable security definer set search_path = pg_catalog, pg_temp
as $$
    select runs.run_id::text, runs.pipeline_name::text, runs.status::text,
           to_timestamp(coalesce(runs.start_time, extract(epoch from runs.create_timestamp))),
           to_timestamp(runs.end_time),
           ((runs.end_time - runs.start_time) / 60.0)::float8
    from public.runs
    where runs.create_timestamp >= created_from and runs.create_timestamp < created_before
    order by runs.create_timestamp, runs.run_id
$$;

-- The last materialization of each asset key given (JSON arrays, as Dagster stores them).
create or replace function api_read.asset_materializations(wanted text[])
returns table (asset_key text, last_materialization_timestamp timestamp)
language sql stable security definer set search_path = pg_catalog, pg_temp
as $$
    select keys.asset_key, keys.last_materialization_timestamp
    from public.asset_keys as keys
    where keys.asset_key = any(wanted)
$$;

-- Per asset key: the latest result of each of its checks (the dbt tests), counted.
create or replace function api_read.asset_check_results(wanted text[])
returns table (asset_key text, passed bigint, total bigint)
language sql stable security definer set search_path = pg_catalog, pg_temp
as $$
    select latest.asset_key, count(*) filter (where latest.execution_status = 'SUCCEEDED'), count(*)
    from (select distinct on (checks.asset_key, checks.check_name) checks.asset_key, checks.execution_status
          from public.asset_check_executions as checks
          where checks.asset_key = any(wanted)
            and checks.execution_status in ('SUCCEEDED', 'FAILED')
          order by checks.asset_key, checks.check_name, checks.id desc) as latest
    group by latest.asset_key
$$;

-- A new function may be run by everyone (PUBLIC) unless revoked: only the API's role runs these.
revoke all on function api_read.pipeline_runs(timestamp, timestamp) from public;
revoke all on function api_read.asset_materializations(text[]) from public;
revoke all on function api_read.asset_check_results(text[]) from public;
grant execute on function api_read.pipeline_runs(timestamp, timestamp) to {role};
grant execute on function api_read.asset_materializations(text[]) to {role};
grant execute on function api_read.asset_check_results(text[]) to {role};
