-- Exports per API key and UTC day: what the tiers' daily export quota counts (api/export_quota.py).
create table if not exists api.export_usage (
    key_id  text not null,
    day     date not null,
    exports integer not null,
    primary key (key_id, day)
);
