"""Live mode: trading in real time after the simulated history, published on the market feed.

A demo mode that runs whenever it is started and stamps rows with the wall clock. So that its trades
are not mistaken for trades outside the session (ingestion and the feed consumer quarantine those),
it declares each day it trades on as a **demo session** in the exchange's ``trading_calendar``: the
day becomes a trading day whose session runs from the earlier of the regular open and the day's first
live trade to the later of the regular close and the end of the day (UTC). The declaration is made
in the transaction of the day's first live trade, so nobody sees the trade without its session; the
end-of-day ingestion then accepts and reconciles the day like any other. Each trade is one transaction: its resting and aggressing orders with their events, the
trade, its two pending settlements (due the next trading day) and the feed message, appended to
``feed_messages`` and announced with ``pg_notify('gcx_feed', seq)``, delivered at commit. Some
orders rest and are cancelled a little later, so the order book also changes between trades.

Live mode appends: ids continue after the highest in the database, nothing is truncated. With a bad
rate, some feed messages are malformed (the trade row itself stays correct) and each is logged to
``truth/bad_records.jsonl`` with source ``feed`` and the message's ``seq`` as record key.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import numpy as np
import psycopg

from gcx import clock, database
from gcx.exchange_source import ensure_schema
from gcx.settings import Settings, get_settings
from gcx.simulator.episodes import format_trade_id
from gcx.simulator.faults import BadRecordLog, corrupt_feed_message
from gcx.simulator.randomness import Stream, rng_for
from gcx.simulator.reference import COMMODITIES
from gcx.simulator.trading_calendar import TradingCalendar, iso_utc, micros

FEED_CHANNEL = "gcx_feed"
PRICE_STEP_VOL = 0.0008
RESTING_ORDER_SHARE = 0.3


@dataclass
class LiveSummary:
    trades: int = 0
    messages: int = 0
    bad_messages: int = 0
    orders: int = 0
    elapsed_s: float = 0.0


@dataclass
class _Board:
    instrument_id: np.ndarray
    symbol: list[str]
    tick_cents: np.ndarray
    lot_t: np.ndarray
    low_cents: np.ndarray
    high_cents: np.ndarray
    price_cents: np.ndarray
    weight: np.ndarray
    account_id: list[str]
    account_member: list[str]
    account_owner: list[str]


def _load_board(conn: psycopg.Connection, today: datetime) -> _Board:
    """The listed GCX instruments, their last clean price and the open accounts of active members."""
    bands = {c.code: c.band_ghs_per_t for c in COMMODITIES}
    rows = conn.execute(
        """
        select i.instrument_id, i.symbol, i.commodity_code, i.tick_size_ghs, i.lot_size_t,
               (select t.price_ghs_per_t from trades t
                 where t.instrument_id = i.instrument_id and t.price_ghs_per_t > 0 and t.price_ghs_per_t < 100000
                 order by t.executed_at desc limit 1) as last_price,
               (select count(*) from trades t where t.instrument_id = i.instrument_id) as trades
          from instruments i
         where i.venue = 'GCX' and i.commodity_code is not null
           and i.listed_on <= %(today)s and (i.delisted_on is null or i.delisted_on > %(today)s)
         order by i.instrument_id
        """,
        {"today": today.date()},
    ).fetchall()
    accounts = conn.execute(
        """
        select a.account_id, a.member_id, a.owner_id from accounts a join members m using (member_id)
         where a.status = 'open' and m.status = 'active' order by a.account_id
        """
    ).fetchall()
    if not rows or len({owner for _, _, owner in accounts}) < 2:
        raise RuntimeError("the exchange has no simulated world to trade on; run `gcx simulate` first")
    low = np.array([bands[r[2]][0] * 100 for r in rows], dtype=np.int64)
    high = np.array([bands[r[2]][1] * 100 for r in rows], dtype=np.int64)
    last = np.array([float(r[5]) * 100 if r[5] is not None else 0.0 for r in rows])
    return _Board(
        instrument_id=np.array([r[0] for r in rows]),
        symbol=[r[1] for r in rows],
        tick_cents=np.array([round(float(r[3]) * 100) for r in rows], dtype=np.int64),
        lot_t=np.array([int(r[4]) for r in rows], dtype=np.int64),
        low_cents=low,
        high_cents=high,
        price_cents=np.where(last > 0, np.clip(last, low, high), (low + high) / 2),
        weight=np.array([r[6] + 1.0 for r in rows]),
        account_id=[a[0] for a in accounts],
        account_member=[a[1] for a in accounts],
        account_owner=[a[2] for a in accounts],
    )


def _next_ids(conn: psycopg.Connection) -> tuple[int, int, int, int]:
    """Next order, event, trade and settlement numbers: after the highest in the database."""
    row = conn.execute(
        """
        select coalesce((select max(order_id) from orders), 0) + 1,
               coalesce((select max(event_id) from order_events), 0) + 1,
               coalesce((select max(substr(trade_id, 2)::bigint) from trades where trade_id ~ '^T[0-9]{10}$'), 0) + 1,
               coalesce((select max(settlement_id) from settlements), 0) + 1
        """
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def declare_demo_session(conn: psycopg.Connection, now: datetime) -> None:
    """Make `now`'s UTC day a trading day whose session covers `now` through the end of the day
    (keeping an earlier open or a later close the calendar already has); the caller commits."""
    day = now.astimezone(UTC).date()
    end_of_day = datetime.combine(day + timedelta(days=1), dt_time(0), UTC) - timedelta(microseconds=1)
    conn.execute(
        """
        insert into trading_calendar as c (calendar_date, is_trading_day, holiday_name, session_open_at, session_close_at)
        values (%(day)s, true, null, %(now)s, %(end_of_day)s)
        on conflict (calendar_date) do update set
            is_trading_day = true,
            session_open_at = least(c.session_open_at, excluded.session_open_at),
            session_close_at = greatest(c.session_close_at, excluded.session_close_at)
        """,
        {"day": day, "now": now, "end_of_day": end_of_day},
    )


@contextmanager
def _stop_on_signals(stop: threading.Event):
    """SIGINT (Ctrl-C) and SIGTERM set ``stop`` while live mode runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, lambda *_: stop.set())
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class _LiveExchange:
    """Writes live orders, trades, settlements and feed messages; one transaction per trade."""

    def __init__(
        self,
        conn: psycopg.Connection,
        board: _Board,
        rng: np.random.Generator,
        bad_rate: float,
        log: BadRecordLog,
    ) -> None:
        self.conn = conn
        self.board = board
        self.rng = rng
        self.bad_rate = bad_rate
        self.log = log
        self.next_order, self.next_event, self.next_trade, self.next_settlement = _next_ids(conn)
        self.resting: list[tuple[float, int, float]] = []  # (cancel at monotonic, order id, limit)
        self.last_payload: str | None = None
        self.session_day: date | None = None
        self.summary = LiveSummary()
        self.calendar = TradingCalendar.covering(clock.today(), clock.today() + timedelta(days=40))

    def _order(
        self,
        now: datetime,
        instrument_id: int,
        account: int,
        side: str,
        order_type: str,
        limit: float | None,
        quantity: int,
        filled: int,
        status: str,
    ) -> int:
        order_id = self.next_order
        self.next_order += 1
        self.conn.execute(
            "insert into orders values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (order_id, instrument_id, self.board.account_member[account], self.board.account_id[account], side,
             order_type, limit, quantity, filled, status, now, now),
        )  # fmt: skip
        self._event(now, order_id, "new", limit, quantity)
        self.summary.orders += 1
        return order_id

    def _event(self, now: datetime, order_id: int, kind: str, limit: float | None, quantity: int) -> None:
        self.conn.execute(
            "insert into order_events values (%s, %s, %s, %s, %s, %s, %s)",
            (self.next_event, order_id, kind, now, limit, quantity, now),
        )
        self.next_event += 1

    def _publish(self, payload: str, fault: str | None) -> None:
        seq = self.conn.execute(
            "insert into feed_messages (payload) values (%s) returning seq", (payload,)
        ).fetchone()[0]
        self.conn.execute("select pg_notify(%s, %s::text)", (FEED_CHANNEL, seq))
        self.summary.messages += 1
        if fault is not None:
            self.log.record("feed", "feed_messages", str(seq), fault)
            self.summary.bad_messages += 1

    def _two_accounts(self) -> tuple[int, int]:
        n = len(self.board.account_id)
        buyer = int(self.rng.integers(n))
        while True:
            seller = int(self.rng.integers(n))
            if self.board.account_owner[seller] != self.board.account_owner[buyer]:
                return buyer, seller

    def trade(self) -> None:
        b, rng = self.board, self.rng
        i = int(rng.choice(len(b.weight), p=b.weight / b.weight.sum()))
        b.price_cents[i] = np.clip(
            b.price_cents[i] * np.exp(rng.normal(0.0, PRICE_STEP_VOL)), b.low_cents[i], b.high_cents[i]
        )
        tick = int(b.tick_cents[i])
        price_cents = int(np.clip(round(b.price_cents[i] / tick) * tick, b.low_cents[i], b.high_cents[i]))
        price = price_cents / 100
        quantity = int(b.lot_t[i] * min(int(rng.geometric(0.4)), 20))
        aggressor = "buy" if rng.random() < 0.5 else "sell"
        buyer, seller = self._two_accounts()
        now = clock.now()
        if now.date() != self.session_day:
            declare_demo_session(self.conn, now)
            self.session_day = now.date()
        instrument_id = int(b.instrument_id[i])
        resting_side = "sell" if aggressor == "buy" else "buy"
        resting_account, aggressing_account = (seller, buyer) if aggressor == "buy" else (buyer, seller)
        resting = self._order(
            now, instrument_id, resting_account, resting_side, "limit", price, quantity, quantity, "filled"
        )
        aggressing = self._order(
            now, instrument_id, aggressing_account, aggressor, "market", None, quantity, quantity, "filled"
        )
        for order_id, limit in ((resting, price), (aggressing, None)):
            self._event(now, order_id, "fill", limit, quantity)
        trade_id = format_trade_id(self.next_trade)
        self.next_trade += 1
        buy_order, sell_order = (aggressing, resting) if aggressor == "buy" else (resting, aggressing)
        self.conn.execute(
            "insert into trades values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (trade_id, instrument_id, now, price, quantity, buy_order, sell_order, b.account_member[buyer],
             b.account_id[buyer], b.account_member[seller], b.account_id[seller], aggressor, now),
        )  # fmt: skip
        due = self.calendar.next_trading_day(now.date())
        for obligation, account in (("pay_cash", buyer), ("deliver_commodity", seller)):
            self.conn.execute(
                "insert into settlements values (%s, %s, %s, %s, %s, %s, %s, null, 'pending', %s)",
                (
                    self.next_settlement,
                    trade_id,
                    b.account_member[account],
                    obligation,
                    price_cents * quantity / 100,
                    quantity,
                    due,
                    now,
                ),
            )
            self.next_settlement += 1
        message: dict[str, Any] = {
            "type": "trade",
            "trade_id": trade_id,
            "symbol": b.symbol[i],
            "executed_at": iso_utc(micros(now)),
            "price_ghs_per_t": price,
            "quantity_t": quantity,
            "aggressor_side": aggressor,
            "buyer_member_id": b.account_member[buyer],
            "seller_member_id": b.account_member[seller],
        }
        clean = json.dumps(message)
        published_clean = True
        if self.bad_rate > 0 and rng.random() < self.bad_rate:
            payload, fault = corrupt_feed_message(rng, message, self.last_payload)
            if fault == "duplicate_trade_id":  # the trade is published, then an earlier one again
                self._publish(clean, None)
            else:
                published_clean = False
            self._publish(payload, fault)
        else:
            self._publish(clean, None)
        # only a message that went out clean can be re-sent verbatim as a duplicate: re-sending the
        # clean text of a message that went out malformed would be its first valid publication
        self.last_payload = clean if published_clean else None
        self.summary.trades += 1
        if rng.random() < RESTING_ORDER_SHARE:  # an order that rests a while and is cancelled
            side = "buy" if rng.random() < 0.5 else "sell"
            away = 1 - 0.01 if side == "buy" else 1 + 0.01
            limit = round(price_cents * away / tick) * tick / 100
            order_id = self._order(
                now,
                instrument_id,
                int(rng.integers(len(b.account_id))),
                side,
                "limit",
                limit,
                int(b.lot_t[i]),
                0,
                "open",
            )
            self.resting.append((time.monotonic() + float(rng.uniform(2, 30)), order_id, limit))
        self.conn.commit()

    def cancel_resting(self, everything: bool = False) -> None:
        due = [r for r in self.resting if everything or r[0] <= time.monotonic()]
        if not due:
            return
        now = clock.now()
        for _, order_id, limit in due:
            quantity = self.conn.execute(
                "update orders set status = 'cancelled', updated_at = %s where order_id = %s returning quantity_t",
                (now, order_id),
            ).fetchone()[0]
            self._event(now, order_id, "cancel", limit, quantity)
        self.resting = [r for r in self.resting if r not in due]
        self.conn.commit()


