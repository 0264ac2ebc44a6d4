"""What a compliance report contains: its sections, each one query on the marts for a period.

Every section reads the compliance and trading marts (never raw); its rows are what the PDF's table
shows (truncated) and what the XLSX sheet and the CSV hold (all of them). A section whose source
table does not exist yet is *not available* and says why, rather than showing zero rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg

from gcx.reports.archive import Period


@dataclass(frozen=True)
class SectionSpec:
    key: str
    """Sheet and CSV name."""
    title: str
    description: str
    table: str
    """The mart the rows come from; absent means the section is not available."""
    query: str
    """Select with %(start)s and %(end)s (period days, both included)."""
    category_column: str
    """Charted as rows per value of this column (one-day reports and sections without a date)."""
    date_column: str | None = None
    """Charted as rows per day over a multi-day period."""
    unavailable_reason: str = ""


@dataclass(frozen=True)
class Section:
    spec: SectionSpec
    columns: list[str]
    rows: list[tuple[Any, ...]]
    available: bool = True

    @property
    def count(self) -> int | None:
        """Rows in the period; None when the section is not available (not zero)."""
        return len(self.rows) if self.available else None

    @property
    def note(self) -> str:
        return "" if self.available else self.spec.unavailable_reason


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        key="large_trades",
        title="Large trades",
        description="GCX trades of GHS 1,000,000 or more, or 500 t or more, executed in the period; largest first.",
        table="compliance.fct_large_trades",
        query="""
            select trade_id, trade_date, executed_at, symbol, commodity_code, buyer_member_id,
                   seller_member_id, price_ghs_per_t, quantity_t, value_ghs,
                   is_over_value_threshold, is_over_quantity_threshold, is_same_beneficial_owner
            from compliance.fct_large_trades
            where trade_date between %(start)s and %(end)s
            order by value_ghs desc, trade_id
        """,
        category_column="commodity_code",
        date_column="trade_date",
    ),
    SectionSpec(
        key="position_limit_breaches",
        title="Position-limit breaches",
        description="Members' daily net positions over the limit in force that day; largest excess first.",
        table="compliance.fct_position_limit_breaches",
        query="""
            select position_breach_id, breach_date, member_id, commodity_code, bought_t, sold_t,
                   net_position_t, position_side, position_limit_id, max_net_position_t, excess_t
            from compliance.fct_position_limit_breaches
            where breach_date between %(start)s and %(end)s
            order by excess_t desc, position_breach_id
        """,
        category_column="commodity_code",
        date_column="breach_date",
    ),
    SectionSpec(
        key="surveillance_alerts",
        title="Surveillance alerts",
        description="Market-abuse alerts raised by the surveillance model for the period; highest score first.",
        table="compliance.surveillance_alerts",
        query="""
            select alert_id, alert_date, pattern, symbol, member_ids, trade_ids, score, detector,
                   model_version, explanation, reasons::text as reasons, scored_at
            from compliance.surveillance_alerts
            where alert_date between %(start)s and %(end)s
            order by score desc, alert_id
        """,
        category_column="pattern",
        date_column="alert_date",
        unavailable_reason="surveillance alerts not available: the scoring model has not run",
    ),
    SectionSpec(
        key="kyc",
        title="KYC expiring, expired or failed",
        description=(
            "Members and beneficial owners whose KYC is failed, expired or expiring within 30 days, "
            "as of the compliance marts' as-of date (column as_of_date)."
        ),
        table="compliance.dim_kyc_subjects",
        query="""
            select kyc_subject_id, subject_type, subject_id, member_name, kyc_status, is_failed,
                   is_expired, is_expiring, expires_on, last_checked_at, as_of_date
            from compliance.dim_kyc_subjects
            where is_failed or is_expired or is_expiring
            order by case kyc_status when 'failed' then 0 when 'expired' then 1 else 2 end,
                     expires_on nulls last, kyc_subject_id
        """,
        category_column="kyc_state",
    ),
    SectionSpec(
        key="sanctions_hits",
        title="Sanctions hits",
        description="Screenings in the period with a potential or confirmed match; confirmed first.",
        table="compliance.fct_sanctions_hits",
        query="""
            select screening_id, screened_date, screened_at, subject_type, subject_id, list_name,
                   screening_result, match_score
            from compliance.fct_sanctions_hits
            where screened_date between %(start)s and %(end)s
            order by is_confirmed desc, match_score desc, screening_id
        """,
        category_column="screening_result",
        date_column="screened_date",
    ),
    SectionSpec(
        key="settlement_fails",
        title="Settlement fails",
        description="Settlement obligations due in the period that the exchange marked failed; largest first.",
        table="marts.fct_settlements",
        query="""
            select settlement_id, due_on, trade_id, symbol, commodity_code, member_id, obligation,
                   amount_ghs, quantity_t, settlement_status
            from marts.fct_settlements
            where is_failed and due_on between %(start)s and %(end)s
            order by amount_ghs desc nulls last, settlement_id
        """,
        category_column="member_id",
        date_column="due_on",
    ),
)


def table_exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]


def fetch_section(conn: psycopg.Connection, spec: SectionSpec, period: Period) -> Section:
    if not table_exists(conn, spec.table):
        return Section(spec, columns=[], rows=[], available=False)
    cursor = conn.execute(spec.query, {"start": period.start, "end": period.end})
    columns = [column.name for column in cursor.description]
    return Section(spec, columns=columns, rows=cursor.fetchall())


def category_counts(section: Section, period: Period, through: date | None = None) -> dict[str, int]:
    """Rows per category, or per day over a multi-day period (every day of the period up to
    `through`, the data's last day, so a day without rows shows as zero rather than vanishing)."""
    counts: dict[str, int] = {}
    if section.spec.date_column and period.days > 1:
        last = min(period.end, through) if through else period.end
        counts = {
            (period.start + timedelta(days=n)).isoformat(): 0 for n in range((last - period.start).days + 1)
        }
        index = section.columns.index(section.spec.date_column)
        for row in section.rows:
            day: date = row[index]
            counts[day.isoformat()] = counts.get(day.isoformat(), 0) + 1
        return dict(sorted(counts.items()))
    if section.spec.category_column == "kyc_state":
        for row in section.rows:
            record = dict(zip(section.columns, row, strict=True))
            state = "failed" if record["is_failed"] else "expired" if record["is_expired"] else "expiring"
            counts[state] = counts.get(state, 0) + 1
        return counts
    index = section.columns.index(section.spec.category_column)
    for row in section.rows:
        label = str(row[index])
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
