"""Point-in-time features for the surveillance and member-risk models, computed from the marts.

Point in time: a feature row stamped with day D uses only what was known by the end of day D.
Same-day activity (the day's trades, orders and their cancellations) is known at the end of the
day, when the daily scoring runs; history windows look back from D, never forward. Settlement
features never read an obligation's final status (the marts carry it as of today): they use
`settled_at` against the deadline and the as-of time, so an obligation paid late after D still
counts as overdue on D.

Two tables:
- surveillance features, one row per member, symbol and day with activity (GCX instruments only);
- member-risk features, one row per member active at the end of the day and trading day. A member
  suspended or terminated by then has no row: it no longer trades, the clearing house already
  acts on it, and its overdue history would otherwise keep its probability high after it stopped
  being able to fail. Its status is read as of the day (the member version in force at its end),
  never from a later change.

The functions below are pure (frames in, frames out); `load_market_data` is the one reader of
the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd
import psycopg
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

SURVEILLANCE_KEY = ["activity_date", "symbol", "member_id"]
SURVEILLANCE_FEATURES = [
    "trade_count",
    "volume_t",
    "buy_volume_share",
    "aggressor_share",
    "same_owner_trade_count",
    "has_shared_owner",
    "counterparty_count",
    "top_counterparty_share",
    "cycle_trade_share",
    "cycle_size",
    "cycle_price_range",
    "cycle_distinct_lots",
    "order_count",
    "cancel_ratio",
    "order_to_trade_ratio",
    "max_order_size_ratio",
    "large_quick_cancel_count",
    "opposite_trades_during_cancels",
    "close_window_trade_share",
    "close_window_aggressor_count",
    "close_push",
    "symbol_volume_ratio_20d",
    "symbol_return_1d",
    "symbol_return_5d",
    "symbol_drawdown_from_5d_high",
    "member_volume_share",
    "member_days_active_5d",
    "member_net_buy_share_5d",
    "member_flip_to_sell",
]
"""Model inputs (all numeric). Each column is documented in ml/README.md."""

MEMBER_RISK_KEY = ["member_id", "as_of_date"]
MEMBER_RISK_FEATURES = [
    "obligations_due_30d",
    "delayed_30d",
    "delayed_rate_30d",
    "severe_delays_90d",
    "overdue_now",
    "overdue_amount_share",
    "days_since_last_delay",
    "pending_exposure_ghs_log",
    "traded_value_30d_log",
    "symbol_concentration_30d",
    "alert_count_30d",
]

CLOSE_WINDOW = pd.Timedelta(minutes=5)
"""Marking the close: trades in the session's last five minutes."""
QUICK_CANCEL = pd.Timedelta(minutes=5)
LARGE_ORDER_RATIO = 5.0
"""An order this many times the symbol's usual order size is large (spoofing)."""
HISTORY_DAYS = 30
PRICE_LOOKBACK_DAYS = 5
ACTIVE_STATUS = "active"
"""marts.dim_members.member_status of a member that may trade (the others: suspended, terminated)."""


@dataclass
class MarketData:
    """The mart rows the features read, GCX's own instruments only.

    trades: trade_id, symbol, executed_at, trade_date, price_ghs_per_t, quantity_t, value_ghs,
        aggressor_side, buy_order_id, sell_order_id, buyer_member_id, seller_member_id,
        buyer_owner_id, seller_owner_id, is_same_beneficial_owner
    orders: order_id, symbol, member_id, side, quantity_t, filled_t, created_at, created_date,
        cancelled_at
    sessions: trade_date, session_close_at
    settlements: member_id, trade_date, due_at, settled_at, amount_ghs
    accounts: account_id, member_id, owner_id
    member_versions: member_id, member_status, valid_from (marts.dim_members: each version of a
        member and when it took effect; none given = every member active)
    """

    trades: pd.DataFrame
    orders: pd.DataFrame
    sessions: pd.DataFrame
    settlements: pd.DataFrame
    accounts: pd.DataFrame
    member_versions: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        """Timestamps as UTC datetimes whatever the source gave (an all-null column has no zone)."""
        if self.member_versions is None:
            self.member_versions = pd.DataFrame(columns=["member_id", "member_status", "valid_from"])
        for frame, columns in (
            (self.trades, ["executed_at"]),
            (self.orders, ["created_at", "cancelled_at"]),
            (self.sessions, ["session_close_at"]),
            (self.settlements, ["due_at", "settled_at"]),
            (self.member_versions, ["valid_from"]),
        ):
            for column in columns:
                if column in frame.columns:
                    frame[column] = pd.to_datetime(frame[column], utc=True)


