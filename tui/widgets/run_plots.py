"""A run's plots (plotext through textual-plotext): ROC curve and residuals.

Imported only from the run screen's worker thread, so plotext never loads on the UI
thread. Each plot draws from data it was given; nothing here reads the database.
"""

from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from textual_plotext import PlotextPlot

from tui.widgets.histogram import tick_positions


class RocPlot(PlotextPlot):
    """True positive rate against false positive rate on the holdout, with the chance line."""

    def __init__(self, fpr: list[float], tpr: list[float], auc: float | None) -> None:
        super().__init__(classes="run-plot")
        self._fpr, self._tpr, self._auc = fpr, tpr, auc

    def render(self) -> RenderableType:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"ROC · AUC {self._auc:.3f}" if self._auc is not None else "ROC")
        plt.plot([0, 1], [0, 1], marker="dot", color="gray")
        plt.plot(self._fpr, self._tpr, marker="braille")
        plt.xlabel("false positive rate")
        plt.xlim(0, 1)
        plt.ylim(0, 1)
        return super().render()


def residual_bins(residuals: list[float], bins: int) -> tuple[list[str], list[int]]:
    """Bin labels (lower edges) and counts of the residuals."""
    counts, edges = np.histogram(np.asarray(residuals), bins=bins)
    return [f"{edge:.3g}" for edge in edges[:-1]], [int(c) for c in counts]


class ResidualPlot(PlotextPlot):
    """How far the regressor's holdout predictions miss: a histogram of actual − predicted."""

    def __init__(self, residuals: list[float], bins: int) -> None:
        super().__init__(classes="run-plot")
        values = np.asarray(residuals)
        self._title = f"residuals μ {values.mean():.3g} σ {values.std():.3g}"
        self._labels, self._counts = residual_bins(residuals, bins)

    def render(self) -> RenderableType:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self._title)
        plt.bar(list(range(1, len(self._counts) + 1)), self._counts, marker="hd")
        positions = tick_positions(self._labels, self.size.width)  # labels never overlap (see histogram.py)
        plt.xticks(positions, [self._labels[p - 1] for p in positions])
        return super().render()
