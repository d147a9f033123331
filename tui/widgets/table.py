"""The table every pane is made of: a line-API Table with `j`/`k` and a `/` filter.

The filter narrows the rows the table holds (for the Data pane's preview: the current
page), matching any cell, case-insensitively. `/` opens the filter line under the table,
`enter` keeps the filter and returns to the table, `escape` clears it.

Panes reload every time they are shown and the live ones every second, mostly to find the
same rows: `set_rows` then leaves the table alone, and for a live table whose rows only
changed some cells the Table redraws just those rows (see tui.widgets.line_table), so a
refresh sends next to nothing over a slow link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input

from tui.keys import bind
from tui.widgets.cells import Cell, cell_key, column_widths
from tui.widgets.line_table import Row, RowMessage, Table


def plain(cell: object) -> Text:
    """A value as text to draw as written. Rich tables and Static read a str as rich markup,
    so a value such as "[red]" from a user's data would vanish into a style and "a[/]b"
    would crash the drawing; a Text is drawn without parsing anything."""
    return cell if isinstance(cell, Text) else Text(str(cell), end="")


class FilterLine(Input):
    """The filter input; `escape` clears it and hands the focus back to the table.

    The cursor does not blink: a blinking cursor redraws twice a second, which is
    traffic over a slow SSH link for nothing.
    """

    BINDINGS = [("escape", "clear_filter", "Clear filter")]

    def on_mount(self) -> None:
        self.cursor_blink = False

    def action_clear_filter(self) -> None:
        self.value = ""
        self.remove_class("open")
        self.parent.query_one(Table).focus()


class FilterTable(Vertical):
    """A Table and its filter line; the rows are kept so the filter can be changed or cleared."""

    BINDINGS = [bind("filter", "open_filter", "Filter")]

    class Highlighted(RowMessage):
        """The row under the cursor is another one (moved, filtered, or reloaded); key may be None."""

    class Selected(RowMessage):
        """`enter` on the row with this key."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._headers: list[str] = []
        self._all_rows: list[Row] = []
        self._widths: list[int] = []
        self._shown_key: object = None

    def compose(self) -> ComposeResult:
        yield Table()
        yield FilterLine(placeholder="filter rows (enter keeps, escape clears)")

    @property
    def table(self) -> Table:
        return self.query_one(Table)

    @property
    def filter_text(self) -> str:
        return self.query_one(FilterLine).value

    def set_rows(self, columns: Sequence[str], rows: Iterable[tuple[str, Sequence[Cell]]]) -> None:
        """Replace the table's content; rows are (key, cells). The cursor stays on the same key.

        The same columns and rows as shown already change nothing (see the module docstring).
        Column widths fit every row, filtered out or not, so they hold still while filtering.
        """
        headers, all_rows = list(columns), list(rows)
        shown = (tuple(headers), tuple((key, tuple(map(cell_key, cells))) for key, cells in all_rows))
        if shown == self._shown_key:
            return
        self._shown_key = shown
        self._headers, self._all_rows = headers, all_rows
        self._widths = column_widths(headers, all_rows)
        self._show()

    def _show(self) -> None:
        needle = self.filter_text.casefold()
        rows = [(key, cells) for key, cells in self._all_rows
                if not needle or any(needle in str(cell).casefold() for cell in cells)]
        self.table.set_rows(self._headers, self._widths, rows)

    @on(Table.RowHighlighted)
    def _row_highlighted(self, event: Table.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self, event.key))

    @on(Table.RowSelected)
    def _row_selected(self, event: Table.RowSelected) -> None:
        event.stop()
        self.post_message(self.Selected(self, event.key))

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        return self.table.selected_key

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the rows that pass the filter, in order."""
        return self.table.shown_keys

    def action_open_filter(self) -> None:
        line = self.query_one(FilterLine)
        line.add_class("open")
        line.focus()

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show()

    @on(Input.Submitted)
    def _filter_kept(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            event.input.remove_class("open")
        self.table.focus()
