-- The read-only BI role (`gcx db bi-role`): Metabase, Superset or any SQL client sees the schema
-- `marts` of the warehouse (masked PII) and nothing else: not raw, staging, intermediate,
-- compliance, restricted, snapshots, api, quality, ops, nor the other databases' tables.
-- Idempotent; the role and database names are filled in by gcx/bi.py (quoted by psycopg).

alter role {role} with login nosuperuser nocreatedb nocreaterole noinherit noreplication nobypassrls
    connection limit 20;
-- Every session read-only, and no runaway dashboard query holds the warehouse for long.
alter role {role} set default_transaction_read_only = on;
alter role {role} set statement_timeout = '5min';

grant connect on database {database} to {role};
create schema if not exists marts;
grant usage on schema marts to {role};
grant select on all tables in schema marts to {role};

-- dbt rebuilds a table model by creating a new table (<name>__dbt_tmp), renaming it over the old
-- one and dropping the old: grants on the old table are gone with it. Default privileges give
-- SELECT on every table and view that this user (the one dbt and the ML scoring connect as: the
-- platform's database user) creates in `marts` from now on, so the role keeps reading each rebuilt
-- mart without a re-grant after each dbt build.
alter default privileges in schema marts grant select on tables to {role};
