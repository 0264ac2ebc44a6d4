"""The order and trade flow of one trading day, generated with numpy (no Python loop per order).

Prices follow a mean-reverting random walk per symbol around a grade- and location-adjusted fair
price, with a common factor per commodity (so maize symbols move together) and a harvest-season
cycle; within a day each symbol's trades follow a Brownian bridge from the previous close to the
new close, buyers paying a little more than sellers (the spread). Trades are generated first and
the orders behind them are derived from the trades, so every trade has exactly the buy and sell
orders that produced it and every fill event matches a trade:

- the aggressor's order arrives just before the trade (market, or a marketable limit order whose
  unfilled rest is cancelled at once, as immediate-or-cancel);
- the resting order was placed earlier at the trade price, sometimes modified while it waited, and
  may fill several consecutive trades (partial fills);
- other limit orders rest away from the market and are cancelled by the trader or expire at the
  close (GCX orders are day orders: nothing stays open overnight).

Surveillance episodes (``episodes.py``) add their own orders and trades through the same
``DayDraft``; ``assemble`` then numbers everything in time order and derives the order events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from gcx.simulator import columns
from gcx.simulator.reference import COMMODITIES, Reference
from gcx.simulator.trading_calendar import day_number, session_bounds_us

TRADES_PER_DAY_AT_SCALE_1 = 30.0
"""Real GCX size: a few tens of trades a day across the board."""
COMMODITY_DAILY_VOL = 0.012
IDIOSYNCRATIC_DAILY_VOL = 0.006
MEAN_REVERSION_PER_DAY = 0.03
INTRADAY_VOL = 0.006
HALF_SPREAD = 0.0015
SEASONAL_AMPLITUDE = {"WM": 0.06, "YM": 0.06, "SO": 0.05, "SB": 0.03, "SS": 0.02, "MR": 0.02}
"""Lean-season premium: grain prices peak around June-July, before the main harvest."""

SIDES = ("buy", "sell")
ORDER_TYPES = ("limit", "market")
ORDER_STATUSES = ("open", "partially_filled", "filled", "cancelled")
EVENT_TYPES = ("new", "modify", "fill", "cancel")
US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND


@dataclass
class PriceState:
    """What the price walk carries from one day to the next (a few numbers per symbol)."""

    commodity_factor: np.ndarray
    idiosyncratic: np.ndarray
    fair_cents: np.ndarray
    """Each symbol's fair price at the last close."""
    episode_offset: np.ndarray
    """Log-price push of an ongoing pump and dump, set by the episode that runs it."""

    @classmethod
    def initial(cls, reference: Reference, rng: np.random.Generator, start: date) -> PriceState:
        n = len(reference.instruments)
        state = cls(
            commodity_factor=rng.normal(0.0, 0.05, len(COMMODITIES)),
            idiosyncratic=rng.normal(0.0, 0.02, n),
            fair_cents=np.zeros(n),
            episode_offset=np.zeros(n),
        )
        state.fair_cents = state._fair(reference, day_number(start))
        return state

    def _fair(self, reference: Reference, day: int) -> np.ndarray:
        instruments = reference.instruments
        codes = [COMMODITIES[c].code for c in range(len(COMMODITIES))]
        season = np.array([SEASONAL_AMPLITUDE[c] for c in codes]) * math.cos(
            2 * math.pi * ((day + 4) % 365.25 - 182) / 365.25  # day 0 = 1970-01-01; peak early July
        )
        log_dev = (
            self.commodity_factor[instruments.commodity]
            + season[instruments.commodity]
            + self.idiosyncratic
            + self.episode_offset
        )
        fair = instruments.base_price_cents * np.exp(log_dev)
        return np.clip(fair, instruments.band_low_cents, instruments.band_high_cents)

    def advance(
        self, reference: Reference, day: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Step the walk one trading day; returns (open, close) fair prices in cents per symbol."""
        k = MEAN_REVERSION_PER_DAY
        self.commodity_factor = (1 - k) * self.commodity_factor + rng.normal(
            0.0, COMMODITY_DAILY_VOL, len(self.commodity_factor)
        )
        self.idiosyncratic = (1 - k) * self.idiosyncratic + rng.normal(
            0.0, IDIOSYNCRATIC_DAILY_VOL, len(self.idiosyncratic)
        )
        opening = self.fair_cents
        self.fair_cents = self._fair(reference, day)
        return opening, self.fair_cents


@dataclass(frozen=True)
class DayMarket:
    """One trading day's prices, session and who may trade: what every generator of the day reads."""

    day: date
    day_number: int
    open_us: int
    close_us: int
    open_cents: np.ndarray
    close_cents: np.ndarray
    listed: np.ndarray  # bool per instrument
    tradable_accounts: np.ndarray  # bool per account
    reference: Reference

    @classmethod
    def for_day(
        cls, reference: Reference, day: date, prices: PriceState, rng: np.random.Generator
    ) -> DayMarket:
        number = day_number(day)
        opening, closing = prices.advance(reference, number, rng)
        open_us, close_us = session_bounds_us(day)
        return cls(
            day=day,
            day_number=number,
            open_us=open_us,
            close_us=close_us,
            open_cents=opening,
            close_cents=closing,
            listed=reference.instruments.listed_on(number),
            tradable_accounts=reference.accounts.tradable_on(number, reference.members),
            reference=reference,
        )

    def session_fraction(self, t_us: np.ndarray) -> np.ndarray:
        return (np.asarray(t_us) - self.open_us) / (self.close_us - self.open_us)

    def mid_cents(self, instrument: np.ndarray, t_us: np.ndarray) -> np.ndarray:
        """The fair mid price at a moment of the session (geometric path from open to close)."""
        f = np.clip(self.session_fraction(t_us), 0.0, 1.0)
        return np.exp(
            np.log(self.open_cents[instrument]) * (1 - f) + np.log(self.close_cents[instrument]) * f
        )

    def on_tick(self, instrument: np.ndarray, cents: np.ndarray) -> np.ndarray:
        """Round to the symbol's tick and keep inside its commodity band."""
        instruments = self.reference.instruments
        tick = instruments.tick_cents[instrument]
        rounded = np.round(np.asarray(cents) / tick).astype(np.int64) * tick
        return np.clip(
            rounded, instruments.band_low_cents[instrument], instruments.band_high_cents[instrument]
        )

    def lots(self, instrument: np.ndarray, count: np.ndarray) -> np.ndarray:
        return self.reference.instruments.lot_t[instrument] * np.asarray(count, dtype=np.int64)

    def pick_accounts(self, rng: np.random.Generator, side: np.ndarray) -> np.ndarray:
        """Accounts to trade on ``side`` (0 buy, 1 sell), by activity and buy/sell propensity."""
        accounts = self.reference.accounts
        base = accounts.activity * self.tradable_accounts
        out = np.empty(len(side), dtype=np.int64)
        for s, weight in ((0, base * accounts.buy_propensity), (1, base / accounts.buy_propensity)):
            mask = side == s
            if mask.any():
                out[mask] = rng.choice(len(weight), size=int(mask.sum()), p=weight / weight.sum())
        return out


ORDER_COLUMNS = (
    "instrument", "account", "side", "is_market", "limit_cents", "new_limit_cents", "quantity_t",
    "new_quantity_t", "created_us", "modify_us", "cancel_us", "episode",
)  # fmt: skip
TRADE_COLUMNS = (
    "instrument", "executed_us", "price_cents", "quantity_t", "aggressor", "buy_order", "sell_order", "episode",
)  # fmt: skip


@dataclass
class DayDraft:
    """Orders and trades of a day before numbering; trades point at orders by draft index."""

    orders: dict[str, list[np.ndarray]] = field(default_factory=lambda: {c: [] for c in ORDER_COLUMNS})
    trades: dict[str, list[np.ndarray]] = field(default_factory=lambda: {c: [] for c in TRADE_COLUMNS})
    order_count: int = 0
    trade_count: int = 0

    def add_orders(
        self,
        *,
        instrument: np.ndarray,
        account: np.ndarray,
        side: np.ndarray,
        created_us: np.ndarray,
        limit_cents: np.ndarray,
        quantity_t: np.ndarray,
        is_market: np.ndarray | None = None,
        new_limit_cents: np.ndarray | None = None,
        new_quantity_t: np.ndarray | None = None,
        modify_us: np.ndarray | None = None,
        cancel_us: np.ndarray | None = None,
        episode: np.ndarray | int = -1,
    ) -> np.ndarray:
        """Add orders (market orders have limit_cents -1); returns their draft indices.

        ``new_*`` are the price and quantity at entry when a modify event (at ``modify_us``)
        changed them; ``cancel_us`` -1 means not cancelled by the trader.
        """
        n = len(instrument)
        none = np.full(n, -1, dtype=np.int64)
        values = {
            "instrument": instrument,
            "account": account,
            "side": side,
            "is_market": np.zeros(n, dtype=bool) if is_market is None else is_market,
            "limit_cents": limit_cents,
            "new_limit_cents": limit_cents if new_limit_cents is None else new_limit_cents,
            "quantity_t": quantity_t,
            "new_quantity_t": quantity_t if new_quantity_t is None else new_quantity_t,
            "created_us": created_us,
            "modify_us": none if modify_us is None else modify_us,
            "cancel_us": none if cancel_us is None else cancel_us,
            "episode": np.broadcast_to(np.asarray(episode, dtype=np.int64), (n,)),
        }
        for name, value in values.items():
            self.orders[name].append(np.asarray(value))
        indices = np.arange(self.order_count, self.order_count + n)
        self.order_count += n
        return indices

    def add_trades(
        self,
        *,
        instrument: np.ndarray,
        executed_us: np.ndarray,
        price_cents: np.ndarray,
        quantity_t: np.ndarray,
        aggressor: np.ndarray,
        buy_order: np.ndarray,
        sell_order: np.ndarray,
        episode: np.ndarray | int = -1,
    ) -> np.ndarray:
        n = len(instrument)
        values = {
            "instrument": instrument,
            "executed_us": executed_us,
            "price_cents": price_cents,
            "quantity_t": quantity_t,
            "aggressor": aggressor,
            "buy_order": buy_order,
            "sell_order": sell_order,
            "episode": np.broadcast_to(np.asarray(episode, dtype=np.int64), (n,)),
        }
        for name, value in values.items():
            self.trades[name].append(np.asarray(value))
        indices = np.arange(self.trade_count, self.trade_count + n)
        self.trade_count += n
        return indices

    def cross(
        self,
        market: DayMarket,
        rng: np.random.Generator,
        *,
        instrument: np.ndarray,
        executed_us: np.ndarray,
        price_cents: np.ndarray,
        quantity_t: np.ndarray,
        aggressor: np.ndarray,
        buy_account: np.ndarray,
        sell_account: np.ndarray,
        resting_for_us: np.ndarray,
        episode: np.ndarray | int = -1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Trades between two given accounts, each with its own resting and aggressing order.

        The resting side's limit order was entered ``resting_for_us`` before at the trade price;
        the aggressor's limit order arrives a fraction of a second before the trade. Returns
        (trade indices, order indices).
        """
        n = len(instrument)
        resting_side = 1 - aggressor
        resting_account = np.where(resting_side == 0, buy_account, sell_account)
        aggressor_account = np.where(aggressor == 0, buy_account, sell_account)
        resting = self.add_orders(
            instrument=instrument,
            account=resting_account,
            side=resting_side,
            created_us=np.maximum(market.open_us, executed_us - resting_for_us),
            limit_cents=price_cents,
            quantity_t=quantity_t,
            episode=episode,
        )
        aggressing = self.add_orders(
            instrument=instrument,
            account=aggressor_account,
            side=aggressor,
            created_us=np.maximum(market.open_us, executed_us - rng.integers(20_000, 900_000, n)),
            limit_cents=price_cents,
            quantity_t=quantity_t,
            episode=episode,
        )
        buy_order = np.where(aggressor == 0, aggressing, resting)
        sell_order = np.where(aggressor == 0, resting, aggressing)
        trades = self.add_trades(
            instrument=instrument,
            executed_us=executed_us,
            price_cents=price_cents,
            quantity_t=quantity_t,
            aggressor=aggressor,
            buy_order=buy_order,
            sell_order=sell_order,
            episode=episode,
        )
        return trades, np.concatenate([resting, aggressing])


def expected_trades(market: DayMarket, scale: float) -> np.ndarray:
    """Expected normal trades per instrument on this day (zero for unlisted symbols)."""
    activity = market.reference.instruments.activity * market.listed
    return TRADES_PER_DAY_AT_SCALE_1 * scale * activity


def add_normal_flow(
    draft: DayDraft,
    market: DayMarket,
    rng: np.random.Generator,
    scale: float,
    activity_boost: np.ndarray,
    close_cutoff_us: np.ndarray,
) -> None:
    """The day's ordinary trading: trades with their aggressing and resting orders, plus orders
    that never trade.

    ``activity_boost`` multiplies a symbol's volume (pump-and-dump interest); ``close_cutoff_us``
    ends a symbol's ordinary trading early on a day someone marks its close.
    """
    day_activity = rng.lognormal(-0.045, 0.3)
    lam = expected_trades(market, scale) * activity_boost * day_activity
    counts = rng.poisson(lam)
    instrument = np.repeat(np.arange(len(lam)), counts)
    n = len(instrument)
    session = market.close_us - market.open_us
    t = market.open_us + (rng.beta(0.75, 0.75, n) * (session - 1)).astype(np.int64)
    cutoff = close_cutoff_us[instrument]
    t = np.where(
        t < cutoff, t, market.open_us + ((t - market.open_us) * ((cutoff - market.open_us) / session))
    )
    t = t.astype(np.int64)
    order = np.lexsort((t, instrument))
    instrument, t = instrument[order], t[order]
    if n:
        _add_trades_with_orders(draft, market, rng, instrument, t)
    _add_resting_orders_that_do_not_trade(draft, market, rng, lam)


def _bridge(rng: np.random.Generator, instrument: np.ndarray, f: np.ndarray) -> np.ndarray:
    """A Brownian bridge per instrument (0 at open and close), sampled at sorted fractions ``f``."""
    n = len(instrument)
    first = np.r_[True, instrument[1:] != instrument[:-1]]
    previous = np.r_[0.0, f[:-1]]
    previous[first] = 0.0
    step = rng.standard_normal(n) * np.sqrt(np.maximum(f - previous, 0.0))
    total = np.cumsum(step)
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    walk = total - (total - step)[starts][group]
    lasts = np.r_[starts[1:] - 1, n - 1]
    end = walk[lasts] + rng.standard_normal(len(lasts)) * np.sqrt(np.maximum(1.0 - f[lasts], 0.0))
    return walk - f * end[group]


def _add_trades_with_orders(
    draft: DayDraft, market: DayMarket, rng: np.random.Generator, instrument: np.ndarray, t: np.ndarray
) -> None:
    n = len(instrument)
    f = market.session_fraction(t)
    mid = market.mid_cents(instrument, t) * np.exp(INTRADAY_VOL * _bridge(rng, instrument, f))
    aggressor = (rng.random(n) < 0.5).astype(np.int64)
    direction = 1 - 2 * aggressor  # +1 buyer pays up, -1 seller gives in
    price = market.on_tick(instrument, mid * (1 + direction * HALF_SPREAD * rng.uniform(0.3, 1.5, n)))
    quantity = market.lots(instrument, np.minimum(rng.geometric(0.4, n), 20))

    # consecutive trades against the same resting order (same symbol and side, same price)
    first = np.r_[True, instrument[1:] != instrument[:-1]]
    joins = ~first & (aggressor == np.r_[-1, aggressor[:-1]]) & (rng.random(n) < 0.3)
    run = np.cumsum(~joins) - 1
    run_first = np.flatnonzero(~joins)
    run_last = np.r_[run_first[1:] - 1, n - 1]
    price = price[run_first][run]
    n_runs = len(run_first)
    run_instrument = instrument[run_first]
    resting_side = 1 - aggressor[run_first]

    resting_account = market.pick_accounts(rng, resting_side)
    aggressor_account = market.pick_accounts(rng, aggressor)
    owners = market.reference.accounts.owner
    for _ in range(8):  # nobody trades with themselves in ordinary flow (that is a wash trade)
        clash = owners[aggressor_account] == owners[resting_account[run]]
        if not clash.any():
            break
        aggressor_account[clash] = market.pick_accounts(rng, aggressor[clash])
    keep = owners[aggressor_account] != owners[resting_account[run]]

    # resting orders: entered earlier at the trade price, maybe modified, maybe not fully filled
    run_quantity = np.bincount(run, weights=quantity * keep, minlength=n_runs).astype(np.int64)
    leftover = np.where(rng.random(n_runs) < 0.3, market.lots(run_instrument, rng.integers(1, 6, n_runs)), 0)
    start_t = t[run_first]
    created = np.maximum(
        market.open_us + US_PER_SECOND,
        start_t - rng.exponential(25 * US_PER_MINUTE, n_runs).astype(np.int64),
    )
    created = np.minimum(created, start_t - 1)
    modified = rng.random(n_runs) < 0.15
    resting_direction = 1 - 2 * resting_side
    tick = market.reference.instruments.tick_cents[run_instrument]
    run_price = price[run_first]
    entry_price = np.where(
        modified,
        np.maximum(tick, run_price - resting_direction * tick * rng.integers(1, 4, n_runs)),
        run_price,
    )
    modify_at = np.where(modified, created + ((start_t - created) * rng.random(n_runs)).astype(np.int64), -1)
    trader_cancels = (leftover > 0) & (rng.random(n_runs) < 0.5)
    last_t = t[run_last]
    cancel_at = np.where(
        trader_cancels, last_t + ((market.close_us - last_t) * rng.random(n_runs)).astype(np.int64), -1
    )
    has_trades = run_quantity > 0
    resting = draft.add_orders(
        instrument=run_instrument[has_trades],
        account=resting_account[has_trades],
        side=resting_side[has_trades],
        created_us=created[has_trades],
        limit_cents=run_price[has_trades],
        new_limit_cents=entry_price[has_trades],
        quantity_t=(run_quantity + leftover)[has_trades],
        modify_us=modify_at[has_trades],
        cancel_us=cancel_at[has_trades],
    )
    resting_of_run = np.full(n_runs, -1, dtype=np.int64)
    resting_of_run[has_trades] = resting

    # aggressing orders: market, or marketable limit orders whose unfilled rest is cancelled at once
    instrument, t, price, quantity, aggressor, direction = (
        a[keep] for a in (instrument, t, price, quantity, aggressor, direction)
    )
    aggressor_account, run = aggressor_account[keep], run[keep]
    m = len(instrument)
    is_market = rng.random(m) < 0.35
    tick = market.reference.instruments.tick_cents[instrument]
    limit = np.where(is_market, -1, price + direction * tick * rng.integers(0, 4, m))
    immediate_or_cancel = ~is_market & (rng.random(m) < 0.15)
    extra = np.where(immediate_or_cancel, market.lots(instrument, rng.integers(1, 4, m)), 0)
    aggressing = draft.add_orders(
        instrument=instrument,
        account=aggressor_account,
        side=aggressor,
        created_us=np.maximum(market.open_us, t - rng.integers(20_000, 900_000, m)),
        limit_cents=limit,
        quantity_t=quantity + extra,
        is_market=is_market,
        cancel_us=np.where(immediate_or_cancel, t + rng.integers(1_000, 50_000, m), -1),
    )
    rest = resting_of_run[run]
    draft.add_trades(
        instrument=instrument,
        executed_us=t,
        price_cents=price,
        quantity_t=quantity,
        aggressor=aggressor,
        buy_order=np.where(aggressor == 0, aggressing, rest),
        sell_order=np.where(aggressor == 0, rest, aggressing),
    )


def _add_resting_orders_that_do_not_trade(
    draft: DayDraft, market: DayMarket, rng: np.random.Generator, lam: np.ndarray
) -> None:
    counts = rng.poisson(0.6 * lam)
    instrument = np.repeat(np.arange(len(lam)), counts)
    n = len(instrument)
    if n == 0:
        return
    session = market.close_us - market.open_us
    created = market.open_us + (rng.random(n) * (session - US_PER_MINUTE)).astype(np.int64)
    side = (rng.random(n) < 0.5).astype(np.int64)
    direction = 1 - 2 * side
    away = rng.uniform(0.003, 0.03, n)
    price = market.on_tick(instrument, market.mid_cents(instrument, created) * (1 - direction * away))
    large = rng.random(n) < 0.04  # institutions work big orders too: size alone is not spoofing
    quantity = market.lots(instrument, np.minimum(rng.geometric(0.4, n), 20) * np.where(large, 10, 1))
    modified = rng.random(n) < 0.1
    modify_at = np.where(
        modified, created + (rng.random(n) * (market.close_us - created) / 2).astype(np.int64), -1
    )
    entry_price = np.where(
        modified,
        market.on_tick(instrument, price * (1 - direction * rng.uniform(0.002, 0.01, n))),
        price,
    )
    lifetime = rng.exponential(40 * US_PER_MINUTE, n).astype(np.int64)
    cancel_at = np.maximum(modify_at, created) + lifetime
    cancel_at = np.where((rng.random(n) < 0.55) & (cancel_at < market.close_us), cancel_at, -1)
    draft.add_orders(
        instrument=instrument,
        account=market.pick_accounts(rng, side),
        side=side,
        created_us=created,
        limit_cents=price,
        new_limit_cents=entry_price,
        quantity_t=quantity,
        modify_us=modify_at,
        cancel_us=cancel_at,
    )


@dataclass(frozen=True)
class DayBook:
    """A day's orders, order events and trades, numbered, in the exchange's terms."""

    orders: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    trades: dict[str, np.ndarray]
    trade_index_of_draft: np.ndarray
    """Position in ``trades`` of each draft trade (episodes use it to find their trade ids)."""
    order_index_of_draft: np.ndarray


def _concat(parts: dict[str, list[np.ndarray]], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {
        name: np.concatenate(parts[name]) if parts[name] else np.zeros(0, dtype=np.int64) for name in names
    }


def assemble(
    draft: DayDraft, market: DayMarket, first_order_id: int, first_event_id: int, first_trade_number: int
) -> DayBook:
    """Number orders and trades in time order, derive fills, statuses and the order events."""
    orders = _concat(draft.orders, ORDER_COLUMNS)
    trades = _concat(draft.trades, TRADE_COLUMNS)
    accounts = market.reference.accounts

    order_rank = np.argsort(orders["created_us"], kind="stable")
    orders = {k: v[order_rank] for k, v in orders.items()}
    order_index_of_draft = np.empty(len(order_rank), dtype=np.int64)
    order_index_of_draft[order_rank] = np.arange(len(order_rank))
    orders["order_id"] = first_order_id + np.arange(len(order_rank), dtype=np.int64)
    orders["member"] = accounts.member[orders["account"]]

    trade_rank = np.argsort(trades["executed_us"], kind="stable")
    trades = {k: v[trade_rank] for k, v in trades.items()}
    trade_index_of_draft = np.empty(len(trade_rank), dtype=np.int64)
    trade_index_of_draft[trade_rank] = np.arange(len(trade_rank))
    trades["trade_number"] = first_trade_number + np.arange(len(trade_rank), dtype=np.int64)
    buy = order_index_of_draft[trades["buy_order"]]
    sell = order_index_of_draft[trades["sell_order"]]
    trades["buy_order_id"] = orders["order_id"][buy]
    trades["sell_order_id"] = orders["order_id"][sell]
    trades["buyer_account"] = orders["account"][buy]
    trades["seller_account"] = orders["account"][sell]
    trades["buyer_member"] = accounts.member[trades["buyer_account"]]
    trades["seller_member"] = accounts.member[trades["seller_account"]]

    n_orders = len(order_rank)
    filled = np.bincount(
        np.r_[buy, sell], weights=np.r_[trades["quantity_t"], trades["quantity_t"]], minlength=n_orders
    )
    orders["filled_t"] = filled.astype(np.int64)
    last_fill = np.full(n_orders, -1, dtype=np.int64)
    np.maximum.at(last_fill, np.r_[buy, sell], np.r_[trades["executed_us"], trades["executed_us"]])
    unfilled = orders["filled_t"] < orders["quantity_t"]
    # day orders: whatever is left at the close expires (a cancel event at the close)
    orders["cancel_us"] = np.where(unfilled & (orders["cancel_us"] < 0), market.close_us, orders["cancel_us"])
    orders["status"] = np.where(
        orders["cancel_us"] >= 0, ORDER_STATUSES.index("cancelled"), ORDER_STATUSES.index("filled")
    )
    orders["updated_us"] = np.maximum.reduce(
        [orders["created_us"], orders["modify_us"], orders["cancel_us"], last_fill]
    )

    events = _order_events(orders, trades, buy, sell)
    events["event_id"] = first_event_id + np.arange(len(events["order"]), dtype=np.int64)
    return DayBook(orders, events, trades, trade_index_of_draft, order_index_of_draft)


def _order_events(
    orders: dict[str, np.ndarray], trades: dict[str, np.ndarray], buy: np.ndarray, sell: np.ndarray
) -> dict[str, np.ndarray]:
    """new / modify / fill / cancel events, in time order (then order id, then lifecycle order)."""
    n = len(orders["order_id"])
    all_orders = np.arange(n)
    modified = np.flatnonzero(orders["modify_us"] >= 0)
    cancelled = np.flatnonzero(orders["cancel_us"] >= 0)
    fills = np.r_[buy, sell]
    order = np.r_[all_orders, modified, fills, cancelled]
    kind = np.r_[
        np.zeros(n), np.ones(len(modified)), np.full(len(fills), 2), np.full(len(cancelled), 3)
    ].astype(np.int64)
    at = np.r_[
        orders["created_us"],
        orders["modify_us"][modified],
        np.r_[trades["executed_us"], trades["executed_us"]],
        orders["cancel_us"][cancelled],
    ]
    is_new = kind == 0
    limit = np.where(is_new, orders["new_limit_cents"][order], orders["limit_cents"][order])
    quantity = np.where(is_new, orders["new_quantity_t"][order], orders["quantity_t"][order])
    rank = np.lexsort((kind, order, at))
    return {
        "order": order[rank],
        "event_type": kind[rank],
        "event_us": at[rank],
        "limit_cents": limit[rank],
        "quantity_t": quantity[rank],
    }


def orders_table(book: DayBook, reference: Reference) -> pa.Table:
    o = book.orders
    return pa.table(
        {
            "order_id": columns.integers(o["order_id"]),
            "instrument_id": columns.integers(reference.instruments.instrument_id[o["instrument"]]),
            "member_id": columns.texts(reference.members.member_id, o["member"]),
            "account_id": columns.texts(reference.accounts.account_id, o["account"]),
            "side": columns.texts(SIDES, o["side"]),
            "order_type": columns.texts(ORDER_TYPES, o["is_market"].astype(np.int64)),
            "limit_price_ghs_per_t": columns.decimals(o["limit_cents"], null=o["limit_cents"] < 0),
            "quantity_t": columns.integers(o["quantity_t"]),
            "filled_t": columns.integers(o["filled_t"]),
            "status": columns.texts(ORDER_STATUSES, o["status"]),
            "created_at": columns.timestamps(o["created_us"]),
            "updated_at": columns.timestamps(o["updated_us"]),
        }
    )


def order_events_table(book: DayBook) -> pa.Table:
    e = book.events
    return pa.table(
        {
            "event_id": columns.integers(e["event_id"]),
            "order_id": columns.integers(book.orders["order_id"][e["order"]]),
            "event_type": columns.texts(EVENT_TYPES, e["event_type"]),
            "event_at": columns.timestamps(e["event_us"]),
            "limit_price_ghs_per_t": columns.decimals(e["limit_cents"], null=e["limit_cents"] < 0),
            "quantity_t": columns.integers(e["quantity_t"]),
            "updated_at": columns.timestamps(e["event_us"]),
        }
    )


MEMBER_NULL, MEMBER_UNKNOWN = -1, -2
UNKNOWN_MEMBER_ID = "MBR9999"
"""A member id no member has; trades has no foreign key on members, so it can occur."""


@dataclass
class TradeValues:
    """The columns of a day's trades as they are written: the book's values, possibly corrupted
    by injected faults (members may be MEMBER_NULL or MEMBER_UNKNOWN)."""

    instrument: np.ndarray
    executed_us: np.ndarray
    price_cents: np.ndarray
    quantity_t: np.ndarray
    quantity_null: np.ndarray
    buyer_member: np.ndarray
    seller_member: np.ndarray

    @classmethod
    def of(cls, book: DayBook) -> TradeValues:
        t = book.trades
        return cls(
            instrument=t["instrument"].copy(),
            executed_us=t["executed_us"].copy(),
            price_cents=t["price_cents"].copy(),
            quantity_t=t["quantity_t"].copy(),
            quantity_null=np.zeros(len(t["instrument"]), dtype=bool),
            buyer_member=t["buyer_member"].copy(),
            seller_member=t["seller_member"].copy(),
        )


def trade_ids(book: DayBook) -> pa.Array:
    return columns.prefixed_ids("T", book.trades["trade_number"], 10)


def trades_table(
    book: DayBook, values: TradeValues, reference: Reference, ids: pa.Array, written_us: np.ndarray
) -> pa.Table:
    """``written_us`` is each trade's updated_at: when it was really written, even if
    ``values.executed_us`` was corrupted."""
    t = book.trades
    member_ids = [*reference.members.member_id, UNKNOWN_MEMBER_ID]

    def members(index: np.ndarray) -> pa.Array:
        return columns.texts(
            member_ids,
            np.where(index == MEMBER_UNKNOWN, len(member_ids) - 1, np.maximum(index, 0)),
            null=index == MEMBER_NULL,
        )

    return pa.table(
        {
            "trade_id": ids,
            "instrument_id": columns.integers(reference.instruments.instrument_id[values.instrument]),
            "executed_at": columns.timestamps(values.executed_us),
            "price_ghs_per_t": columns.decimals(values.price_cents),
            "quantity_t": columns.integers(values.quantity_t, null=values.quantity_null),
            "buy_order_id": columns.integers(t["buy_order_id"]),
            "sell_order_id": columns.integers(t["sell_order_id"]),
            "buyer_member_id": members(values.buyer_member),
            "buyer_account_id": columns.texts(reference.accounts.account_id, t["buyer_account"]),
            "seller_member_id": members(values.seller_member),
            "seller_account_id": columns.texts(reference.accounts.account_id, t["seller_account"]),
            "aggressor_side": columns.texts(SIDES, t["aggressor"]),
            "updated_at": columns.timestamps(written_us),
        }
    )
