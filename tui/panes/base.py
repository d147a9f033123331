"""What every pane shares: its identity, activation, and an empty state that names the
command that would fill it (never placeholder data)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from core.errors import PitboardError
from core.store import Store


@dataclass(frozen=True)
class PaletteAction:
    """An action a pane offers in the command palette."""

    title: str
    help: str
    run: Callable[[], object]


class Pane(Vertical):
    """One of the five panes. Subclasses set the class attributes and override `reload`."""

    pane_id: ClassVar[str]
    title: ClassVar[str]
    key: ClassVar[str]  # the default key that shows it, for the pane bar
    empty_text: ClassVar[str]  # what fills this pane, shown while it has nothing to show

    def __init__(self) -> None:
        super().__init__(id=self.pane_id, classes="pane")

    def activate(self) -> None:
        """Called each time the pane is shown: focus its first widget and reload its data."""
        first = next((widget for widget in self.screen.focus_chain if self in widget.ancestors), None)
        self.screen.set_focus(first)
        self.reload()

    def reload(self) -> None:
        """Start reading this pane's data (in a thread worker)."""

    def palette_actions(self) -> list[PaletteAction]:
        """The actions this pane adds to the command palette right now."""
        return []

    def run_engine_action(self, act: Callable[[Store], str], *, reload: bool = True) -> None:
        """From a thread worker: run one engine action on a short-lived store, then say what it did.

        `act` returns the line to show; a PitboardError is shown as the error it is (one
        line, nothing changed), never a traceback. The pane then reloads to show the result.
        """
        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                message = act(store)
            except PitboardError as error:
                self.app.call_from_thread(self.notify, str(error), severity="error")
                return
        self.app.call_from_thread(self.notify, message)
        if reload:
            self.app.call_from_thread(self.reload)


class EmptyState(Static):
    """What a pane shows when there is nothing yet, and how to fill it."""


class EnginePendingPane(Pane):
    """A pane whose engine has not landed: its empty state only."""

    def compose(self) -> ComposeResult:
        yield EmptyState(Text(self.empty_text))
