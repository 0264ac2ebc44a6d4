-- Every failed Dagster run (the run-failure sensor, gcx materialize), for the system-health dashboard.
create schema if not exists ops;
create table if not exists ops.pipeline_failures (
    run_id      text primary key,
    job_name    text not null,
    failed_at   timestamptz not null,
    partition   text,
    failed_steps text[] not null,
    error       text
);
