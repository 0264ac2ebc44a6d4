"""The warehouse tables the models read and write, and their writers.

- ml.surveillance_features, ml.member_risk_features: the feature tables (rebuilt by each run).
- compliance.surveillance_alerts: one row per alert; a day's rows are replaced when it is re-scored.
- compliance.member_risk_scores: one row per member and day; replaced likewise.

Re-scoring a day deletes and inserts that day's rows in one transaction, so a re-run neither
duplicates nor leaves a half-written day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
import psycopg

from ml.features import MEMBER_RISK_FEATURES, MEMBER_RISK_KEY, SURVEILLANCE_FEATURES, SURVEILLANCE_KEY

SURVEILLANCE_ALERTS_DDL = """
create schema if not exists compliance;
create table if not exists compliance.surveillance_alerts (
    alert_id      text primary key,
    alert_date    date not null,
    pattern       text not null check (pattern in
                  ('wash_trade', 'circular_trading', 'spoofing', 'marking_the_close', 'pump_and_dump', 'anomaly')),
    symbol        text,
    member_ids    text[] not null,
    trade_ids     text[] not null,
    order_ids     text[] not null,
    score         double precision not null check (score between 0 and 1),
    detector      text not null,
    model_name    text not null,
    model_version text not null,
    reasons       jsonb not null,
    explanation   text not null,
    scored_at     timestamptz not null
);
create index if not exists surveillance_alerts_date on compliance.surveillance_alerts (alert_date);
comment on table compliance.surveillance_alerts is
    'Market-surveillance alerts from the gcx_surveillance champion (ml/README.md); a day is replaced when re-scored.';
"""

MEMBER_RISK_SCORES_DDL = """
create schema if not exists compliance;
do $$ begin  -- it was in marts, which the BI role reads whole: compliance data belongs in compliance
    if to_regclass('marts.member_risk_scores') is not null and to_regclass('compliance.member_risk_scores') is null then
        alter table marts.member_risk_scores set schema compliance;
    end if;
end $$;
create table if not exists compliance.member_risk_scores (
    member_id                   text not null,
    score_date                  date not null,
    horizon_days                integer not null,
    probability_settlement_fail double precision check (probability_settlement_fail between 0 and 1),
    risk_band                   text not null,
    model_name                  text not null,
    model_version               text not null,
    top_factors                 jsonb not null,
    scored_at                   timestamptz not null,
    primary key (member_id, score_date)
);
do $$ begin  -- once, also on a table made before "insufficient history": a missing probability says why
    if not exists (select from pg_constraint where conname = 'member_risk_scores_band_matches_probability') then
        alter table compliance.member_risk_scores alter column probability_settlement_fail drop not null;
        alter table compliance.member_risk_scores drop constraint if exists member_risk_scores_risk_band_check;
        alter table compliance.member_risk_scores add constraint member_risk_scores_band_matches_probability check (
            risk_band in ('low', 'medium', 'high', 'insufficient_history')
            and (probability_settlement_fail is null) = (risk_band = 'insufficient_history'));
    end if;
end $$;
comment on table compliance.member_risk_scores is
    'Probability that, of a member''s obligations due in the horizon_days after score_date, one fails (unpaid 5 days after its deadline) or at least two are paid late; gcx_member_risk champion. Only members active at the end of score_date are scored. No probability (risk_band insufficient_history) while no model version has learned from known outcomes.';
"""


MODEL_STATUS_DDL = """
create schema if not exists ml;
create table if not exists ml.model_status (
    model_name       text primary key,
    champion_version text,
    note             text not null,
    decided_at       timestamptz not null
);
comment on table ml.model_status is
    'Per registered model: its champion after the last training run, and why that run did or did not change it.';
