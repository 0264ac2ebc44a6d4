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
    if len(values) <= 31:  # a count on each bar while they are wide enough to carry one
        axes.bar_label(bars, fontsize=7)
    step = -(-len(labels) // 16)  # at most 16 labels (a quarter's days: one a week), every bar still drawn
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
    figure.subplots_adjust(
        left=0.06, right=0.99, top=0.88, bottom=0.32 if rotated else 0.14
    )  # no tight_layout:
    # it draws the whole figure once more just to measure it
    buffer = BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _are_days(labels: list[str]) -> bool:
    return all(len(label) == 10 and label[4] == "-" and label[7] == "-" for label in labels)
