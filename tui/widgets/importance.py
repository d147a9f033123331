"""Permutation importance as text bars: one line per feature, its name, its bar and its value.

A plotted bar chart spreads its bars over the plot's height, so with a few features each
bar took two or three rows while its label sat on one of them, and bars were drawn on
rows without a label. Here each feature is exactly one line, so a bar can only ever be
beside its own name, at any size, and the numbers are written out rather than read off
an axis. A feature whose shuffling did not lower the metric (zero or below) gets no bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.widget import Widget

MAX_NAME = 24
EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
BAR_STYLE = "rgb(145,30,180)"


def bar(share: float, width: int) -> str:
    """`share` (0..1) of `width` cells as full blocks and one partial block, in eighths."""
    eighths = round(max(0.0, min(share, 1.0)) * width * 8)
    full, rest = divmod(eighths, 8)
    return FULL * full + (EIGHTHS[rest] if rest else "")


def importance_lines(importance: Sequence[dict[str, Any]], metric: str, width: int) -> Text:
    """A title line and one line per feature (most important first), fitted to `width` cells."""
    names = [str(row["feature"]) for row in importance]
    values = [float(row["mean"]) for row in importance]
    labels = [f"{value:.3f}" for value in values]
    name_width = min(max(map(cell_len, names), default=0), MAX_NAME)
    value_width = max(map(len, labels), default=0)
    bar_width = max(width - name_width - value_width - 2, 1)
    top = max(values, default=0.0)
    text = Text()
    text.append(f"permutation importance ({metric} drop)", style="bold")
    for name, value, label in zip(names, values, labels):
        shown = name if cell_len(name) <= name_width else set_cell_size(name, name_width - 1) + "…"
        drawn = bar(value / top, bar_width) if top > 0 and value > 0 else ""
        text.append("\n" + set_cell_size(shown, name_width) + " ")
        text.append(drawn, style=BAR_STYLE)
        text.append(" " * (bar_width - cell_len(drawn)) + " " + label.rjust(value_width))
    return text


class ImportanceBars(Widget):
    """How much the primary metric drops when each feature is shuffled, on the holdout."""

    def __init__(self, importance: Sequence[dict[str, Any]], metric: str) -> None:
        super().__init__(classes="run-plot")
        self._importance = list(importance)
        self._metric = metric

    def render(self) -> Text:
        return importance_lines(self._importance, self._metric, self.size.width)
