-- The audit log becomes a hash chain, so that a change made past its append-only trigger (by a
-- superuser with session_replication_role = replica, or with the trigger disabled) is detected by
-- `gcx audit verify` (gcx/governance/audit.py, which recomputes every link in Python, not with
-- these functions). Each row gets the next `seq` and
--     row_sha256 = sha256(prev_sha256 || sha256(field 1) || ... || sha256(field 9))
-- over its fields as text, each field 'v' || value or 'n' for null (unambiguous whatever a value
-- holds). `at` is the server's clock when the row is written: a writer cannot back-date a row.

alter table api.audit_log
    add column if not exists seq bigint unique,
    add column if not exists prev_sha256 bytea,
    add column if not exists row_sha256 bytea;

-- The end of the chain: one row, locked by each insert until its transaction ends, so that links
-- are made one after another even when API processes write at once.
create table if not exists api.audit_chain_head (
    only_row boolean primary key default true check (only_row),
    seq      bigint not null,
    sha256   bytea not null
);
insert into api.audit_chain_head (seq, sha256) values (0, decode(repeat('00', 32), 'hex'))
on conflict do nothing;

create or replace function api.audit_row_sha256(
    prev_sha256 bytea, seq bigint, at timestamptz, request_id uuid, key_id text, role text,
    action text, dataset text, rows bigint, parameters jsonb
) returns bytea
language sql immutable set search_path = pg_catalog as $$
    select sha256(
        prev_sha256
        || sha256(convert_to(coalesce('v' || seq::text, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || to_char(at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || request_id::text, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || key_id, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || role, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || action, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || dataset, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || rows::text, 'n'), 'UTF8'))
        || sha256(convert_to(coalesce('v' || parameters::text, 'n'), 'UTF8'))
    )
$$;

-- Security definer: the API's role may insert audit rows but not touch the chain's head itself.
create or replace function api.link_audit_row() returns trigger
language plpgsql security definer set search_path = pg_catalog as $$
declare
    head api.audit_chain_head;
begin
    select * into head from api.audit_chain_head for update;
    new.seq := head.seq + 1;
    new.at := clock_timestamp();
    new.prev_sha256 := head.sha256;
    new.row_sha256 := api.audit_row_sha256(
        new.prev_sha256, new.seq, new.at, new.request_id, new.key_id, new.role, new.action,
        new.dataset, new.rows, new.parameters
    );
    update api.audit_chain_head set seq = new.seq, sha256 = new.row_sha256;
    return new;
end
$$;

-- Rows written before this file: chained now, in the order they were written (the append-only
-- trigger, api_role.sql, is set aside for this one statement when it exists already).
do $$
declare
    row record;
    head api.audit_chain_head;
begin
    if exists (select from pg_trigger where tgname = 'audit_log_append_only') then
        alter table api.audit_log disable trigger audit_log_append_only;
    end if;
    for row in select audit_id from api.audit_log where seq is null order by audit_id loop
        select * into head from api.audit_chain_head for update;
        update api.audit_log
        set seq = head.seq + 1,
            prev_sha256 = head.sha256,
            row_sha256 = api.audit_row_sha256(
                head.sha256, head.seq + 1, at, request_id, key_id, role, action, dataset, rows, parameters
            )
        where audit_id = row.audit_id;
        update api.audit_chain_head
        set seq = head.seq + 1,
            sha256 = (select row_sha256 from api.audit_log where audit_id = row.audit_id);
    end loop;
    if exists (select from pg_trigger where tgname = 'audit_log_append_only') then
        alter table api.audit_log enable trigger audit_log_append_only;
    end if;
end
$$;

drop trigger if exists audit_log_link on api.audit_log;
create trigger audit_log_link before insert on api.audit_log
    for each row execute function api.link_audit_row();
