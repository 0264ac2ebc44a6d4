"""Training labels. Never features: they come from the future (settlements after the day) or from
the simulator's ground truth (`<GCX_HOME>/truth/episodes.jsonl`), which no scoring path reads.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd

from ml.features import SURVEILLANCE_KEY

PATTERNS = ("wash_trade", "circular_trading", "spoofing", "marking_the_close", "pump_and_dump")
NO_PATTERN = "none"
RISK_HORIZON_DAYS = 7
"""Member risk: the probability of a settlement failure or repeated lateness in the next 7 days."""
FAIL_AFTER_DAYS = 5
"""An obligation still unpaid this many days after its deadline has failed; one paid after its
deadline but within these days was late (the simulated exchange's late payments take up to 5 days)."""
LATE_OBLIGATIONS_FOR_EVENT = 2
"""Repeated lateness: this many late obligations due in the horizon count as a risk event. A single
late payment is not one: healthy members pay about 2 % of obligations late, so "any delay" mostly
measures how much a member trades, not its credit."""


def read_episodes(truth_dir: Path) -> list[dict]:
    """The labelled market-abuse episodes; none when the file is absent (real data has no truth)."""
    path = truth_dir / "episodes.jsonl"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def surveillance_labels(features: pd.DataFrame, episodes: list[dict]) -> pd.Series:
    """The pattern each feature row takes part in, or "none".

    A row (day, symbol, member) is labelled with an episode's pattern when the member is one of
    the episode's members and one of the row's own trades or orders belongs to the episode.
    """
    labels = pd.Series(NO_PATTERN, index=features.index, dtype=object)
    if not episodes or features.empty:
        return labels
    trade_episode, order_episode = {}, {}
    for episode in episodes:
        for trade_id in episode["trade_ids"]:
            trade_episode.setdefault(trade_id, episode)
        for order_id in episode["order_ids"]:
            order_episode.setdefault(str(order_id), episode)
    priority = {pattern: rank for rank, pattern in enumerate(PATTERNS)}
    for position, row in enumerate(
        features[[*SURVEILLANCE_KEY, "trade_ids", "order_ids"]].itertuples(index=False)
    ):
        found = [trade_episode[t] for t in row.trade_ids if t in trade_episode]
        found += [order_episode[o] for o in row.order_ids if o in order_episode]
        found = [e for e in found if row.member_id in e["member_ids"] and e["symbol"] == row.symbol]
        if found:
            labels.iat[position] = min((e["type"] for e in found), key=priority.__getitem__)
    return labels


def member_risk_labels(features: pd.DataFrame, settlements: pd.DataFrame) -> pd.Series:
    """1 when, among the member's obligations due in (as_of_date, as_of_date + horizon], one failed
    (unpaid `FAIL_AFTER_DAYS` after its deadline) or at least `LATE_OBLIGATIONS_FOR_EVENT` were late
    (paid after the deadline, within those days); 0 otherwise; NaN while the outcome is not known yet
    (the horizon plus `FAIL_AFTER_DAYS` reaches past the data).

    `settlements`: member_id, trade_date, due_at, settled_at (as in MarketData.settlements).
    """
    if features.empty:
        return pd.Series(dtype=float)
    known_until = settlements.trade_date.max()  # the data's last day: every deadline up to it has passed
    if pd.isna(known_until):
        return pd.Series(float("nan"), index=features.index)
    fail_after = pd.Timedelta(days=FAIL_AFTER_DAYS)
    failed = settlements.settled_at.isna() | (settlements.settled_at > settlements.due_at + fail_after)
    late = ~failed & (settlements.settled_at > settlements.due_at)
    outcomes = (
        settlements.assign(due_date=settlements.due_at.dt.date, failed=failed, late=late)[failed | late]
        .groupby(["member_id", "due_date"])[["failed", "late"]]
        .sum()
    )
    by_member = {
        member_id: day_counts.droplevel("member_id") for member_id, day_counts in outcomes.groupby(level=0)
    }
    out = []
    for member_id, as_of in features[["member_id", "as_of_date"]].itertuples(index=False):
        horizon_end = as_of + timedelta(days=RISK_HORIZON_DAYS)
        if horizon_end + timedelta(days=FAIL_AFTER_DAYS) > known_until:
            out.append(float("nan"))
            continue
        counts = by_member.get(member_id)
        if counts is None:
            out.append(0.0)
            continue
        window = counts[(counts.index > as_of) & (counts.index <= horizon_end)]
        out.append(float(window.failed.sum() > 0 or window.late.sum() >= LATE_OBLIGATIONS_FOR_EVENT))
    return pd.Series(out, index=features.index, dtype=float)
