"""Tiny hand-made markets for the ml/ code tests: a few members, two symbols, a few days."""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from ml.features import MarketData

UTC = "UTC"
FIRST_DAY = date(2025, 3, 3)
MEMBERS = ["M1", "M2", "M3", "M4", "M5"]


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> pd.Timestamp:
    return pd.Timestamp(datetime(day.year, day.month, day.day, hour, minute, second), tz=UTC)


class MarketBuilder:
    """Adds trades (with their two orders and two settlement obligations) and lone orders."""

    def __init__(self) -> None:
        self.trades: list[dict] = []
        self.orders: list[dict] = []
        self.settlements: list[dict] = []
        self.owner_of = {m: f"O{m}" for m in MEMBERS}

    def trade(self, day, when, symbol, buyer, seller, price=3000.0, quantity=10.0, aggressor="buy",
              buyer_owner=None, seller_owner=None, paid_late_hours: dict | None = None,
              unpaid: tuple = ()) -> str:  # fmt: skip
        """`paid_late_hours`: member -> hours after the deadline it paid; `unpaid`: members that never paid."""
        trade_id = f"T{len(self.trades):05d}"
        buy_order, sell_order = (
            self._order(day, when, symbol, buyer, "buy", quantity, filled=True),
            self._order(day, when, symbol, seller, "sell", quantity, filled=True),
        )
        buyer_owner, seller_owner = buyer_owner or self.owner_of[buyer], seller_owner or self.owner_of[seller]
        self.trades.append(
            {
                "trade_id": trade_id, "symbol": symbol, "executed_at": when, "trade_date": day,
                "price_ghs_per_t": price, "quantity_t": quantity, "value_ghs": price * quantity,
                "aggressor_side": aggressor, "buy_order_id": buy_order, "sell_order_id": sell_order,
                "buyer_member_id": buyer, "seller_member_id": seller, "buyer_owner_id": buyer_owner,
                "seller_owner_id": seller_owner, "is_same_beneficial_owner": buyer_owner == seller_owner,
            }
        )  # fmt: skip
        due_at = at(day + timedelta(days=1), 16)
        for member in (buyer, seller):
            late = (paid_late_hours or {}).get(member)
            settled = due_at + pd.Timedelta(hours=late) if late is not None else when + pd.Timedelta(hours=1)
            settled = pd.NaT if member in unpaid else settled
            self.settlements.append(
                {"member_id": member, "trade_date": day, "due_at": due_at, "settled_at": settled,
                 "amount_ghs": price * quantity}
            )  # fmt: skip
        return trade_id

    def _order(self, day, when, symbol, member, side, quantity, filled, cancelled_after=None) -> int:
        order_id = len(self.orders) + 1
        self.orders.append(
            {
                "order_id": order_id, "symbol": symbol, "member_id": member, "side": side, "quantity_t": quantity,
                "filled_t": quantity if filled else 0.0, "created_at": when - pd.Timedelta(seconds=30),
                "created_date": day,
                "cancelled_at": when + cancelled_after if cancelled_after is not None else pd.NaT,
            }
        )  # fmt: skip
        return order_id

    def cancelled_order(
        self, day, when, symbol, member, side, quantity, after=pd.Timedelta(minutes=1)
    ) -> int:
        return self._order(day, when, symbol, member, side, quantity, filled=False, cancelled_after=after)

    def build(self) -> MarketData:
        trades = pd.DataFrame(self.trades)
        days = sorted(trades.trade_date.unique())
        sessions = pd.DataFrame({"trade_date": days, "session_close_at": [at(d, 14) for d in days]})
        accounts = pd.DataFrame(
            [{"account_id": f"A{m}", "member_id": m, "owner_id": self.owner_of[m]} for m in MEMBERS]
        )
        return MarketData(
            trades, pd.DataFrame(self.orders), sessions, pd.DataFrame(self.settlements), accounts
        )


def ordinary_flow(builder: MarketBuilder, days: int, seed: int = 1, per_day: int = 12) -> None:
    """Random trades between different owners, morning to early afternoon."""
    rng = np.random.default_rng(seed)
    for offset in range(days):
        day = FIRST_DAY + timedelta(days=offset)
        for n in range(per_day):
            buyer, seller = rng.choice(MEMBERS, size=2, replace=False)
            builder.trade(
                day, at(day, 10, 5 + n * 9 % 50, n), str(rng.choice(["GEJWM1", "GTASB2"])), str(buyer), str(seller),
                price=float(3000 + rng.normal(0, 20)), quantity=float(rng.integers(1, 6) * 5),
                aggressor=str(rng.choice(["buy", "sell"])),
            )  # fmt: skip


@pytest.fixture
def builder() -> MarketBuilder:
    return MarketBuilder()