def load_market_data(conn: psycopg.Connection, last_day: date | None = None) -> MarketData:
    """Read the marts up to `last_day` (inclusive; default: everything) into frames."""
    until = (last_day or date(9999, 12, 30)) + timedelta(days=1)

    def frame(sql: str, params: tuple = ()) -> pd.DataFrame:
        cursor = conn.execute(sql, params)
        columns = [c.name for c in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)

    trades = frame(
        """
        select t.trade_id, t.symbol, t.executed_at, t.trade_date,
               t.price_ghs_per_t::float8 as price_ghs_per_t, t.quantity_t::float8 as quantity_t,
               t.value_ghs::float8 as value_ghs, t.aggressor_side, t.buy_order_id, t.sell_order_id,
               t.buyer_member_id, t.seller_member_id, t.buyer_owner_id, t.seller_owner_id,
               t.is_same_beneficial_owner
        from marts.fct_trades t
        where t.venue = 'GCX' and t.trade_date < %s
        order by t.executed_at, t.trade_id
        """,
        (until,),
    )
    orders = frame(
        """
        select o.order_id, o.symbol, o.member_id, o.side, o.quantity_t::float8 as quantity_t,
               o.filled_t::float8 as filled_t, o.created_at, o.created_date, o.cancelled_at
        from marts.fct_orders o
        join marts.dim_instruments i using (instrument_id)
        where i.venue = 'GCX' and o.created_date < %s
        """,
        (until,),
    )
    sessions = frame(
        """
        select trade_date, max(settlement_window_end_at) as session_close_at
        from marts.fct_daily_market_summary where trade_date < %s group by trade_date
        """,
        (until,),
    )
    settlements = frame(
        """
        select s.member_id, s.trade_date, s.due_at, s.settled_at, s.amount_ghs::float8 as amount_ghs
        from marts.fct_settlements s where s.trade_date < %s
        """,
        (until,),
    )
    accounts = frame("select account_id, member_id, owner_id from marts.dim_accounts")
    member_versions = frame(
        "select member_id, member_status, valid_from from marts.dim_members where valid_from < %s",
        (datetime.combine(until, time(), tzinfo=UTC),),
    )
    return MarketData(trades, orders, sessions, settlements, accounts, member_versions)


# --- surveillance ------------------------------------------------------------------------------


def trade_sides(trades: pd.DataFrame) -> pd.DataFrame:
    """Each trade twice, once from each member's side: member_id, counterparty_id, side, is_aggressor."""
    common = ["trade_id", "symbol", "executed_at", "trade_date", "price_ghs_per_t", "quantity_t"]
    common += ["aggressor_side", "is_same_beneficial_owner"]
    buys = trades[common].assign(
        member_id=trades.buyer_member_id,
        counterparty_id=trades.seller_member_id,
        side="buy",
        order_id=trades.buy_order_id,
    )
    sells = trades[common].assign(
        member_id=trades.seller_member_id,
        counterparty_id=trades.buyer_member_id,
        side="sell",
        order_id=trades.sell_order_id,
    )
    sides = pd.concat([buys, sells], ignore_index=True)
    sides = sides[sides.member_id.notna()]
    sides["is_aggressor"] = sides.side == sides.aggressor_side
    sides["signed_t"] = np.where(sides.side == "buy", sides.quantity_t, -sides.quantity_t)
    return sides.rename(columns={"trade_date": "activity_date"})


