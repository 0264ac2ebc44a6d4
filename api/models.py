"""Response records shared by several routes. History, tail and stream return the same `Trade`,
so a client can switch between them without reshaping."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

Record = TypeVar("Record")

TRADE_COLUMNS = (
    "trade_id",
    "symbol",
    "executed_at",
    "ts_ns",
    "price_ghs_per_t",
    "quantity_t",
    "value_ghs",
    "aggressor_side",
    "buyer_member_id",
    "seller_member_id",
)
"""The columns of a trade in every format (JSON, CSV, Parquet), in this order."""


class Trade(BaseModel):
    trade_id: str
    symbol: str
    executed_at: datetime = Field(description="When the trade executed (UTC, microseconds).")
    ts_ns: int = Field(description="executed_at as integer nanoseconds since the epoch (UTC).")
    price_ghs_per_t: float = Field(description="Price in Ghana cedis per metric tonne.")
    quantity_t: float = Field(description="Quantity in metric tonnes.")
    value_ghs: float = Field(description="price_ghs_per_t x quantity_t, in Ghana cedis.")
    aggressor_side: Literal["buy", "sell"] | None = Field(description="The side that took liquidity.")
    buyer_member_id: str | None
    seller_member_id: str | None


class Page(BaseModel, Generic[Record]):
    """One page of a query: pass `next_cursor` back as `cursor` for the next (null: no more)."""

    data: list[Record]
    count: int = Field(description="Records on this page.")
    next_cursor: str | None
    start: datetime | None = Field(None, description="The window's start as applied (UTC, inclusive).")
    end: datetime | None = Field(None, description="The window's end as applied (UTC, exclusive).")
