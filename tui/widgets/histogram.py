"""A column's histogram from its stored profile (plotext through textual-plotext).

The profile already holds the bins (numeric and datetime columns) or the category
counts (categorical, boolean and text columns), so drawing never touches the rows.
`textual_plotext` imports plotext, so this module is imported only when the first
histogram is shown (from a worker thread, see the Data pane).

Axis labels are thinned here, for the widget's current width, so that none overlap:
plotext resolves overlapping labels in an order that depends on Python's hash seed,
which would make the screen (and its snapshots) differ from run to run.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import RenderableType
from textual_plotext import PlotextPlot

MAX_BARS = 20
Y_AXIS_CHARS = 8  # room plotext keeps left of the bars for the count labels


def histogram_bars(profile: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Bar labels and heights: bin lower edges for ranges, the most frequent values for categories."""
    histogram = profile.get("histogram")
    if histogram and histogram["counts"]:
        edges, counts = histogram["edges"], histogram["counts"]
        return [_edge_label(edge) for edge in edges[: len(counts)]], [int(c) for c in counts]
    top = profile.get("top") or []
    return [str(value) for value, _ in top[:MAX_BARS]], [int(count) for _, count in top[:MAX_BARS]]


def histogram_note(name: str, role: str, profile: dict[str, Any]) -> str | None:
    """Why column `name` has no histogram to draw, or None when it has one.

    An id column names rows, one value each: its bars would say nothing (and a text id
    has no bins at all, which drew an empty box), so the pane says so instead.
    """
    if role == "id":
        return f"{name} is an id column: no histogram (every value names one row)."
    if not histogram_bars(profile)[1]:
        return f"{name} has no values to draw: {profile.get('missing', 0):,} missing of {profile.get('count', 0) + profile.get('missing', 0):,}."
    return None


def _edge_label(edge: Any) -> str:
    """Short axis labels: `16.6k`, `0.25`, `1.2M`; datetime edges (ISO texts) as their date."""
    if isinstance(edge, str):
        return edge[:10]
    value = float(edge)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def tick_positions(labels: list[str], width: int) -> list[int]:
    """1-based bar positions to label, spaced so that labels never touch at `width` columns."""
    if not labels:
        return []
    per_bar = max(width - Y_AXIS_CHARS, 1) / len(labels)
    step = max(1, math.ceil((max(map(len, labels)) + 2) / per_bar))
    return list(range(1, len(labels) + 1, step))


class Histogram(PlotextPlot):
    """The selected column's distribution."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._title = ""
        self._labels: list[str] = []
        self._counts: list[int] = []

    def show(self, column: str, profile: dict[str, Any]) -> None:
        self._title = f"{column} · {profile.get('count', 0):,} values · {profile.get('missing', 0):,} missing"
        self._labels, self._counts = histogram_bars(profile)
        self.refresh()

    def render(self) -> RenderableType:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self._title)
        if self._counts:
            plt.bar(self._labels, self._counts, marker="hd")
            positions = tick_positions(self._labels, self.size.width)
            plt.xticks(positions, [self._labels[p - 1] for p in positions])
        return super().render()