def cycle_edges(trades: pd.DataFrame) -> pd.DataFrame:
    """Trades that lie on a directed cycle of three or more members in their symbol's daily graph.

    Edges run seller -> buyer; an edge is on a cycle exactly when both ends are in the same
    strongly connected component. Two-member cycles (A sells to B, B to A) are left to the
    wash-trade features. Returns trade_id, cycle_size (members in the component).
    """
    out = []
    known = trades.dropna(subset=["buyer_member_id", "seller_member_id"])
    for _, day in known.groupby(["trade_date", "symbol"], sort=False):
        if len(day) < 3:
            continue
        members, codes = np.unique(
            np.concatenate([day.seller_member_id.to_numpy(), day.buyer_member_id.to_numpy()]),
            return_inverse=True,
        )
        sellers, buyers = codes[: len(day)], codes[len(day) :]
        graph = coo_matrix((np.ones(len(day)), (sellers, buyers)), shape=(len(members), len(members)))
        _, component = connected_components(graph, directed=True, connection="strong")
        sizes = np.bincount(component)
        on_cycle = (component[sellers] == component[buyers]) & (sizes[component[sellers]] >= 3)
        if on_cycle.any():
            out.append(
                pd.DataFrame(
                    {
                        "trade_id": day.trade_id.to_numpy()[on_cycle],
                        "cycle_size": sizes[component[sellers]][on_cycle],
                    }
                )
            )
    if not out:
        return pd.DataFrame({"trade_id": pd.Series(dtype=object), "cycle_size": pd.Series(dtype=float)})
    return pd.concat(out, ignore_index=True)


def _trade_features(sides: pd.DataFrame, cycles: pd.DataFrame, shared_owner_members: set) -> pd.DataFrame:
    sides = sides.merge(cycles, on="trade_id", how="left")
    sides["on_cycle"] = sides.cycle_size.notna()
    sides["buy_t"] = sides.quantity_t.where(sides.side == "buy", 0.0)
    groups = sides.groupby(SURVEILLANCE_KEY)
    out = groups.agg(
        trade_count=("trade_id", "size"),
        volume_t=("quantity_t", "sum"),
        buy_t=("buy_t", "sum"),
        aggressor_share=("is_aggressor", "mean"),
        same_owner_trade_count=("is_same_beneficial_owner", "sum"),
        counterparty_count=("counterparty_id", "nunique"),
        cycle_trade_share=("on_cycle", "mean"),
        cycle_size=("cycle_size", "max"),
    )
    out["buy_volume_share"] = out.buy_t / out.volume_t
    by_counterparty = sides.groupby([*SURVEILLANCE_KEY, "counterparty_id"]).quantity_t.sum()
    out["top_counterparty_share"] = by_counterparty.groupby(level=[0, 1, 2]).max() / out.volume_t
    on_cycle = sides[sides.on_cycle]
    if len(on_cycle):
        prices = on_cycle.groupby(SURVEILLANCE_KEY).price_ghs_per_t
        out["cycle_price_range"] = (prices.max() - prices.min()) / prices.min()
        out["cycle_distinct_lots"] = on_cycle.groupby(SURVEILLANCE_KEY).quantity_t.nunique()
    else:
        out["cycle_price_range"] = np.nan
        out["cycle_distinct_lots"] = np.nan
    out = out.reset_index()
    out["has_shared_owner"] = out.member_id.isin(shared_owner_members).astype(float)
    return out.drop(columns="buy_t")


def shared_owner_members(accounts: pd.DataFrame) -> set:
    """Members operating an account for a beneficial owner who also trades through another member."""
    members_per_owner = accounts.groupby("owner_id").member_id.nunique()
    shared = members_per_owner[members_per_owner >= 2].index
    return set(accounts.loc[accounts.owner_id.isin(shared), "member_id"])


