"""Settlement of trades (T+1 on the trading calendar) and the member-risk ground truth.

Each trade creates two obligations: the buyer pays cash, the seller delivers the commodity, both
due on the next trading day by 16:00 UTC. Healthy members settle on time almost always; the few
distressed members (chosen in ``reference``) deteriorate: late settlements rise from their distress
date, and from their default date most obligations fail, until they are suspended.

Rows carry the state as of the end of the simulated period: an obligation not settled by its
deadline is ``failed`` (updated at the deadline) until it is paid, when it becomes ``late``;
obligations whose deadline is after the end are ``pending`` unless already paid.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from gcx.simulator import columns
from gcx.simulator.market import DayBook
from gcx.simulator.reference import NEVER, Members, Reference
from gcx.simulator.trading_calendar import US_PER_DAY, TradingCalendar, from_day_number

OBLIGATIONS = ("pay_cash", "deliver_commodity")
STATUSES = ("pending", "settled", "late", "failed")
DEADLINE_US = 16 * 3600 * 1_000_000
"""Obligations are due by 16:00 UTC on the due date."""
HEALTHY_LATE, HEALTHY_FAIL = 0.02, 0.002
DEFAULTED_LATE, DEFAULTED_FAIL = 0.30, 0.60


def outcome_probabilities(members: Members, member: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """(P(late), P(fail)) of an obligation of each member due around ``day``."""
    start, default = members.distress_from_day[member], members.default_day[member]
    progress = np.clip((day - start) / np.maximum(default - start, 1), 0.0, 1.0)
    progress = np.where(members.distressed[member], progress, 0.0)
    defaulted = members.distressed[member] & (day >= default)
    late = np.where(defaulted, DEFAULTED_LATE, HEALTHY_LATE + 0.38 * progress)
    fail = np.where(defaulted, DEFAULTED_FAIL, HEALTHY_FAIL + 0.05 * progress)
    return late, fail


@dataclass
class MemberSettlementRecord:
    """Per member: first failed due date and counts, accumulated over the days (for the truth file)."""

    first_failed_day: np.ndarray
    failed: np.ndarray
    late: np.ndarray

    @classmethod
    def empty(cls, n_members: int) -> MemberSettlementRecord:
        return cls(
            np.full(n_members, NEVER, dtype=np.int64),
            np.zeros(n_members, np.int64),
            np.zeros(n_members, np.int64),
        )

    def add(self, member: np.ndarray, due_day: np.ndarray, status: np.ndarray) -> None:
        failed = status == STATUSES.index("failed")
        np.minimum.at(self.first_failed_day, member[failed], due_day[failed])
        self.failed += np.bincount(member[failed], minlength=len(self.failed))
        self.late += np.bincount(member[status == STATUSES.index("late")], minlength=len(self.late))

    def write_truth(self, path: Path, members: Members) -> int:
        """``member_defaults.csv``: distressed members (the default ground truth) and any other
        member with a failed obligation (sporadic fails)."""
        rows = 0
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(
                ["member_id", "profile", "distress_from", "default_from", "suspended_on",
                 "first_failed_on", "failed_obligations", "late_obligations"]
            )  # fmt: skip
            for m in range(len(members)):
                if not members.distressed[m] and self.failed[m] == 0:
                    continue

                def day_or_empty(value: int) -> str:
                    return "" if value == NEVER else from_day_number(value).isoformat()

                writer.writerow(
                    [
                        members.member_id[m],
                        "distressed" if members.distressed[m] else "sporadic",
                        day_or_empty(members.distress_from_day[m]),
                        day_or_empty(members.default_day[m]),
                        day_or_empty(members.suspended_day[m]),
                        day_or_empty(self.first_failed_day[m]),
                        int(self.failed[m]),
                        int(self.late[m]),
                    ]
                )
                rows += 1
        return rows


@dataclass
class Settlements:
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.columns.get("settlement_id", ()))


def settle(
    book: DayBook,
    reference: Reference,
    calendar: TradingCalendar,
    rng: np.random.Generator,
    end_us: int,
    first_settlement_id: int,
    record: MemberSettlementRecord,
) -> Settlements:
    """Two obligations per trade (buyer first), with their state at ``end_us``."""
    trades = book.trades
    n = len(trades["trade_number"])
    trade = np.repeat(np.arange(n), 2)
    obligation = np.tile([0, 1], n)
    member = np.where(obligation == 0, trades["buyer_member"][trade], trades["seller_member"][trade])
    executed = trades["executed_us"][trade]
    trade_day = executed // US_PER_DAY
    due_day = calendar.next_trading_day_numbers(trade_day)
    deadline = due_day * US_PER_DAY + DEADLINE_US

    p_late, p_fail = outcome_probabilities(reference.members, member, int(trade_day[0]) if n else 0)
    u = rng.random(2 * n)
    fails = u < p_fail
    late = ~fails & (u < p_fail + p_late)
    window = deadline - executed - 30 * 60 * 1_000_000
    paid_at = np.where(
        late,
        deadline + rng.integers(2 * 3600 * 1_000_000, 5 * US_PER_DAY, 2 * n),
        executed + 30 * 60 * 1_000_000 + (rng.random(2 * n) * window).astype(np.int64),
    )
    paid_at = np.where(fails, -1, paid_at)
    paid_by_end = (paid_at >= 0) & (paid_at <= end_us)
    deadline_passed = deadline <= end_us

    status = np.select(
        [paid_by_end & ~late, paid_by_end & late, deadline_passed],
        [STATUSES.index("settled"), STATUSES.index("late"), STATUSES.index("failed")],
        STATUSES.index("pending"),
    )
    updated = np.select([paid_by_end, deadline_passed], [paid_at, deadline], executed)
    record.add(member, due_day, status)
    quantity = trades["quantity_t"][trade]
    return Settlements(
        {
            "settlement_id": first_settlement_id + np.arange(2 * n, dtype=np.int64),
            "trade_number": trades["trade_number"][trade],
            "member": member,
            "obligation": obligation,
            "amount_cents": trades["price_cents"][trade] * quantity,
            "quantity_t": quantity,
            "due_day": due_day,
            "settled_us": np.where(paid_by_end, paid_at, -1),
            "status": status,
            "updated_us": updated,
        }
    )


def settlements_table(settlements: Settlements, reference: Reference, trade_ids: pa.Array) -> pa.Table:
    """``trade_ids`` are the day's trade ids in trade order (two obligations per trade)."""
    s = settlements.columns
    return pa.table(
        {
            "settlement_id": columns.integers(s["settlement_id"]),
            "trade_id": trade_ids.take(pa.array(np.repeat(np.arange(len(trade_ids)), 2))),
            "member_id": columns.texts(reference.members.member_id, s["member"]),
            "obligation": columns.texts(OBLIGATIONS, s["obligation"]),
            "amount_ghs": columns.decimals(s["amount_cents"]),
            "quantity_t": columns.integers(s["quantity_t"]),
            "due_on": columns.dates(s["due_day"]),
            "settled_at": columns.timestamps(s["settled_us"], null=s["settled_us"] < 0),
            "status": columns.texts(STATUSES, s["status"]),
            "updated_at": columns.timestamps(s["updated_us"]),
        }
    )
