"""The top of the screen: the database, the live status line, and the pane bar.

The status line is polled about once a second from a worker thread; the widget redraws
only when the text changed, so an idle app sends nothing over a slow SSH link. Status is
always words ("2 jobs running"), never colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from core.store.database import Store
from tui.db import has_table


def read_status(store: Store) -> str:
    """The status line's text, from the tables this database has."""
    parts = []
    if has_table(store, "jobs"):
        running = store.value("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")
        parts.append(f"{running} job{'s' if running != 1 else ''} running" if running else "no jobs running")
    if has_table(store, "alerts"):
        alerts = store.value("SELECT count(*) FROM alerts WHERE state = 'open'")
        if alerts:  # said only when there are some: a quiet database keeps a quiet status line
            parts.append(f"{alerts} open alert{'s' if alerts != 1 else ''}")
    return " · ".join(parts)


class StatusLine(Static):
    """The live status text; `show` is a no-op when nothing changed."""

    shown = ""

    def show(self, text: str) -> None:
        if text != self.shown:
            self.shown = text
            self.update(text)


class PaneBar(Static):
    """`1 Data  2 Experiments ...` with the shown pane highlighted and marked with brackets."""

    def __init__(self, panes: Sequence[tuple[str, str, str]], **kwargs: object) -> None:
        """`panes` are (id, key, title)."""
        super().__init__(**kwargs)
        self._panes = list(panes)

    def select(self, pane_id: str) -> None:
        text = Text()
        for index, (pid, key, title) in enumerate(self._panes):
            if index:
                text.append(" ")
            label = f"[{key} {title}]" if pid == pane_id else f" {key} {title} "
            text.append(label, style="bold reverse" if pid == pane_id else "")
        self.update(text)


class AppHeader(Horizontal):
    """pitboard, the database path, and the status line."""

    def __init__(self, db_label: str) -> None:
        super().__init__()
        self._db_label = db_label

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("pitboard ", "bold"), self._db_label), id="db-label")
        yield StatusLine("", id="status")
