"""Interpretable surveillance rules: one per pattern, each a score in [0, 1] and a reason.

They work with no labels at all (a fresh exchange, the demo's few episodes) and are the baseline
the learned model must beat. Thresholds are the ones a compliance desk would write down; a rule
that partly matches scores in proportion, so rules also rank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.labels import PATTERNS


def _clip(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(values, dtype=float), 0.0, 1.0)


def rule_scores(features: pd.DataFrame) -> pd.DataFrame:
    """One column per pattern, a score in [0, 1] per feature row."""
    f = features.fillna({"cycle_price_range": 1.0}).fillna(0.0)  # missing evidence is no evidence
    scores = pd.DataFrame(index=f.index)
    # the same beneficial owner on both sides: a wash trade by definition
    scores["wash_trade"] = np.where(f.same_owner_trade_count > 0, 1.0, 0.0)
    # a ring of 3+ members passing one lot around at nearly one price (within 0.6 %)
    ring = (f.cycle_size >= 3) & (f.cycle_trade_share >= 0.9) & (f.cycle_distinct_lots == 1)
    tight = _clip(1 - f.cycle_price_range / 0.006)
    scores["circular_trading"] = np.where(ring, 0.5 + 0.5 * tight, 0.3 * tight * (f.cycle_size >= 3))
    # large orders cancelled within minutes, unfilled, while the member trades the other side
    scores["spoofing"] = _clip(f.large_quick_cancel_count / 2) * np.where(
        f.opposite_trades_during_cancels > 0, 1.0, 0.4
    )
    # two or more aggressive trades in the last minutes that pushed the close by 2 % or more
    scores["marking_the_close"] = _clip((f.close_window_aggressor_count - 1) / 2) * _clip(f.close_push / 0.02)
    # one-sided trading over several days on unusual volume while the price runs 8 % or more,
    # or selling into the run after buying it
    run = _clip(np.abs(f.symbol_return_5d) / 0.08) * _clip((f.symbol_volume_ratio_20d - 1) / 1.5)
    persistent = _clip((f.member_days_active_5d - 1) / 3) * _clip(np.abs(f.member_net_buy_share_5d))
    scores["pump_and_dump"] = run * np.maximum(persistent, 0.7 * f.member_flip_to_sell)
    return scores[list(PATTERNS)]


REASONS = {
    "wash_trade": ("same_owner_trade_count", "trades with the same beneficial owner on both sides"),
    "circular_trading": ("cycle_size", "members trading the same lot around a ring"),
    "spoofing": (
        "large_quick_cancel_count",
        "large orders cancelled within minutes while trading the other side",
    ),
    "marking_the_close": (
        "close_push",
        "aggressive trades in the last minutes moved the close by 2 % or more",
    ),
    "pump_and_dump": (
        "symbol_return_5d",
        "one-sided trading over several days on unusual volume while the price ran",
    ),
}
"""The feature that proves each rule, and what it means to a compliance officer."""