"""


def record_model_status(
    conn: psycopg.Connection, name: str, champion_version: str | None, note: str, decided_at: datetime
) -> None:
    """What the last training run decided for model `name`, for the catalog and the run log alike."""
    with conn.transaction():
        conn.execute(MODEL_STATUS_DDL)
        conn.execute(
            """
            insert into ml.model_status (model_name, champion_version, note, decided_at) values (%s, %s, %s, %s)
            on conflict (model_name) do update set champion_version = excluded.champion_version,
                note = excluded.note, decided_at = excluded.decided_at
            """,
            (name, champion_version, note, decided_at),
        )


def write_features(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> int:
    """Replace ml.<table> with `frame` (key, feature columns and, for surveillance, evidence ids)."""
    if table == "surveillance_features":
        columns = {
            **dict.fromkeys(SURVEILLANCE_KEY, "text"),
            **dict.fromkeys(SURVEILLANCE_FEATURES, "double precision"),
        }
        columns |= {
            "activity_date": "date",
            "trade_ids": "text[]",
            "order_ids": "text[]",
            "counterparty_ids": "text[]",
        }
    else:
        columns = {
            **dict.fromkeys(MEMBER_RISK_KEY, "text"),
            **dict.fromkeys(MEMBER_RISK_FEATURES, "double precision"),
        }
        columns |= {"as_of_date": "date"}
    with conn.transaction():
        conn.execute("create schema if not exists ml")
        conn.execute(f"drop table if exists ml.{table}")
        conn.execute(f"create table ml.{table} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        names = list(columns)
        with conn.cursor().copy(f"copy ml.{table} ({', '.join(names)}) from stdin") as copy:
            for row in frame[names].itertuples(index=False):
                copy.write_row([None if _missing(v) else v for v in row])
    return len(frame)


def read_features(conn: psycopg.Connection, table: str) -> pd.DataFrame:
    cursor = conn.execute(f"select * from ml.{table}")
    frame = pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])
    numeric = SURVEILLANCE_FEATURES if table == "surveillance_features" else MEMBER_RISK_FEATURES
    frame[numeric] = frame[numeric].astype(float)
    return frame


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def replace_alerts(conn: psycopg.Connection, days: Iterable[date], alerts: pd.DataFrame) -> int:
    days = sorted(set(days))
    with conn.transaction():
        conn.execute(SURVEILLANCE_ALERTS_DDL)
        conn.execute("delete from compliance.surveillance_alerts where alert_date = any(%s)", (days,))
        with conn.cursor() as cursor:
            cursor.executemany(
                """
                insert into compliance.surveillance_alerts (alert_id, alert_date, pattern, symbol, member_ids,
                    trade_ids, order_ids, score, detector, model_name, model_version, reasons, explanation, scored_at)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
                """,
                [
                    (
                        a.alert_id,
                        a.alert_date,
                        a.pattern,
                        a.symbol,
                        list(a.member_ids),
                        list(a.trade_ids),
                        list(a.order_ids),
                        a.score,
                        a.detector,
                        a.model_name,
                        a.model_version,
                        json.dumps(a.reasons),
                        a.explanation,
                        a.scored_at,
                    )
                    for a in alerts.itertuples(index=False)
                ],
            )
    return len(alerts)


def replace_member_scores(conn: psycopg.Connection, days: Iterable[date], scores: pd.DataFrame) -> int:
    days = sorted(set(days))
    with conn.transaction():
        conn.execute(MEMBER_RISK_SCORES_DDL)
        conn.execute("delete from compliance.member_risk_scores where score_date = any(%s)", (days,))
        with conn.cursor() as cursor:
            cursor.executemany(
                """
                insert into compliance.member_risk_scores (member_id, score_date, horizon_days,
                    probability_settlement_fail, risk_band, model_name, model_version, top_factors, scored_at)
                values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)
                """,
                [
                    (
                        s.member_id,
                        s.score_date,
                        int(s.horizon_days),
                        None
                        if _missing(s.probability_settlement_fail)
                        else float(s.probability_settlement_fail),
                        s.risk_band,
                        s.model_name,
                        s.model_version,
                        json.dumps(s.top_factors),
                        s.scored_at,
                    )
                    for s in scores.itertuples(index=False)
                ],
            )
    return len(scores)