def _order_features(orders: pd.DataFrame, sides: pd.DataFrame) -> pd.DataFrame:
    """Order-to-trade and cancel ratios, order size against the symbol's usual size, and trades on
    the other side while a large order was quickly cancelled (spoofing)."""
    orders = orders.rename(columns={"created_date": "activity_date"}).copy()
    usual = _usual_order_size(orders)
    orders = orders.merge(usual, on=["symbol", "activity_date"], how="left")
    orders["size_ratio"] = orders.quantity_t / orders.usual_size_t
    lifetime = orders.cancelled_at - orders.created_at
    orders["is_cancelled"] = orders.cancelled_at.notna()
    orders["is_large_quick_cancel"] = (
        orders.is_cancelled
        & (orders.filled_t <= 0)
        & (lifetime <= QUICK_CANCEL)
        & (orders.size_ratio >= LARGE_ORDER_RATIO)
    )
    out = (
        orders.groupby(SURVEILLANCE_KEY)
        .agg(
            order_count=("order_id", "size"),
            cancel_ratio=("is_cancelled", "mean"),
            max_order_size_ratio=("size_ratio", "max"),
            large_quick_cancel_count=("is_large_quick_cancel", "sum"),
        )
        .reset_index()
    )
    spoofs = orders[orders.is_large_quick_cancel][
        [*SURVEILLANCE_KEY, "side", "created_at", "cancelled_at"]
    ].rename(columns={"side": "spoof_side"})
    opposite = spoofs.merge(
        sides[[*SURVEILLANCE_KEY, "trade_id", "side", "executed_at"]], on=SURVEILLANCE_KEY
    )
    opposite = opposite[
        (opposite.side != opposite.spoof_side)
        & (opposite.executed_at >= opposite.created_at)
        & (opposite.executed_at <= opposite.cancelled_at)
    ]
    counts = opposite.groupby(SURVEILLANCE_KEY).trade_id.nunique().rename("opposite_trades_during_cancels")
    return out.merge(counts.reset_index(), on=SURVEILLANCE_KEY, how="left")


def _usual_order_size(orders: pd.DataFrame) -> pd.DataFrame:
    """Median order size per symbol over the HISTORY_DAYS before each day (that day's own median
    when there is no history yet), so an order is compared with what was known before it."""
    daily = orders.groupby(["symbol", "activity_date"]).quantity_t.median().rename("today").reset_index()
    daily = daily.sort_values(["symbol", "activity_date"])
    daily["usual_size_t"] = daily.groupby("symbol").today.transform(
        lambda s: s.shift(1).rolling(HISTORY_DAYS, min_periods=1).median()
    )
    daily["usual_size_t"] = daily.usual_size_t.fillna(daily.today)
    return daily[["symbol", "activity_date", "usual_size_t"]]


