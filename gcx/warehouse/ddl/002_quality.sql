-- The warehouse's `quality` schema: every check execution's result, per dataset and day, for the
-- dataset catalog and the system-health views. Written by the quality checks (and by other
-- domains' checks through gcx.quality.results.record_check_result).

create schema if not exists quality;

-- One row per check execution and partition it looked at (a check covering several days writes
-- one row per day). `dataset` is the checked asset's name: `exchange__trades` for both
-- raw/exchange__trades and bronze/exchange__trades, `fct_trades` for the mart.
create table if not exists quality.check_results (
    id                   bigint generated always as identity primary key,
    checked_at           timestamptz not null default now(),
    check_name           text not null,          -- the Dagster check's name, e.g. gx_suite
    asset_key            text not null,          -- e.g. raw/exchange__trades
    dataset              text,                   -- e.g. exchange__trades
    partition_date       date,                   -- null when the check is not about one day
    passed               boolean not null,
    expectations_total   integer,
    expectations_passed  integer,
    details              jsonb not null default '{}'::jsonb,  -- failures with observed values, counts
    run_id               text                    -- the Dagster run, when run by Dagster
);
create index if not exists check_results_dataset_day_idx
    on quality.check_results (dataset, partition_date, asset_key, check_name, checked_at desc);

-- Quality per dataset and day, from each check's latest result on that day:
--   available  every check passed         degraded  at least one check failed
--   missing    a day between the dataset's first and last checked day with no check result
--              (its partition was not loaded, or not checked)
create or replace view quality.dataset_daily_quality as
with latest as (
    select distinct on (dataset, partition_date, asset_key, check_name)
           dataset, partition_date, passed
    from quality.check_results
    where dataset is not null and partition_date is not null
    order by dataset, partition_date, asset_key, check_name, checked_at desc, id desc
),
per_day as (
    select dataset, partition_date,
           count(*)::integer as checks_total,
           (count(*) filter (where passed))::integer as checks_passed
    from latest
    group by dataset, partition_date
),
days as (
    select span.dataset, day::date as partition_date
    from (select dataset, min(partition_date) as first_day, max(partition_date) as last_day
          from per_day group by dataset) span
    cross join lateral generate_series(span.first_day, span.last_day, interval '1 day') as day
)
select d.dataset,
       d.partition_date,
       coalesce(p.checks_total, 0) as checks_total,
       coalesce(p.checks_passed, 0) as checks_passed,
       round(p.checks_passed::numeric / nullif(p.checks_total, 0), 4) as score,
       case when p.checks_total is null then 'missing'
            when p.checks_passed = p.checks_total then 'available'
            else 'degraded' end as condition
from days d
left join per_day p using (dataset, partition_date);
