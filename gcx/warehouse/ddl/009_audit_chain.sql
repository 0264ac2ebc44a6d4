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

-- The end of the chain, as of the last insert statement: what shows rows deleted from the end.
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

-- Each row links to the newest row of the chain. Writers take turns on an advisory lock held to the
-- end of their transaction, and each query of a volatile function sees what committed before it, so
-- links are made one after another even when API processes write at once. The newest row is found
-- by the unique index on seq: linking costs the same whatever the log's length or the batch's size.
-- Security definer: the API's role may insert audit rows but not touch the chain's head itself.
create or replace function api.link_audit_row() returns trigger
language plpgsql security definer set search_path = pg_catalog as $$
declare
    newest record;
begin
    perform pg_advisory_xact_lock(hashtext('gcx audit chain'));
    select seq, row_sha256 into newest from api.audit_log where seq is not null order by seq desc limit 1;
    new.seq := coalesce(newest.seq, 0) + 1;
    new.at := clock_timestamp();
    new.prev_sha256 := coalesce(newest.row_sha256, decode(repeat('00', 32), 'hex'));
    new.row_sha256 := api.audit_row_sha256(
        new.prev_sha256, new.seq, new.at, new.request_id, new.key_id, new.role, new.action,
        new.dataset, new.rows, new.parameters
    );
    return new;
end
$$;

-- Once per insert statement, not per row: one row updated many times in a transaction costs each
-- update a walk over all its earlier versions.
create or replace function api.advance_audit_chain_head() returns trigger
language plpgsql security definer set search_path = pg_catalog as $$
begin
    update api.audit_chain_head set (seq, sha256) = (
        select seq, row_sha256 from api.audit_log where seq is not null order by seq desc limit 1
    );
    return null;
end
$$;

-- Rows written before this file: chained now, in the order they were written (the append-only
-- trigger, api_role.sql, is set aside for this one statement when it exists already).
do $$
declare
    row record;
    prev bytea := decode(repeat('00', 32), 'hex');
    next_seq bigint := 1;
begin
    if exists (select from pg_trigger where tgname = 'audit_log_append_only') then
        alter table api.audit_log disable trigger audit_log_append_only;
    end if;
    for row in select * from api.audit_log where seq is null order by audit_id loop
        update api.audit_log
        set seq = next_seq,
            prev_sha256 = prev,
            row_sha256 = api.audit_row_sha256(
                prev, next_seq, row.at, row.request_id, row.key_id, row.role, row.action, row.dataset,
                row.rows, row.parameters
            )
        where audit_id = row.audit_id
        returning row_sha256 into prev;
        next_seq := next_seq + 1;
    end loop;
    update api.audit_chain_head set seq = next_seq - 1, sha256 = prev;
    if exists (select from pg_trigger where tgname = 'audit_log_append_only') then
        alter table api.audit_log enable trigger audit_log_append_only;
    end if;
end
$$;

drop trigger if exists audit_log_link on api.audit_log;
create trigger audit_log_link before insert on api.audit_log
    for each row execute function api.link_audit_row();
drop trigger if exists audit_log_head on api.audit_log;
create trigger audit_log_head after insert on api.audit_log
    for each statement execute function api.advance_audit_chain_head();
