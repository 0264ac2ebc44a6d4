"""Compliance file drops: KYC checks, sanctions screening, regulatory filings, position limits.

One CSV per dataset per trading day with content. The first day's drops carry the state the
compliance system already held (each subject's latest checks, a full screening run, the limits in
force); later drops carry what happened that day. The datasets refer to the exchange's members and
beneficial owners by id; some members trade past their position limits (``truth/limit_breaches.csv``).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from gcx.simulator.filedrops import Field, FileDataset, Row
from gcx.simulator.market import TRADES_PER_DAY_AT_SCALE_1
from gcx.simulator.reference import COMMODITIES, NEVER, Reference
from gcx.simulator.trading_calendar import (
    US_PER_DAY,
    TradingCalendar,
    day_number,
    from_day_number,
    iso_day,
    iso_utc,
)

KYC_CHECKS = FileDataset(
    "compliance",
    "kyc_checks",
    (
        Field("check_id", "id", description="KYC000000123; unique across drops"),
        Field("subject_type", "enum", description="member | beneficial_owner"),
        Field("subject_id", "subject_ref", description="members.member_id or beneficial_owners.owner_id"),
        Field("check_type", "enum", description="identity | address | source_of_funds"),
        Field(
            "status",
            "enum",
            description="passed | failed | pending (a pending check is followed by a new check)",
        ),
        Field("checked_at", "timestamp", description="UTC, ISO-8601 with Z, seconds"),
        Field(
            "expires_on",
            "date",
            required=False,
            description="passed checks only: identity 2 years, others 1 year",
        ),
    ),
    "Know-your-customer checks of members and beneficial owners.",
)
SANCTIONS_SCREENING = FileDataset(
    "compliance",
    "sanctions_screening",
    (
        Field("screening_id", "id", description="SCR000000123"),
        Field("subject_type", "enum", description="member | beneficial_owner"),
        Field("subject_id", "subject_ref"),
        Field("list_name", "enum", description="UN | OFAC | EU | GH-FIC"),
        Field("screened_at", "timestamp"),
        Field("result", "enum", description="clear | potential_match | confirmed_match"),
        Field("match_score", "number", description="0..1, the screening engine's name-match score"),
    ),
    "Screening of every subject against four sanctions lists: all at the start, then every 30 days and on onboarding.",
)
REGULATORY_FILINGS = FileDataset(
    "compliance",
    "regulatory_filings",
    (
        Field("filing_id", "id", description="FIL000123; a filing appears once, when its status is final"),
        Field("member_id", "member_ref"),
        Field(
            "filing_type",
            "enum",
            description="annual_return | capital_adequacy | suspicious_activity_report | audit_report",
        ),
        Field("period_end", "date"),
        Field("due_on", "date"),
        Field("filed_at", "timestamp", required=False, description="empty when missing"),
        Field("status", "enum", description="filed (on time) | late | missing (not filed 30 days after due)"),
    ),
    "Members' regulatory filings.",
)
POSITION_LIMITS = FileDataset(
    "compliance",
    "position_limits",
    (
        Field("limit_id", "id", description="PL000123; re-sent with effective_to set when superseded"),
        Field("member_id", "member_ref"),
        Field("commodity_code", "enum", description="WM YM SB SO SS MR"),
        Field(
            "max_net_position_t", "number", description="tonnes; bound on |bought - sold| in one trading day"
        ),
        Field("effective_from", "date"),
        Field("effective_to", "date", required=False, description="inclusive; empty = open"),
    ),
    "Position limits per member and commodity.",
)
DATASETS = (KYC_CHECKS, SANCTIONS_SCREENING, REGULATORY_FILINGS, POSITION_LIMITS)

SUBJECT_TYPES = ("member", "beneficial_owner")
CHECK_TYPES = ("identity", "address", "source_of_funds")
CHECK_VALIDITY_DAYS = np.array([730, 365, 365])
SANCTIONS_LISTS = ("UN", "OFAC", "EU", "GH-FIC")
RESCREEN_DAYS = 30
FILING_RULES = (("capital_adequacy", 30), ("annual_return", 90), ("audit_report", 120))
US_PER_HOUR = 3600 * 1_000_000


def office_hours(rng: np.random.Generator, day: int, n: int) -> np.ndarray:
    """Moments between 08:00 and 17:00 UTC on ``day``, rounded to the second, sorted."""
    seconds = np.sort(rng.integers(8 * 3600, 17 * 3600, n))
    return day * US_PER_DAY + seconds * 1_000_000


@dataclass
class Filing:
    member: int
    filing_type: str
    period_end: int
    due: int
    filed_us: int | None
    status: str
    emitted: int


class ComplianceDesk:
    """The compliance system's state over the simulation, producing each trading day's rows."""

    def __init__(
        self,
        reference: Reference,
        calendar: TradingCalendar,
        start: date,
        end: date,
        scale: float,
        rng: np.random.Generator,
    ) -> None:
        self.reference = reference
        self.calendar = calendar
        members, owners = reference.members, reference.owners
        self.subject_type = np.r_[np.zeros(len(members), np.int64), np.ones(len(owners), np.int64)]
        self.subject_id = members.member_id + owners.owner_id
        self.subject_since = np.r_[members.registered_day, owners.created_day]
        self.active_until = np.r_[members.terminated_day, np.full(len(owners), NEVER)]
        self.expires = np.full((len(self.subject_id), 3), -1, dtype=np.int64)
        self.pending: list[tuple[int, int, int]] = []  # (resolve day, subject, check type)
        self.last_screened = np.full(len(self.subject_id), -(10**6), dtype=np.int64)
        self.check_serial = self.screening_serial = self.limit_serial = self.filing_serial = 0
        self.filings = self._filing_schedule(rng, day_number(start), day_number(end))
        self.limit_id = np.full((len(members), len(COMMODITIES)), -1, dtype=np.int64)
        self.limit_t = self._initial_limits(scale)
        self.limit_from = np.zeros_like(self.limit_id)
        self.started = False
        self.last_day = day_number(start) - 1

    # --- position limits ---------------------------------------------------------------------

    def _initial_limits(self, scale: float) -> np.ndarray:
        """Limits at ``limit_factor`` times a member's typical daily net position per commodity."""
        accounts, instruments, members = (
            self.reference.accounts,
            self.reference.instruments,
            self.reference.members,
        )
        member_share = np.bincount(accounts.member, weights=accounts.activity, minlength=len(members))
        member_share = member_share / member_share.sum()
        commodity_share = np.bincount(
            instruments.commodity, weights=instruments.activity, minlength=len(COMMODITIES)
        )
        lot = np.array([c.lot_t for c in COMMODITIES])
        trades = 2 * TRADES_PER_DAY_AT_SCALE_1 * scale * np.outer(member_share, commodity_share)
        typical_net = 2.5 * lot * np.sqrt(np.maximum(trades, 1.0))
        limit = members.limit_factor[:, None] * typical_net
        return (np.ceil(limit / 10) * 10).astype(np.int64)

    def limit_in_force(self) -> tuple[np.ndarray, np.ndarray]:
        """(limit ids, limits in tonnes) per member x commodity."""
        return self.limit_id, self.limit_t

    def _limit_rows(self, rng: np.random.Generator, day: int) -> list[Row]:
        members = self.reference.members
        rows: list[Row] = []
        live = members.terminated_day > day
        if not self.started:
            for m in np.flatnonzero(live):
                for c in range(len(COMMODITIES)):
                    self.limit_serial += 1
                    self.limit_id[m, c] = self.limit_serial
                    self.limit_from[m, c] = max(
                        int(members.registered_day[m]), day - int(rng.integers(30, 400))
                    )
                    rows.append(self._limit_row(m, c, None))
            return rows
        revise = (rng.random(self.limit_id.shape) < 0.002) & live[:, None] & (self.limit_id > 0)
        for m, c in zip(*np.nonzero(revise), strict=True):
            rows.append(self._limit_row(int(m), int(c), day - 1))
            self.limit_serial += 1
            self.limit_id[m, c] = self.limit_serial
            self.limit_t[m, c] = max(10, int(math.ceil(self.limit_t[m, c] * rng.uniform(0.7, 1.5) / 10) * 10))
            self.limit_from[m, c] = day
            rows.append(self._limit_row(int(m), int(c), None))
        return rows

    def _limit_row(self, m: int, c: int, effective_to: int | None) -> Row:
        return [
            f"PL{self.limit_id[m, c]:06d}",
            self.reference.members.member_id[m],
            COMMODITIES[c].code,
            int(self.limit_t[m, c]),
            iso_day(int(self.limit_from[m, c])),
            None if effective_to is None else iso_day(effective_to),
        ]

    # --- KYC -----------------------------------------------------------------------------------

    def _kyc_rows(self, rng: np.random.Generator, day: int) -> list[Row]:
        checks: list[tuple[int, int, int, int]] = []  # (time, subject, check type, status)
        existing = (self.subject_since < day) & (self.active_until > day)
        if not self.started:
            # the latest checks on file: mostly current, some lapsed
            for s in np.flatnonzero(existing):
                for c in range(3):
                    validity = int(CHECK_VALIDITY_DAYS[c])
                    age = (
                        int(rng.integers(1, validity))
                        if rng.random() < 0.92
                        else int(rng.integers(validity, validity + 200))
                    )
                    when = max(int(self.subject_since[s]), day - age)
                    checks.append((int(office_hours(rng, when, 1)[0]), int(s), c, self._status(rng)))
        else:
            due_soon = (
                existing[:, None]
                & (self.expires >= 0)
                & (self.expires <= day + 30)
                & (rng.random(self.expires.shape) < 0.12)
            )
            onboarding = (self.subject_since > self.last_day) & (self.subject_since <= day)
            for s, c in zip(*np.nonzero(due_soon | onboarding[:, None]), strict=True):
                checks.append((0, int(s), int(c), self._status(rng)))
            resolved = [p for p in self.pending if p[0] <= day]
            self.pending = [p for p in self.pending if p[0] > day]
            for _, s, c in resolved:
                checks.append((0, s, c, 0 if rng.random() < 0.85 else 1))
            times = office_hours(rng, day, len(checks))
            checks = [(int(t), s, c, st) for t, (_, s, c, st) in zip(times, checks, strict=True)]
        checks.sort()
        rows: list[Row] = []
        for t, s, c, status in checks:
            self.check_serial += 1
            checked_day = t // US_PER_DAY
            expires = None
            if status == 0:
                self.expires[s, c] = checked_day + CHECK_VALIDITY_DAYS[c]
                expires = iso_day(int(self.expires[s, c]))
            else:
                self.pending.append((max(day, checked_day) + int(rng.integers(3, 20)), s, c))
            rows.append(
                [
                    f"KYC{self.check_serial:09d}",
                    SUBJECT_TYPES[self.subject_type[s]],
                    self.subject_id[s],
                    CHECK_TYPES[c],
                    ("passed", "failed", "pending")[status],
                    iso_utc(t, "s"),
                    expires,
                ]
            )
        return rows

    @staticmethod
    def _status(rng: np.random.Generator) -> int:
        u = rng.random()
        return 0 if u < 0.93 else (1 if u < 0.97 else 2)

    # --- sanctions -----------------------------------------------------------------------------

    def _screening_rows(self, rng: np.random.Generator, day: int) -> list[Row]:
        existing = (self.subject_since <= day) & (self.active_until > day)
        due = existing & (day - self.last_screened >= RESCREEN_DAYS)
        if self.started:  # spread re-screening over the days rather than all on day 30
            due &= (rng.random(len(due)) < 0.25) | (self.subject_since > self.last_day)
        subjects = np.flatnonzero(due)
        self.last_screened[subjects] = day
        sanctioned = len(self.reference.members) + self.reference.sanctioned_owner
        times = office_hours(rng, day, len(subjects))
        rows: list[Row] = []
        for t, s in zip(times, subjects, strict=True):
            for list_name in SANCTIONS_LISTS:
                self.screening_serial += 1
                if s == sanctioned and list_name == "GH-FIC":
                    result, score = "confirmed_match", rng.uniform(0.96, 1.0)
                elif rng.random() < 0.01:
                    result, score = "potential_match", rng.uniform(0.6, 0.92)
                else:
                    result, score = "clear", rng.uniform(0.0, 0.45)
                rows.append(
                    [
                        f"SCR{self.screening_serial:09d}",
                        SUBJECT_TYPES[self.subject_type[s]],
                        self.subject_id[s],
                        list_name,
                        iso_utc(int(t), "s"),
                        result,
                        round(float(score), 3),
                    ]
                )
        return rows

    # --- filings -------------------------------------------------------------------------------

    def _filing_schedule(self, rng: np.random.Generator, start: int, end: int) -> list[Filing]:
        """Every periodic filing whose final status falls in the period, in emission order."""
        members = self.reference.members
        filings: list[Filing] = []
        first_year, last_year = from_day_number(start).year - 1, from_day_number(end).year
        for m in range(len(members)):
            for year in range(first_year, last_year + 1):
                period_ends = [
                    (date(year, month, 1), rule) for month in (4, 7, 10) for rule in FILING_RULES[:1]
                ]
                period_ends += [(date(year + 1, 1, 1), rule) for rule in FILING_RULES]
                for next_first, (kind, due_after) in period_ends:
                    period_end = day_number(next_first) - 1
                    if period_end < members.registered_day[m] or period_end >= members.terminated_day[m]:
                        continue
                    due = period_end + due_after
                    weak = members.distressed[m] and due >= members.distress_from_day[m]
                    u = rng.random()
                    p_late, p_missing = (0.25, 0.15) if weak else (0.06, 0.01)
                    if u < p_missing:
                        filed, status, emitted = None, "missing", due + 30
                    elif u < p_missing + p_late:
                        filed_day = due + int(rng.integers(1, 30))
                        filed, status, emitted = int(office_hours(rng, filed_day, 1)[0]), "late", filed_day
                    else:
                        filed_day = due - int(rng.integers(0, 26))
                        filed, status, emitted = int(office_hours(rng, filed_day, 1)[0]), "filed", filed_day
                    emitted = day_number(self._on_or_after_trading_day(emitted))
                    if start <= emitted < end:
                        filings.append(Filing(m, kind, period_end, due, filed, status, emitted))
        filings.sort(key=lambda f: (f.emitted, f.filed_us or 0, f.member, f.filing_type))
        return filings

    def _on_or_after_trading_day(self, day: int) -> date:
        candidate = from_day_number(day)
        return (
            candidate
            if self.calendar.is_trading_day(candidate)
            else self.calendar.next_trading_day(candidate)
        )

    def _filing_rows(self, rng: np.random.Generator, day: int) -> list[Row]:
        members = self.reference.members
        today = [f for f in self.filings if f.emitted == day]
        trading = np.flatnonzero(members.trading_on(day))
        for m in rng.choice(
            trading, size=min(len(trading), int(rng.poisson(0.01 * len(members)))), replace=False
        ):
            period_end = day - int(rng.integers(1, 15))
            today.append(
                Filing(
                    int(m),
                    "suspicious_activity_report",
                    period_end,
                    period_end + 30,
                    int(office_hours(rng, day, 1)[0]),
                    "filed",
                    day,
                )
            )
        rows: list[Row] = []
        for f in today:
            self.filing_serial += 1
            rows.append(
                [
                    f"FIL{self.filing_serial:06d}",
                    members.member_id[f.member],
                    f.filing_type,
                    iso_day(f.period_end),
                    iso_day(f.due),
                    None if f.filed_us is None else iso_utc(f.filed_us, "s"),
                    f.status,
                ]
            )
        return rows

    # --- the day ---------------------------------------------------------------------------------

    def rows_for_day(self, rng: np.random.Generator, day: date) -> dict[FileDataset, list[Row]]:
        number = day_number(day)
        rows = {
            KYC_CHECKS: self._kyc_rows(rng, number),
            SANCTIONS_SCREENING: self._screening_rows(rng, number),
            REGULATORY_FILINGS: self._filing_rows(rng, number),
            POSITION_LIMITS: self._limit_rows(rng, number),
        }
        self.started = True
        self.last_day = number
        return rows


