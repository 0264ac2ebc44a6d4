"""Expectations on the feature tables: what must hold before a model trains or scores on them.

Plain checks on the frame (the feature tables are rebuilt whole, so there is no partition to
validate); each returns the list of problems, empty when the table is fit to use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import MEMBER_RISK_FEATURES, MEMBER_RISK_KEY, SURVEILLANCE_FEATURES, SURVEILLANCE_KEY

SURVEILLANCE_SHARES = [
    "buy_volume_share",
    "aggressor_share",
    "top_counterparty_share",
    "cycle_trade_share",
    "cancel_ratio",
    "close_window_trade_share",
    "member_volume_share",
    "has_shared_owner",
    "member_flip_to_sell",
]
SURVEILLANCE_COUNTS = [
    "trade_count",
    "volume_t",
    "same_owner_trade_count",
    "counterparty_count",
    "order_count",
    "large_quick_cancel_count",
    "opposite_trades_during_cancels",
    "close_window_aggressor_count",
    "member_days_active_5d",
    "cycle_size",
    "cycle_distinct_lots",
]
MEMBER_RISK_RATES = ["delayed_rate_30d", "overdue_amount_share", "symbol_concentration_30d"]


def _common(frame: pd.DataFrame, key: list[str], features: list[str]) -> list[str]:
    problems = []
    missing = [c for c in [*key, *features] if c not in frame.columns]
    if missing:
        return [f"missing columns: {', '.join(missing)}"]
    if frame[key].isna().any().any():
        problems.append(f"null key in {int(frame[key].isna().any(axis=1).sum())} rows")
    duplicated = int(frame.duplicated(subset=key).sum())
    if duplicated:
        problems.append(f"{duplicated} duplicate keys")
    values = frame[features].to_numpy(dtype=float)
    infinite = np.isinf(values).any(axis=0)
    if infinite.any():
        problems.append(f"infinite values in {', '.join(np.array(features)[infinite])}")
    return problems


def _out_of_range(frame: pd.DataFrame, columns: list[str], low: float, high: float) -> list[str]:
    out = []
    for column in columns:
        values = frame[column].dropna()
        bad = int(((values < low - 1e-9) | (values > high + 1e-9)).sum())
        if bad:
            out.append(f"{column}: {bad} values outside [{low:g}, {high:g}]")
    return out


def surveillance_feature_problems(frame: pd.DataFrame) -> list[str]:
    problems = _common(frame, SURVEILLANCE_KEY, SURVEILLANCE_FEATURES)
    if problems and problems[0].startswith("missing"):
        return problems
    problems += _out_of_range(frame, SURVEILLANCE_SHARES, 0.0, 1.0)
    problems += _out_of_range(frame, SURVEILLANCE_COUNTS, 0.0, np.inf)
    problems += _out_of_range(frame, ["member_net_buy_share_5d"], -1.0, 1.0)
    no_activity = int(((frame.trade_count == 0) & (frame.order_count == 0)).sum())
    if no_activity:
        problems.append(f"{no_activity} rows with neither trades nor orders")
    return problems


def member_risk_feature_problems(frame: pd.DataFrame) -> list[str]:
    problems = _common(frame, MEMBER_RISK_KEY, MEMBER_RISK_FEATURES)
    if problems and problems[0].startswith("missing"):
        return problems
    if frame[MEMBER_RISK_FEATURES].isna().any().any():
        problems.append("null feature values")
    problems += _out_of_range(frame, MEMBER_RISK_RATES, 0.0, 1.0)
    counts = [c for c in MEMBER_RISK_FEATURES if c not in MEMBER_RISK_RATES]
    problems += _out_of_range(frame, counts, 0.0, np.inf)
    too_many = int((frame.delayed_30d > frame.obligations_due_30d).sum())
    if too_many:
        problems.append(f"{too_many} rows with more delayed than due obligations")
    return problems
