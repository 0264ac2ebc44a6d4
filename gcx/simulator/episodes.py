"""Market-abuse episodes injected into the order flow, and their ground truth.

Each episode adds its own orders and trades to a day's ``DayDraft`` through the same crossing logic
as ordinary flow, so nothing in the exchange data marks it: only ``truth/episodes.jsonl`` does.

- wash_trade: one beneficial owner buys and sells the same lot through accounts at two members;
- circular_trading: a ring of 3-4 members passes the same lot around at nearly the same price;
- spoofing: large orders on one side, cancelled within seconds or minutes and never filled, while
  the same member trades small on the other side at the price they pushed;
- marking_the_close: aggressive trades in the last minutes of the session push the closing price
  (ordinary trading of that symbol ends before them that day);
- pump_and_dump: over several days a group buys on rising volume while the price is pushed up,
  then sells and the price falls back.

Ordinary flow never has the same owner on both sides of a trade, so every same-owner trade is a
labelled wash trade.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from gcx.simulator.market import US_PER_MINUTE, US_PER_SECOND, DayBook, DayDraft, DayMarket, PriceState
from gcx.simulator.reference import Reference
from gcx.simulator.trading_calendar import iso_utc

EPISODE_TYPES = ("wash_trade", "circular_trading", "spoofing", "marking_the_close", "pump_and_dump")
MONTHLY_RATE_AT_SCALE_1 = {
    "wash_trade": 1.5,
    "circular_trading": 0.7,
    "spoofing": 1.0,
    "marking_the_close": 1.0,
    "pump_and_dump": 0.6,
}
TRADING_DAYS_PER_MONTH = 21
MAX_PUMPS_AT_ONCE = 6


def format_trade_id(number: int) -> str:
    """The exchange's trade id, e.g. T0000000042 (text primary key, ordered like the number)."""
    return f"T{number:010d}"


@dataclass
class Episode:
    number: int
    type: str
    instrument: int
    members: set[int] = field(default_factory=set)
    accounts: set[int] = field(default_factory=set)
    trade_numbers: list[int] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)
    start_us: int | None = None
    end_us: int | None = None
    # the current day's draft indices, resolved to ids by ``collect``
    draft_trades: list[np.ndarray] = field(default_factory=list)
    draft_orders: list[np.ndarray] = field(default_factory=list)

    @property
    def episode_id(self) -> str:
        return f"EP{self.number:06d}"

    def extend_span(self, times: np.ndarray) -> None:
        if len(times) == 0:
            return
        low, high = int(times.min()), int(times.max())
        self.start_us = low if self.start_us is None else min(self.start_us, low)
        self.end_us = high if self.end_us is None else max(self.end_us, high)

    def to_json(self, reference: Reference) -> str:
        r = reference
        return json.dumps(
            {
                "episode_id": self.episode_id,
                "type": self.type,
                "start_at": iso_utc(self.start_us or 0),
                "end_at": iso_utc(self.end_us or 0),
                "symbol": r.instruments.symbol[self.instrument],
                "member_ids": [r.members.member_id[m] for m in sorted(self.members)],
                "account_ids": [r.accounts.account_id[a] for a in sorted(self.accounts)],
                "trade_ids": [format_trade_id(t) for t in self.trade_numbers],
                "order_ids": self.order_ids,
            }
        )


@dataclass
class PumpAndDump:
    episode: Episode
    group_accounts: np.ndarray
    peak: float
    pump_days: int
    dump_days: int
    days_done: int = 0

    def offset_today(self) -> float:
        """Log-price push on the coming day: rising during the pump, back to zero (and a little
        below) during the dump."""
        j = self.days_done + 1
        if j <= self.pump_days:
            return self.peak * j / self.pump_days
        k = j - self.pump_days
        return self.peak * (1 - k / self.dump_days) - (0.02 if k == self.dump_days else 0.0)

    @property
    def pumping(self) -> bool:
        return self.days_done < self.pump_days

    @property
    def finished(self) -> bool:
        return self.days_done >= self.pump_days + self.dump_days


@dataclass
class DayEffects:
    """What today's episodes require of the ordinary flow."""

    activity_boost: np.ndarray
    close_cutoff_us: np.ndarray


