"""KPI tiles: one number with its label, and a word for its state (never colour alone).

A tile whose number alone does not say its state (an error rate of 6.2% is an alert only
by a threshold) carries the state as a word in its bottom border, its `flag`.

A tile renders its own value and repaints only itself when it changes: its size never
depends on the value, so a new request rate every second costs no relayout of the screen
(a Static's update would ask for one).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget

STATE_STYLE = {"ok": "green", "warning": "yellow", "alert": "bold red", "": ""}
TITLE_MARGIN = 6  # columns a round border keeps around its title (corners, rules, spaces)
MAX_MIN_WIDTH = 14  # a long metric name is cut rather than squeeze every other tile


class KpiTile(Widget):
    """A label over a value; `show` redraws only when the value or state changed."""

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="kpi")
        self.kpi_value = ""
        self.kpi_state = ""
        self.kpi_flag = ""
        self.label = ""
        self.set_label(label)

    def set_label(self, label: str) -> None:
        """The tile's title; the tile asks for the width that shows it whole, so tiles
        sharing 80 columns cut none of their titles while the row has room."""
        if label == self.label:
            return
        self.label = label
        self.border_title = label
        self.styles.min_width = min(cell_len(label) + TITLE_MARGIN, MAX_MIN_WIDTH)

    def render(self) -> Text:
        return Text(self.kpi_value, style=STATE_STYLE.get(self.kpi_state, ""))

    def show(self, value: str, state: str = "", flag: str = "") -> None:
        """`state` is "", "ok", "warning" or "alert" and colours the value; `flag` is the
        state's word when `value` does not already say it ("" shows none)."""
        if (value, state, flag) == (self.kpi_value, self.kpi_state, self.kpi_flag):
            return
        self.kpi_value, self.kpi_state, self.kpi_flag = value, state, flag
        self.border_subtitle = Text(flag, style=STATE_STYLE.get(state, "")) if flag else None  # also repaints