def run_live(
    trades_per_second: float = 1.0,
    duration: float | None = None,
    seed: int | None = None,
    bad_rate: float = 0.0,
    settings: Settings | None = None,
    stop: threading.Event | None = None,
    on_trade: Callable[[LiveSummary], None] | None = None,
) -> LiveSummary:
    """Trade in real time (Poisson arrivals at ``trades_per_second``) until ``duration`` seconds
    pass, ``stop`` is set, or SIGINT/SIGTERM arrives; returns what was written."""
    if trades_per_second <= 0 or not 0 <= bad_rate < 1:
        raise ValueError("trades_per_second must be positive and bad_rate in [0, 1)")
    settings = settings or get_settings()
    stop = stop or threading.Event()
    rng = rng_for(seed, Stream.LIVE) if seed is not None else np.random.default_rng()
    began = time.monotonic()
    database.ensure_databases(settings)
    log = BadRecordLog.open(settings.truth_dir / "bad_records.jsonl", append=True)
    try:
        with database.connect("exchange", settings=settings) as conn, _stop_on_signals(stop):
            ensure_schema(conn)
            conn.commit()
            exchange = _LiveExchange(conn, _load_board(conn, clock.now()), rng, bad_rate, log)
            next_at = time.monotonic() + rng.exponential(1 / trades_per_second)
            while not stop.is_set():
                if duration is not None and time.monotonic() - began >= duration:
                    break
                wait = next_at - time.monotonic()
                if duration is not None:
                    wait = min(wait, began + duration - time.monotonic())
                if wait > 0 and stop.wait(min(wait, 0.5)):
                    break
                exchange.cancel_resting()
                if time.monotonic() >= next_at:
                    exchange.trade()
                    log.flush()
                    next_at += rng.exponential(1 / trades_per_second)
                    if on_trade:
                        on_trade(exchange.summary)
            exchange.cancel_resting(everything=True)
    finally:
        log.close()
    exchange.summary.elapsed_s = time.monotonic() - began
    return exchange.summary
