"""What a dashboard data endpoint returns: one shape for every dashboard, rendered by
static/dashboards.js. Charts are plotly.js figures (data + layout), built on the server from the
marts, so the page and the tests read exactly the same figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class Option(BaseModel):
    value: str
    label: str


class AppliedFilters(BaseModel):
    """The filters the figures were computed with (defaults filled in), and the choices offered."""

    start: date = Field(description="First day shown (inclusive).")
    end: date = Field(description="Day after the last day shown: the range is [start, end).")
    commodity: str | None = None
    symbols: list[str] = []
    grain: str | None = None
    commodities: list[Option] = []
    symbol_options: list[Option] = []
    grains: list[Option] = []


class Tile(BaseModel):
    """A headline figure. `value` is the mart's number; the page formats it with `decimals`."""

    id: str
    label: str
    value: float | None
    unit: str = ""
    decimals: int = 0
    change_pct: float | None = Field(None, description="Change against the previous period, in %.")
    note: str = ""


class Chart(BaseModel):
    id: str
    title: str
    data: list[dict[str, Any]] = Field(description="plotly.js traces.")
    layout: dict[str, Any] = {}
    empty_message: str = Field("", description="Shown instead of the chart when it has no points.")


class Table(BaseModel):
    id: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    empty_message: str = "Nothing in this range."


class Dashboard(BaseModel):
    name: str
    title: str
    filters: AppliedFilters
    tiles: list[Tile] = []
    charts: list[Chart] = []
    tables: list[Table] = []
    notices: list[str] = Field(
        [], description="Things the reader must know (e.g. a source not available yet)."
    )
    rows_read: int = Field(0, description="Mart rows behind the figures (what metering records).")