class EpisodeInjector:
    """Decides, injects and records the episodes, day after day (state: ongoing pumps, counter)."""

    def __init__(self, reference: Reference, scale: float) -> None:
        self.reference = reference
        self.scale = scale
        self.next_number = 1
        self.pumps: list[PumpAndDump] = []
        self.today: list[Episode] = []

    def _new(self, kind: str, instrument: int) -> Episode:
        episode = Episode(self.next_number, kind, instrument)
        self.next_number += 1
        self.today.append(episode)
        return episode

    def _count(self, rng: np.random.Generator, kind: str) -> int:
        return int(rng.poisson(MONTHLY_RATE_AT_SCALE_1[kind] * self.scale / TRADING_DAYS_PER_MONTH))

    # --- before the day's prices: pumps push the price walk -------------------------------------

    def push_prices(self, prices: PriceState, day: int, rng: np.random.Generator) -> None:
        """Start new pump-and-dumps and set every ongoing one's push on today's prices."""
        members = self.reference.members
        instruments = self.reference.instruments
        prices.episode_offset[:] = 0.0
        busy = {p.episode.instrument for p in self.pumps}
        for _ in range(self._count(rng, "pump_and_dump")):
            if len(self.pumps) >= MAX_PUMPS_AT_ONCE * max(1.0, np.log10(max(self.scale, 1.0)) + 1):
                break
            listed = instruments.listed_on(day) & (instruments.delisted_day > day + 15)
            headroom = np.log(instruments.band_high_cents / np.maximum(prices.fair_cents, 1.0))
            eligible = np.flatnonzero(listed & (headroom > 0.12))
            eligible = np.array([i for i in eligible if i not in busy], dtype=np.int64)
            tradable = self.reference.accounts.tradable_on(day, members) & self.reference.accounts.proprietary
            group_members = np.unique(self.reference.accounts.member[tradable])
            if len(eligible) == 0 or len(group_members) < 3:
                break
            instrument = int(rng.choice(eligible))
            size = int(rng.integers(2, 4))
            group = rng.choice(group_members, size=size, replace=False)
            accounts = np.array(
                [int(np.flatnonzero(tradable & (self.reference.accounts.member == m))[0]) for m in group]
            )
            peak = float(min(rng.uniform(0.10, 0.22), headroom[instrument] - 0.02))
            episode = self._new("pump_and_dump", instrument)
            self.today.remove(episode)  # recorded when it finishes, not on its first day
            self.pumps.append(
                PumpAndDump(episode, accounts, peak, int(rng.integers(3, 7)), int(rng.integers(1, 4)))
            )
            busy.add(instrument)
        for pump in self.pumps:
            prices.episode_offset[pump.episode.instrument] = pump.offset_today()

    # --- the day's plan and injection ------------------------------------------------------------

    def plan(self, market: DayMarket, rng: np.random.Generator) -> tuple[DayEffects, list]:
        n = len(self.reference.instruments)
        boost = np.ones(n)
        cutoff = np.full(n, np.iinfo(np.int64).max)
        for pump in self.pumps:
            boost[pump.episode.instrument] = 1.0 + 4.0 * abs(pump.offset_today())
        markings = []
        listed = np.flatnonzero(market.listed)
        for _ in range(self._count(rng, "marking_the_close")):
            free = listed[cutoff[listed] == np.iinfo(np.int64).max]
            if len(free) == 0:
                break
            instrument = int(self._pick_symbol(market, rng, free))
            start = market.close_us - int(rng.uniform(2, 5) * US_PER_MINUTE)
            cutoff[instrument] = start
            markings.append((instrument, start))
        return DayEffects(boost, cutoff), markings

    def inject(self, draft: DayDraft, market: DayMarket, rng: np.random.Generator, markings: list) -> None:
        for _ in range(self._count(rng, "wash_trade")):
            self._wash_trade(draft, market, rng)
        for _ in range(self._count(rng, "circular_trading")):
            self._circular_trading(draft, market, rng)
        for _ in range(self._count(rng, "spoofing")):
            self._spoofing(draft, market, rng)
        for instrument, start in markings:
            self._marking_the_close(draft, market, rng, instrument, start)
        for pump in list(self.pumps):
            self._pump_and_dump_day(draft, market, rng, pump)

    def collect(self, book: DayBook) -> list[Episode]:
        """Resolve today's draft indices to trade and order ids; return the episodes now complete."""
        ongoing = [p.episode for p in self.pumps]
        for episode in self.today + ongoing:
            if episode.draft_trades:
                at = book.trade_index_of_draft[np.concatenate(episode.draft_trades)]
                episode.trade_numbers += sorted(int(x) for x in book.trades["trade_number"][at])
                episode.extend_span(book.trades["executed_us"][at])
            if episode.draft_orders:
                at = book.order_index_of_draft[np.concatenate(episode.draft_orders)]
                episode.order_ids += sorted(int(x) for x in book.orders["order_id"][at])
                episode.members.update(int(m) for m in book.orders["member"][at])
                episode.accounts.update(int(a) for a in book.orders["account"][at])
                episode.extend_span(book.orders["created_us"][at])
                episode.extend_span(book.orders["updated_us"][at])
            episode.draft_trades, episode.draft_orders = [], []
        done = [e for e in self.today if e.trade_numbers]
        for pump in self.pumps:
            pump.days_done += 1
        finished = [p for p in self.pumps if p.finished]
        self.pumps = [p for p in self.pumps if not p.finished]
        done += [p.episode for p in finished if p.episode.trade_numbers]
        self.today = []
        return done

    def close_open_episodes(self) -> list[Episode]:
        """Pumps still running when the simulation ends (their truth covers what happened)."""
        done = [p.episode for p in self.pumps if p.episode.trade_numbers]
        self.pumps = []
        return done

    # --- the five patterns -----------------------------------------------------------------------

    def _pick_symbol(
        self, market: DayMarket, rng: np.random.Generator, among: np.ndarray | None = None
    ) -> int:
        weight = self.reference.instruments.activity * market.listed
        if among is not None:
            mask = np.zeros(len(weight), dtype=bool)
            mask[among] = True
            weight = weight * mask
        return int(rng.choice(len(weight), p=weight / weight.sum()))

    def _counterparties(
        self, market: DayMarket, rng: np.random.Generator, side: np.ndarray, avoid_owners: np.ndarray
    ) -> np.ndarray:
        """Ordinary accounts to take the other side, never owned by the episode's owners."""
        accounts = market.pick_accounts(rng, side)
        for _ in range(20):
            clash = np.isin(self.reference.accounts.owner[accounts], avoid_owners)
            if not clash.any():
                return accounts
            accounts[clash] = market.pick_accounts(rng, side[clash])
        return accounts[~np.isin(self.reference.accounts.owner[accounts], avoid_owners)]

    def _times(self, market: DayMarket, rng: np.random.Generator, n: int, span_us: float) -> np.ndarray:
        start = market.open_us + int(rng.random() * (market.close_us - market.open_us - span_us))
        return np.sort(start + (rng.random(n) * span_us).astype(np.int64))

    def _wash_trade(self, draft: DayDraft, market: DayMarket, rng: np.random.Generator) -> None:
        accounts = self.reference.accounts
        usable = []
        for owner in self.reference.multi_member_owners:
            own = np.flatnonzero((accounts.owner == owner) & market.tradable_accounts)
            if len(np.unique(accounts.member[own])) >= 2:
                usable.append(own)
        if not usable:
            return
        own = usable[int(rng.integers(len(usable)))]
        first = own[0]
        second = own[np.flatnonzero(accounts.member[own] != accounts.member[first])[0]]
        instrument = self._pick_symbol(market, rng)
        n = int(rng.integers(1, 5))
        t = self._times(market, rng, n, 30 * US_PER_MINUTE)
        swap = rng.random(n) < 0.5
        episode = self._new("wash_trade", instrument)
        trades, orders = draft.cross(
            market,
            rng,
            instrument=np.full(n, instrument),
            executed_us=t,
            price_cents=market.on_tick(np.full(n, instrument), market.mid_cents(np.full(n, instrument), t)),
            quantity_t=np.full(n, market.lots(np.array([instrument]), rng.integers(1, 6, 1))[0]),
            aggressor=(rng.random(n) < 0.5).astype(np.int64),
            buy_account=np.where(swap, second, first),
            sell_account=np.where(swap, first, second),
            resting_for_us=rng.integers(1, 60, n) * US_PER_SECOND,
            episode=episode.number,
        )
        episode.draft_trades.append(trades)
        episode.draft_orders.append(orders)

    def _circular_trading(self, draft: DayDraft, market: DayMarket, rng: np.random.Generator) -> None:
        accounts = self.reference.accounts
        prop = np.flatnonzero(market.tradable_accounts & accounts.proprietary)
        members = np.unique(accounts.member[prop])
        size = int(rng.integers(3, 5))
        if len(members) < size:
            return
        ring_members = rng.choice(members, size=size, replace=False)
        ring = np.array([prop[np.flatnonzero(accounts.member[prop] == m)[0]] for m in ring_members])
        instrument = self._pick_symbol(market, rng)
        rounds = int(rng.integers(1, 3))
        n = size * rounds
        gaps = rng.uniform(2, 15, n) * US_PER_MINUTE
        t0 = market.open_us + int(
            rng.random() * (market.close_us - market.open_us - gaps.sum() - US_PER_MINUTE)
        )
        t = t0 + np.cumsum(gaps).astype(np.int64)
        base = market.mid_cents(np.array([instrument]), np.array([t0]))[0]
        seller = ring[np.arange(n) % size]
        buyer = ring[(np.arange(n) + 1) % size]
        inst = np.full(n, instrument)
        lot = market.lots(np.array([instrument]), rng.integers(2, 8, 1))[0]
        episode = self._new("circular_trading", instrument)
        trades, orders = draft.cross(
            market,
            rng,
            instrument=inst,
            executed_us=t,
            price_cents=market.on_tick(inst, base * (1 + rng.uniform(-0.003, 0.003, n))),
            quantity_t=np.full(n, lot),
            aggressor=(rng.random(n) < 0.5).astype(np.int64),
            buy_account=buyer,
            sell_account=seller,
            resting_for_us=rng.integers(5, 120, n) * US_PER_SECOND,
            episode=episode.number,
        )
        episode.draft_trades.append(trades)
        episode.draft_orders.append(orders)

    def _spoofing(self, draft: DayDraft, market: DayMarket, rng: np.random.Generator) -> None:
        accounts = self.reference.accounts
        candidates = np.flatnonzero(market.tradable_accounts)
        account = int(rng.choice(candidates))
        instrument = self._pick_symbol(market, rng)
        spoof_side = int(rng.random() < 0.5)  # 0: fake bids, real sells
        direction = 1 - 2 * spoof_side
        k = int(rng.integers(2, 6))
        t0 = market.open_us + int(rng.random() * (market.close_us - market.open_us - 10 * US_PER_MINUTE))
        created = np.sort(t0 + rng.integers(0, 20 * US_PER_SECOND, k))
        cancelled = created + rng.integers(5 * US_PER_SECOND, 180 * US_PER_SECOND, k)
        inst = np.full(k, instrument)
        mid = market.mid_cents(inst, created)
        episode = self._new("spoofing", instrument)
        spoof_orders = draft.add_orders(
            instrument=inst,
            account=np.full(k, account),
            side=np.full(k, spoof_side),
            created_us=created,
            limit_cents=market.on_tick(inst, mid * (1 - direction * rng.uniform(0.0005, 0.004, k))),
            quantity_t=market.lots(inst, rng.integers(15, 41, k)),
            cancel_us=cancelled,
            episode=episode.number,
        )
        m = int(rng.integers(1, 4))
        t = np.sort(
            created[0]
            + 2 * US_PER_SECOND
            + (rng.random(m) * (cancelled.max() - created[0] - 3 * US_PER_SECOND)).astype(np.int64)
        )
        real_side = np.full(m, 1 - spoof_side)
        other = self._counterparties(market, rng, 1 - real_side, np.array([accounts.owner[account]]))
        if len(other) < m:
            return
        inst = np.full(m, instrument)
        trades, orders = draft.cross(
            market,
            rng,
            instrument=inst,
            executed_us=t,
            price_cents=market.on_tick(
                inst, market.mid_cents(inst, t) * (1 + direction * rng.uniform(0.001, 0.004, m))
            ),
            quantity_t=market.lots(inst, np.ones(m, dtype=np.int64)),
            aggressor=real_side,
            buy_account=np.where(real_side == 0, account, other),
            sell_account=np.where(real_side == 0, other, account),
            resting_for_us=rng.integers(10, 600, m) * US_PER_SECOND,
            episode=episode.number,
        )
        episode.draft_trades.append(trades)
        episode.draft_orders += [spoof_orders, orders[m:]]  # the spoofer's own orders (it aggresses)

    def _marking_the_close(
        self, draft: DayDraft, market: DayMarket, rng: np.random.Generator, instrument: int, start: int
    ) -> None:
        candidates = np.flatnonzero(market.tradable_accounts)
        account = int(rng.choice(candidates))
        up = rng.random() < 0.7
        side = 0 if up else 1
        n = int(rng.integers(2, 5))
        t = np.sort(start + (rng.random(n) * (market.close_us - start - US_PER_SECOND)).astype(np.int64))
        inst = np.full(n, instrument)
        push = np.cumsum(rng.uniform(0.005, 0.015, n)) * (1 if up else -1)
        sides = np.full(n, side)
        other = self._counterparties(
            market, rng, 1 - sides, np.array([self.reference.accounts.owner[account]])
        )
        if len(other) < n:
            return
        episode = self._new("marking_the_close", instrument)
        trades, orders = draft.cross(
            market,
            rng,
            instrument=inst,
            executed_us=t,
            price_cents=market.on_tick(inst, market.close_cents[instrument] * (1 + push)),
            quantity_t=market.lots(inst, rng.integers(1, 4, n)),
            aggressor=sides,
            buy_account=np.where(sides == 0, account, other),
            sell_account=np.where(sides == 0, other, account),
            resting_for_us=rng.integers(30, 1800, n) * US_PER_SECOND,
            episode=episode.number,
        )
        episode.draft_trades.append(trades)
        episode.draft_orders.append(orders[n:])  # the marker's own (aggressing) orders

    def _pump_and_dump_day(
        self, draft: DayDraft, market: DayMarket, rng: np.random.Generator, pump: PumpAndDump
    ) -> None:
        instrument = pump.episode.instrument
        group_tradable = market.tradable_accounts[pump.group_accounts]
        if not market.listed[instrument] or not group_tradable.any():
            pump.days_done = pump.pump_days + pump.dump_days - 1  # ends today
            return
        group = pump.group_accounts[group_tradable]
        j = pump.days_done + 1
        n = 2 + 2 * j if pump.pumping else 3 + pump.pump_days
        side = 0 if pump.pumping else 1
        sides = np.full(n, side)
        t = np.sort(
            market.open_us
            + (rng.random(n) * (market.close_us - market.open_us - US_PER_SECOND)).astype(np.int64)
        )
        inst = np.full(n, instrument)
        mine = group[rng.integers(0, len(group), n)]
        owners = self.reference.accounts.owner[pump.group_accounts]
        other = self._counterparties(market, rng, 1 - sides, owners)
        if len(other) < n:
            return
        lots = rng.integers(1, 3, n) + (j if pump.pumping else pump.pump_days)
        direction = 1 if pump.pumping else -1
        trades, orders = draft.cross(
            market,
            rng,
            instrument=inst,
            executed_us=t,
            price_cents=market.on_tick(inst, market.mid_cents(inst, t) * (1 + direction * 0.002)),
            quantity_t=market.lots(inst, lots),
            aggressor=sides,
            buy_account=np.where(sides == 0, mine, other),
            sell_account=np.where(sides == 0, other, mine),
            resting_for_us=rng.integers(30, 1800, n) * US_PER_SECOND,
            episode=pump.episode.number,
        )
        pump.episode.draft_trades.append(trades)
        pump.episode.draft_orders.append(orders[n:])  # the group's own (aggressing) orders


def write_episodes(handle: IO[str], episodes: list[Episode], reference: Reference) -> None:
    for episode in episodes:
        handle.write(episode.to_json(reference) + "\n")