class LimitBreaches:
    """Daily net positions against the limits in force: the ``truth/limit_breaches.csv`` rows."""

    HEADER = (
        "member_id",
        "commodity_code",
        "trading_date",
        "net_position_t",
        "max_net_position_t",
        "limit_id",
    )

    def __init__(self, path: Path) -> None:
        self._handle = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(self.HEADER)
        self.count = 0

    def check(
        self,
        reference: Reference,
        desk: ComplianceDesk,
        day: date,
        trades: dict[str, np.ndarray],
        clean: np.ndarray,
    ) -> None:
        """``clean`` masks the trades without injected faults (faulty ones do not count)."""
        n_members, n_commodities = len(reference.members), len(COMMODITIES)
        commodity = reference.instruments.commodity[trades["instrument"][clean]]
        quantity = trades["quantity_t"][clean]
        net = np.zeros(n_members * n_commodities)
        np.add.at(net, trades["buyer_member"][clean] * n_commodities + commodity, quantity)
        np.add.at(net, trades["seller_member"][clean] * n_commodities + commodity, -quantity)
        net = net.reshape(n_members, n_commodities)
        limit_id, limit_t = desk.limit_in_force()
        breached = (limit_id > 0) & (np.abs(net) > limit_t)
        for m, c in zip(*np.nonzero(breached), strict=True):
            self._writer.writerow(
                [
                    reference.members.member_id[m],
                    COMMODITIES[c].code,
                    day.isoformat(),
                    int(net[m, c]),
                    int(limit_t[m, c]),
                    f"PL{limit_id[m, c]:06d}",
                ]
            )
            self.count += 1

    def close(self) -> None:
        self._handle.close()
