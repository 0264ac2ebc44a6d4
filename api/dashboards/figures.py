"""plotly.js figures (plain dicts: the browser's plotly.js draws them; no Python plotly needed)
and the few conversions every dashboard needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.dashboards.filters import DayRange
from api.dashboards.models import Chart

NO_DATA = "No data in this range."


def rows(conn: psycopg.Connection, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> list[dict]:
    """Query rows as dicts (numbers as float, dates as ISO strings: what the page and JSON need)."""
    with conn.cursor(row_factory=dict_row) as cursor:
        return [{key: plain(value) for key, value in row.items()} for row in cursor.execute(sql, params)]


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()  # whatever the session's time zone: the platform's is UTC
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def column(records: Iterable[dict], name: str) -> list:
    return [record[name] for record in records]


COLOURS = {
    "SUCCESS": "#0b6e4f",
    "FAILURE": "#b3261e",
    "CANCELED": "#8a8f98",
    "Passed": "#0b6e4f",
    "Failed": "#b3261e",
    "OK": "#0b6e4f",
    "4xx": "#e0a100",
    "5xx": "#b3261e",
}
"""Statuses keep their meaning's colour on every chart; other series take plotly's palette."""


def layout(
    x_title: str = "", y_title: str = "", days: DayRange | None = None, **extra: Any
) -> dict[str, Any]:
    """A chart's layout; with `days`, a date axis spanning exactly the filter's range, so that every
    chart of a page lines up and a single day is drawn as a day, not zoomed into hours."""
    xaxis: dict[str, Any] = {"title": {"text": x_title}}
    if days is not None:
        half_day = timedelta(hours=12)  # bars are centred on their day
        xaxis |= {
            "type": "date",
            "range": [(days.start_at() - half_day).isoformat(), (days.end_at() - half_day).isoformat()],
        }
    return {
        "margin": {"l": 60, "r": 60, "t": 30, "b": 50},
        "height": 340,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "xaxis": xaxis,
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        **extra,
    }


def chart(chart_id: str, title: str, traces: list[dict], chart_layout: dict, empty: str = NO_DATA) -> Chart:
    """A chart, or its empty message when no trace has a point (the page never draws an empty plot)."""
    has_points = any(len(trace.get("x") or trace.get("values") or trace.get("z") or []) for trace in traces)
    return Chart(
        id=chart_id,
        title=title,
        data=traces if has_points else [],
        layout=chart_layout,
        empty_message="" if has_points else empty,
    )


def series_by(records: list[dict], key: str, x: str, y: str) -> dict[str, tuple[list, list]]:
    """Split records into one (x, y) series per value of `key`, in first-seen order."""
    series: dict[str, tuple[list, list]] = {}
    for record in records:
        xs, ys = series.setdefault(str(record[key]), ([], []))
        xs.append(record[x])
        ys.append(record[y])
    return series


def _colour(name: str) -> dict[str, Any]:
    return {"marker": {"color": COLOURS[name]}} if name in COLOURS else {}


def bars(series: dict[str, tuple[list, list]], **trace: Any) -> list[dict]:
    return [
        {"type": "bar", "name": name, "x": xs, "y": ys, **_colour(name), **trace}
        for name, (xs, ys) in series.items()
    ]


def lines(series: dict[str, tuple[list, list]], **trace: Any) -> list[dict]:
    return [
        {"type": "scatter", "mode": "lines+markers", "name": name, "x": xs, "y": ys, **trace}
        for name, (xs, ys) in series.items()
    ]


def change_pct(current: float | None, previous: float | None) -> float | None:
    if current is None or not previous:
        return None
    return round((current - previous) / abs(previous) * 100, 1)
