"""Section charts as PNG images (matplotlib's Agg backend: no display, no system packages).

A Figure is built directly (not through pyplot), so charts can be drawn from several threads and
no global figure state leaks between reports.
"""

from __future__ import annotations

from io import BytesIO

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MAX_BARS = 15
"""Beyond this, the smallest categories are summed as "other" (e.g. members with few fails)."""


def bar_chart_png(counts: dict[str, int], title: str, width_in: float = 9.0, height_in: float = 2.6) -> bytes:
    """A bar chart of rows per category or per day, with each bar's count written on it."""
    labels, values = list(counts), list(counts.values())
    if len(labels) > MAX_BARS and not _are_days(labels):
        labels, values = (
            [*labels[: MAX_BARS - 1], "other"],
            [*values[: MAX_BARS - 1], sum(values[MAX_BARS - 1 :])],
        )
    figure = Figure(figsize=(width_in, height_in), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bars = axes.bar(range(len(values)), values, color="#1f5f8b")
    axes.bar_label(bars, fontsize=7)
    step = max(1, len(labels) // 31)  # a quarter's days: a label a week or so, every bar still drawn
    rotated = len(labels) > 6
    axes.set_xticks(
        range(0, len(labels), step),
        labels[::step],
        rotation=45 if rotated else 0,
        ha="right" if rotated else "center",
        fontsize=7,
    )
    axes.set_title(title, fontsize=9)
    axes.set_ylabel("rows", fontsize=8)
    axes.tick_params(axis="y", labelsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _are_days(labels: list[str]) -> bool:
    return all(len(label) == 10 and label[4] == "-" and label[7] == "-" for label in labels)
