"""The `?` screen: every key live where it was pressed, the shown pane's own keys first.

Someone pressing `?` on the Registry wants to know what they can do to a model version,
not how to quit: the pane's keys come first, then those of the focused table or widget,
then the keys that work everywhere. The keys are shown in a FilterTable, so `/` finds one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from tui.panes.base import Pane
from tui.widgets.line_table import Table
from tui.widgets.table import FilterTable

EVERYWHERE = "everywhere"
FOCUSED_TABLE = "focused table"
FOCUSED_WIDGET = "focused widget"
HELP_COLUMNS = ("where", "key", "does")


def where(node: DOMNode) -> str:
    """Where a binding applies, in the help screen's words."""
    if isinstance(node, (App, Screen)):
        return EVERYWHERE
    if isinstance(node, Pane):
        return f"{node.title} pane"
    return FOCUSED_TABLE if isinstance(node, (Table, FilterTable)) else FOCUSED_WIDGET


def help_rows(bindings: Mapping[str, ActiveBinding], key_display: Callable[[Binding], str]) -> list[tuple[str, str, str]]:
    """(where, key, what it does) of every binding but Textual's system ones: the pane's
    first, then the focused table's or widget's, then everywhere; each group in the order
    Textual gives them."""
    rows = [(where(active.node), key_display(active.binding), active.binding.description or active.binding.action)
            for active in bindings.values() if not active.binding.system]
    order = {FOCUSED_TABLE: 1, FOCUSED_WIDGET: 2, EVERYWHERE: 3}
    return sorted(rows, key=lambda row: order.get(row[0], 0))


class HelpScreen(ModalScreen[None]):
    """Every key that works where `?` was pressed, grouped by where it applies."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close help")]

    def __init__(self, title: str, keys: Sequence[tuple[str, str, str]]) -> None:
        """`keys` are (where, key, what it does) rows, in the order to show them."""
        super().__init__()
        self._title = title
        self._keys = list(keys)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Label(self._title, classes="dialog-title")
            yield FilterTable(id="help-keys")
            yield Static("escape or ? closes · / finds a key", classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(FilterTable)
        table.set_rows(HELP_COLUMNS, ((str(index), row) for index, row in enumerate(self._keys)))
        table.table.focus()