def _close_features(sides: pd.DataFrame, trades: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """Activity in the session's last minutes and how far it moved the price, signed by the
    member's direction: close_push > 0 when the member's aggressive trades pushed the close their way."""
    close = sessions.rename(columns={"trade_date": "activity_date"})
    last_trade = trades.groupby("trade_date").executed_at.max().rename("last_trade_at").reset_index()
    close = close.merge(
        last_trade.rename(columns={"trade_date": "activity_date"}), on="activity_date", how="outer"
    )
    close["session_close_at"] = close.session_close_at.fillna(close.last_trade_at)
    close = close[["activity_date", "session_close_at"]]
    sides = sides.merge(close, on="activity_date", how="left")
    sides["in_window"] = sides.executed_at >= sides.session_close_at - CLOSE_WINDOW
    symbol_day = trades.rename(columns={"trade_date": "activity_date"}).merge(
        close, on="activity_date", how="left"
    )
    symbol_day["in_window"] = symbol_day.executed_at >= symbol_day.session_close_at - CLOSE_WINDOW
    before = symbol_day[~symbol_day.in_window].groupby(["activity_date", "symbol"]).price_ghs_per_t.last()
    final = symbol_day.groupby(["activity_date", "symbol"]).price_ghs_per_t.last()
    impact = ((final - before) / before).rename("close_impact").reset_index()
    window = sides[sides.in_window]
    direction = (
        window[window.is_aggressor].groupby(SURVEILLANCE_KEY).signed_t.sum().pipe(np.sign).rename("direction")
    )
    out = sides.groupby(SURVEILLANCE_KEY).in_window.mean().rename("close_window_trade_share").to_frame()
    out["close_window_aggressor_count"] = window[window.is_aggressor].groupby(SURVEILLANCE_KEY).size()
    out = out.join(direction).reset_index().merge(impact, on=["activity_date", "symbol"], how="left")
    out["close_push"] = (out.direction * out.close_impact).fillna(0.0)
    return out.drop(columns=["direction", "close_impact"])


def _price_history_features(sides: pd.DataFrame, trades: pd.DataFrame) -> pd.DataFrame:
    """Volume spike and returns of the symbol against its own history, and the member's
    one-sidedness over the last days (a pump group buys day after day, then sells)."""
    symbol_days = (
        trades.groupby(["symbol", "trade_date"])
        .agg(volume=("quantity_t", "sum"), value=("value_ghs", "sum"))
        .reset_index()
        .rename(columns={"trade_date": "activity_date"})
        .sort_values(["symbol", "activity_date"])
    )
    symbol_days["vwap"] = symbol_days.value / symbol_days.volume
    by_symbol = symbol_days.groupby("symbol")
    past_volume = by_symbol.volume.transform(lambda s: s.shift(1).rolling(20, min_periods=3).mean())
    symbol_days["symbol_volume_ratio_20d"] = (symbol_days.volume / past_volume).fillna(1.0)
    symbol_days["symbol_return_1d"] = by_symbol.vwap.pct_change(1).fillna(0.0)
    symbol_days["symbol_return_5d"] = by_symbol.vwap.pct_change(PRICE_LOOKBACK_DAYS).fillna(
        symbol_days.vwap / by_symbol.vwap.transform("first") - 1
    )
    high = by_symbol.vwap.transform(lambda s: s.rolling(PRICE_LOOKBACK_DAYS + 1, min_periods=1).max())
    symbol_days["symbol_drawdown_from_5d_high"] = symbol_days.vwap / high - 1

    member_days = (
        sides.groupby(SURVEILLANCE_KEY)
        .agg(net_t=("signed_t", "sum"), gross_t=("quantity_t", "sum"))
        .reset_index()
    )
    member_days = member_days.merge(symbol_days, on=["activity_date", "symbol"], how="left")
    # each trade has two sides: a member on both sides of all the day's trades has a share of 1
    member_days["member_volume_share"] = member_days.gross_t / (2 * member_days.volume)
    # the symbol's trading days, numbered, so "the last 5 days" means the symbol's last 5 sessions
    symbol_days["day_number"] = symbol_days.groupby("symbol").cumcount()
    member_days = member_days.merge(
        symbol_days[["symbol", "activity_date", "day_number"]], on=["symbol", "activity_date"]
    ).sort_values(["symbol", "member_id", "day_number"])
    history = []
    for _, rows in member_days.groupby(["symbol", "member_id"], sort=False):
        days = rows.day_number.to_numpy()
        net, gross = rows.net_t.to_numpy(), rows.gross_t.to_numpy()
        active = np.zeros(len(rows))
        net_share = np.zeros(len(rows))
        prior_net = np.zeros(len(rows))
        for i in range(len(rows)):
            recent = (days > days[i] - PRICE_LOOKBACK_DAYS) & (days <= days[i])
            active[i] = recent.sum()
            net_share[i] = net[recent].sum() / gross[recent].sum()
            prior_net[i] = net[recent & (days < days[i])].sum()
        history.append(
            pd.DataFrame(
                {
                    "index": rows.index,
                    "member_days_active_5d": active,
                    "member_net_buy_share_5d": net_share,
                    "member_flip_to_sell": ((prior_net > 0) & (net < 0)).astype(float),
                }
            ).set_index("index")
        )
    member_days = member_days.join(pd.concat(history)) if history else member_days
    columns = [
        "symbol_volume_ratio_20d",
        "symbol_return_1d",
        "symbol_return_5d",
        "symbol_drawdown_from_5d_high",
        "member_volume_share",
        "member_days_active_5d",
        "member_net_buy_share_5d",
        "member_flip_to_sell",
    ]
    return member_days[[*SURVEILLANCE_KEY, *columns]]


def surveillance_features(data: MarketData) -> pd.DataFrame:
    """One row per (activity_date, symbol, member_id) with trades or orders: SURVEILLANCE_KEY,
    SURVEILLANCE_FEATURES and the evidence ids (trade_ids, order_ids, counterparty_ids)."""
    sides = trade_sides(data.trades)
    cycles = cycle_edges(data.trades)
    trade_part = _trade_features(sides, cycles, shared_owner_members(data.accounts))
    order_part = _order_features(data.orders, sides)
    frame = trade_part.merge(order_part, on=SURVEILLANCE_KEY, how="outer")
    frame = frame.merge(_close_features(sides, data.trades, data.sessions), on=SURVEILLANCE_KEY, how="left")
    frame = frame.merge(_price_history_features(sides, data.trades), on=SURVEILLANCE_KEY, how="left")
    frame["order_to_trade_ratio"] = frame.order_count.fillna(0) / frame.trade_count.fillna(0).clip(lower=1)
    counts = ["trade_count", "volume_t", "same_owner_trade_count", "counterparty_count", "order_count"]
    counts += ["large_quick_cancel_count", "opposite_trades_during_cancels", "close_window_aggressor_count"]
    frame[counts] = frame[counts].fillna(0)
    frame["has_shared_owner"] = frame.member_id.isin(shared_owner_members(data.accounts)).astype(float)
    frame["cycle_size"] = frame.cycle_size.fillna(0)
    frame["cycle_trade_share"] = frame.cycle_trade_share.fillna(0)
    frame["cycle_distinct_lots"] = frame.cycle_distinct_lots.fillna(0)
    frame["member_flip_to_sell"] = frame.member_flip_to_sell.fillna(0)
    frame[SURVEILLANCE_FEATURES] = frame[SURVEILLANCE_FEATURES].astype(float)
    evidence = _evidence(sides, data.orders)
    frame = frame.merge(evidence, on=SURVEILLANCE_KEY, how="left")
    for column in ("trade_ids", "order_ids", "counterparty_ids"):
        frame[column] = frame[column].apply(lambda ids: ids if isinstance(ids, list) else [])
    return frame.sort_values(SURVEILLANCE_KEY).reset_index(drop=True)[
        [*SURVEILLANCE_KEY, *SURVEILLANCE_FEATURES, "trade_ids", "order_ids", "counterparty_ids"]
    ]


def _evidence(sides: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    trades = sides.groupby(SURVEILLANCE_KEY).agg(
        trade_ids=("trade_id", lambda ids: sorted(set(ids))),
        counterparty_ids=("counterparty_id", lambda ids: sorted(set(ids.dropna()))),
    )
    order_ids = (
        orders.rename(columns={"created_date": "activity_date"})
        .groupby(SURVEILLANCE_KEY)
        .order_id.agg(lambda ids: sorted(str(i) for i in ids))
        .rename("order_ids")
    )
    return trades.join(order_ids, how="outer").reset_index()


# --- member risk -------------------------------------------------------------------------------


def inactive_members(member_versions: pd.DataFrame, as_of: pd.Timestamp) -> set:
    """Members whose version in force at `as_of` (the latest that took effect before it) is not
    active. Later versions are ignored, so a suspension after `as_of` changes nothing; a member with
    no version yet in force counts as active (it trades, and no change to it is known)."""
    known = member_versions[member_versions.valid_from < as_of]
    if known.empty:
        return set()
    in_force = known.sort_values("valid_from").groupby("member_id").member_status.last()
    return set(in_force[in_force != ACTIVE_STATUS].index)


def member_risk_features(data: MarketData, alerts_per_member_day: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per member and trading day (members that traded in the 90 days before and are active
    at the end of the day): settlement history as known at the end of the day, exposure,
    concentration and surveillance alert counts.

    `alerts_per_member_day`: member_id, activity_date, alerts (rule hits on that day).
    """
    days = sorted(data.trades.trade_date.unique())
    s = data.settlements
    sides = trade_sides(data.trades)
    rows = []
    for day in days:
        end = pd.Timestamp(day, tz="UTC") + pd.Timedelta(days=1)
        recent = sides[(sides.activity_date > day - timedelta(days=90)) & (sides.activity_date <= day)]
        inactive = inactive_members(data.member_versions, end)
        members = [m for m in recent.member_id.unique() if m not in inactive]
        if len(members) == 0:
            continue
        known = s[s.trade_date <= day]
        due = known[known.due_at <= end]
        paid_by_now = due.settled_at.notna() & (due.settled_at <= end)
        delayed = (due.settled_at > due.due_at) & paid_by_now | ~paid_by_now
        severe = (due.settled_at.isna() | (due.settled_at > due.due_at + pd.Timedelta(days=1))) & (
            due.due_at + pd.Timedelta(days=1) <= end
        )
        due = due.assign(delayed=delayed, severe=severe, overdue=~paid_by_now)
        due_30 = due[due.due_at > end - pd.Timedelta(days=30)]
        due_90 = due[due.due_at > end - pd.Timedelta(days=90)]
        pending = known[known.due_at > end]
        value_30 = recent[recent.activity_date > day - timedelta(days=30)].assign(
            value=lambda f: f.price_ghs_per_t * f.quantity_t
        )
        by_symbol = value_30.groupby(["member_id", "symbol"]).value.sum()
        share = by_symbol / by_symbol.groupby(level=0).transform("sum")
        frame = pd.DataFrame(index=pd.Index(members, name="member_id"))
        frame["obligations_due_30d"] = due_30.groupby("member_id").size()
        frame["delayed_30d"] = due_30.groupby("member_id").delayed.sum()
        frame["severe_delays_90d"] = due_90.groupby("member_id").severe.sum()
        frame["overdue_now"] = due.groupby("member_id").overdue.sum()
        overdue_amount = due[due.overdue].groupby("member_id").amount_ghs.sum()
        frame["overdue_amount_share"] = overdue_amount / (
            overdue_amount.add(pending.groupby("member_id").amount_ghs.sum(), fill_value=0)
        )
        last_delay = due[due.delayed].groupby("member_id").due_at.max()
        frame["days_since_last_delay"] = ((end - last_delay).dt.total_seconds() / 86400).clip(upper=90)
        frame["pending_exposure_ghs_log"] = np.log1p(pending.groupby("member_id").amount_ghs.sum())
        frame["traded_value_30d_log"] = np.log1p(value_30.groupby("member_id").value.sum())
        frame["symbol_concentration_30d"] = (share**2).groupby(level=0).sum()
        if alerts_per_member_day is not None and len(alerts_per_member_day):
            window = alerts_per_member_day[
                (alerts_per_member_day.activity_date > day - timedelta(days=30))
                & (alerts_per_member_day.activity_date <= day)
            ]
            frame["alert_count_30d"] = window.groupby("member_id").alerts.sum()
        frame = frame.reindex(columns=MEMBER_RISK_FEATURES)
        frame = frame.fillna({"days_since_last_delay": 90.0}).fillna(0.0)
        frame["delayed_rate_30d"] = frame.delayed_30d / frame.obligations_due_30d.clip(lower=1)
        rows.append(frame.reset_index().assign(as_of_date=day))
    if not rows:
        return pd.DataFrame(columns=[*MEMBER_RISK_KEY, *MEMBER_RISK_FEATURES])
    out = pd.concat(rows, ignore_index=True)
    out[MEMBER_RISK_FEATURES] = out[MEMBER_RISK_FEATURES].astype(float)
    return out[[*MEMBER_RISK_KEY, *MEMBER_RISK_FEATURES]]
