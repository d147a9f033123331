"""The table every pane is made of: a DataTable with `j`/`k` and a `/` filter.

The filter narrows the rows the table holds (for the Data pane's preview: the current
page), matching any cell, case-insensitively. `/` opens the filter line under the table,
`enter` keeps the filter and returns to the table, `escape` clears it.

Panes reload every time they are shown and the live ones every second, mostly to find the
same rows: `set_rows` then leaves the table alone, since rebuilding and redrawing it is
most of what a pane switch would cost, and sends nothing over a slow link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

from tui.keys import bind

Cell = str | Text


MAX_COLUMN_WIDTH = 40


def _cell_key(cell: Cell) -> object:
    """What a cell shows, style included (rich's Text equality ignores the base style)."""
    if isinstance(cell, Text):
        return (cell.plain, str(cell.style), cell.justify, tuple(cell.spans))
    return cell


def plain(cell: object) -> Text:
    """A value as text to draw as written. DataTable, rich tables and Static read a str as
    rich markup, so a value such as "[red]" from a user's data would vanish into a style
    and "a[/]b" would crash the drawing; a Text is also drawn without parsing anything."""
    return cell if isinstance(cell, Text) else Text(str(cell), end="")


def _widths(headers: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell]]]) -> list[int]:
    """Column widths fitting every row, filtered out or not, so the layout holds still while filtering.

    Fixed widths also keep the table from being drawn before DataTable measures new rows
    when idle (under load it could then keep the header widths).
    """
    widths = [cell_len(header) for header in headers]
    for _, cells in rows:
        for index, cell in enumerate(cells):
            widths[index] = max(widths[index], cell.cell_len if isinstance(cell, Text) else cell_len(str(cell)))
    return [min(width, MAX_COLUMN_WIDTH) for width in widths]


class Table(DataTable):
    """A row-cursor DataTable with vim keys."""

    BINDINGS = [
        bind("down", "cursor_down", "Down", show=False),
        bind("up", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)


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

    class Highlighted(Message):
        """The row under the cursor is another one (moved, filtered, or reloaded); key may be None."""

        def __init__(self, table: "FilterTable", key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "FilterTable":
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._headers: list[str] = []
        self._all_rows: list[tuple[str, Sequence[Cell]]] = []
        self._shown_key: object = None
        self._column_widths: list[int] = []  # of the rows shown, kept by an in-place update
        self._announced: str | None = None

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
        """
        headers, all_rows = list(columns), list(rows)
        shown = (tuple(headers), tuple((key, tuple(map(_cell_key, cells))) for key, cells in all_rows))
        if shown == self._shown_key:
            return
        previous, self._shown_key = self._shown_key, shown
        if self._can_update_in_place(previous, headers, all_rows):
            self._update_in_place(previous, all_rows)
            return
        self._headers, self._all_rows = headers, all_rows
        self._show()

    def _can_update_in_place(self, previous: object, headers: list[str],
                             rows: list[tuple[str, Sequence[Cell]]]) -> bool:
        """Same columns, same rows in the same order, no filter, widths that still fit: a live
        table (a running job's duration, a model's request rate) only changed some cells."""
        if previous is None or self.filter_text:
            return False
        old_headers, old_rows = previous  # type: ignore[misc]
        return (tuple(headers) == old_headers and [key for key, _ in rows] == [key for key, _ in old_rows]
                and _widths(headers, rows) == self._column_widths)

    def _update_in_place(self, previous: object, rows: list[tuple[str, Sequence[Cell]]]) -> None:
        """Rewrite only the cells that changed; the table keeps its cursor and scroll."""
        _, old_rows = previous  # type: ignore[misc]
        table = self.table
        columns = list(table.columns)
        for (key, cells), (_, old_cells) in zip(rows, old_rows):
            for column, cell, old in zip(columns, cells, old_cells):
                if _cell_key(cell) != old:
                    table.update_cell(key, column, plain(cell))
        self._all_rows = rows

    def _show(self) -> None:
        table = self.table
        selected = self.selected_key
        needle = self.filter_text.casefold()
        table.clear(columns=True)
        self._column_widths = _widths(self._headers, self._all_rows)
        for label, width in zip(self._headers, self._column_widths):
            table.add_column(plain(label), width=width)
        for key, cells in self._all_rows:
            if not needle or any(needle in str(cell).casefold() for cell in cells):
                table.add_row(*map(plain, cells), key=key)
        if selected is not None and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected), animate=False)
        self._announce()

    def _announce(self) -> None:
        key = self.selected_key
        if key != self._announced:
            self._announced = key
            self.post_message(self.Highlighted(self, key))

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        table = self.table
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the rows that pass the filter, in order."""
        return [str(row.key.value) for row in self.table.ordered_rows]

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
