"""KPI tiles: one number with its label, and a word for its state (never colour alone)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

STATE_STYLE = {"ok": "green", "warning": "yellow", "alert": "bold red", "": ""}


class KpiTile(Static):
    """A label over a value; `show` redraws only when the value or state changed."""

    def __init__(self, label: str, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="kpi")
        self.kpi_value = ""
        self.kpi_state = ""
        self.border_title = label

    def show(self, value: str, state: str = "") -> None:
        """`state` is "", "ok", "warning" or "alert"; the word itself goes in `value`."""
        if (value, state) == (self.kpi_value, self.kpi_state):
            return
        self.kpi_value, self.kpi_state = value, state
        self.update(Text(value, style=STATE_STYLE.get(state, "")))
