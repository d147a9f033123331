"""Time series of a model's windows: drift share and performance, one point per window.

Drawn with plotext (through textual-plotext). There are never more points than the plot
has columns: older windows are folded into buckets by averaging (`downsample`), so a
year of hourly windows draws as fast, and reads as well, as a week of daily ones.

The series are named in a title line above the plot (`series_key`), each beside a mark
in its line's colour, not in plotext's legend: that legend is drawn inside the plot's
top-left corner, where at 80x24 it covers the lines near 1.0 (AUC, accuracy).
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual_plotext import PlotextPlot

from tui.widgets.histogram import Y_AXIS_CHARS, tick_positions

# One colour per series, in order (RGB, so the plot and the title line show the same colour).
SERIES_COLORS: tuple[tuple[int, int, int], ...] = ((0, 130, 200), (60, 180, 75), (245, 130, 48), (145, 30, 180))
KEY_MARK = "━━"


def series_color(index: int) -> tuple[int, int, int]:
    return SERIES_COLORS[index % len(SERIES_COLORS)]


def series_key(title: str, names: list[str]) -> Text:
    """`title: ━━ drift share  ━━ roc_auc real ...`, each mark in its series' colour."""
    text = Text(f"{title}:")
    for index, name in enumerate(names):
        text.append("  ")
        text.append(KEY_MARK, style="rgb({},{},{})".format(*series_color(index)))
        text.append(f" {name}")
    return text


def downsample(values: list[float | None], width: int) -> list[float | None]:
    """At most `width` points: consecutive values averaged in equal buckets (None skipped)."""
    if width <= 0 or len(values) <= width:
        return list(values)
    size = math.ceil(len(values) / width)
    buckets = [values[i:i + size] for i in range(0, len(values), size)]
    out: list[float | None] = []
    for bucket in buckets:
        known = [v for v in bucket if v is not None]
        out.append(sum(known) / len(known) if known else None)
    return out


class SeriesPlot(PlotextPlot):
    """Named series over the window index (oldest left), each downsampled to the plot width."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._title = ""
        self._labels: list[str] = []
        self._series: dict[str, list[float | None]] = {}

    def show(self, title: str, labels: list[str], series: dict[str, list[float | None]]) -> None:
        """`labels` name the windows (dates) under the x axis; each series has one value per window."""
        if (title, labels, series) == (self._title, self._labels, self._series):
            return
        self._title, self._labels, self._series = title, labels, series
        self.refresh()

    @property
    def key(self) -> Text:
        """The title line naming the series (shown above the plot by its owner)."""
        return series_key(self._title, list(self._series))

    def render(self) -> RenderableType:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        width = max(self.size.width - Y_AXIS_CHARS, 1)
        for index, values in enumerate(self._series.values()):
            points = downsample(values, width)
            xs = [i + 1 for i, v in enumerate(points) if v is not None]
            ys = [v for v in points if v is not None]
            if xs:
                plt.plot(xs, ys, marker="braille", color=series_color(index))
        plt.ylim(0, 1)
        labels = self._labels[:: math.ceil(len(self._labels) / width)] if self._labels else []
        positions = tick_positions(labels, self.size.width)
        plt.xticks(positions, [labels[p - 1] for p in positions])
        return super().render()

