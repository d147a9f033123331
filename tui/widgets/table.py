"""The table every pane is made of: a line-API Table with `j`/`k` and a `/` filter.

The filter narrows the rows the table holds (for the Data pane's preview: the current
page), matching any cell, case-insensitively. `/` opens the filter line under the table,
`enter` keeps the filter and returns to the table, `escape` clears it. The line is out of
the Tab order: only `/` puts the focus there, so a Tab never lands a `j` in it.

At narrow widths a table leaves out its least important columns and lets its one long
column (a message) take the room left, rather than cut a key fact at the screen's edge
(`tui.widgets.cells.fit_columns`); it lays itself out again whenever its width changes.

Panes reload every time they are shown and the live ones every second, mostly to find the
same rows: `set_rows` then leaves the table alone, and for a live table whose rows only
changed some cells the Table redraws just those rows (see tui.widgets.line_table), so a
refresh sends next to nothing over a slow link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input

from tui.keys import bind
from tui.widgets.cells import Cell, cell_key, column_widths, fit_columns
from tui.widgets.line_table import Row, RowMessage, Table


def plain(cell: object) -> Text:
    """A value as text to draw as written. Rich tables and Static read a str as rich markup,
    so a value such as "[red]" from a user's data would vanish into a style and "a[/]b"
    would crash the drawing; a Text is drawn without parsing anything."""
    return cell if isinstance(cell, Text) else Text(str(cell), end="")


class EditLine(Input, can_focus=False):
    """A line of input outside the Tab order: its key `open`s it and gives it the focus,
    and it hands the focus back (and leaves the Tab order again) on enter, escape or any
    other way out. `escape` empties it and submits the empty line, which clears what the
    line was for. The line is shown while open (CSS class `open`); once left it hides,
    unless KEEP_SHOWN_WITH_TEXT and it holds text, so a filter in force stays in sight.

    The cursor does not blink: a blinking cursor redraws twice a second, which is
    traffic over a slow SSH link for nothing.
    """

    KEEP_SHOWN_WITH_TEXT: ClassVar[bool] = False
    BINDINGS = [Binding("escape", "clear", "Clear")]

    def on_mount(self) -> None:
        self.cursor_blink = False

    def open(self) -> None:
        self.add_class("open")
        self.can_focus = True
        self.focus()

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, ""))

    def on_blur(self, event: events.Blur) -> None:
        if not self.app.app_focus:
            return  # the terminal lost focus, not the line: Textual gives it back on return
        self.can_focus = False
        if not (self.KEEP_SHOWN_WITH_TEXT and self.value):
            self.remove_class("open")


class FilterLine(EditLine):
    """The filter of a FilterTable; stays shown under the table while it filters."""

    KEEP_SHOWN_WITH_TEXT = True


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
        self._widths: list[int] = []  # natural widths, before fitting to the table's width
        self._drop: list[int] = []
        self._fit: int | None = None
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

    def set_rows(self, columns: Sequence[str], rows: Iterable[tuple[str, Sequence[Cell]]], *,
                 drop: Sequence[str] = (), fit: str | None = None) -> None:
        """Replace the table's content; rows are (key, cells). The cursor stays on the same key.

        Where the columns do not fit, those named in `drop` are left out in that order and
        the `fit` column takes the room left (see `tui.widgets.cells.fit_columns`).
        The same columns and rows as shown already change nothing (see the module docstring).
        Column widths fit every row, filtered out or not, so they hold still while filtering.
        """
        headers, all_rows = list(columns), list(rows)
        shown = (tuple(headers), tuple(drop), fit, tuple((key, tuple(map(cell_key, cells))) for key, cells in all_rows))
        if shown == self._shown_key:
            return
        self._shown_key = shown
        self._headers, self._all_rows = headers, all_rows
        self._widths = column_widths(headers, all_rows)
        self._drop = [headers.index(name) for name in drop]
        self._fit = headers.index(fit) if fit is not None else None
        self._show()

    def _show(self) -> None:
        needle = self.filter_text.casefold()
        rows = [(key, cells) for key, cells in self._all_rows
                if not needle or any(needle in str(cell).casefold() for cell in cells)]
        shown, widths = fit_columns(self._widths, self._available_width(), drop=self._drop, fit=self._fit)
        if len(shown) < len(self._headers):
            rows = [(key, [cells[index] if index < len(cells) else "" for index in shown]) for key, cells in rows]
        self.table.set_rows([self._headers[index] for index in shown], widths, rows)

    def _available_width(self) -> int | None:
        """Cells a line may take: the table's width less its scrollbar's gutter (kept
        whether or not the rows overflow, so the columns never move when they start to)."""
        table = self.table
        if not table.size.width:
            return None
        return table.size.width - table.styles.scrollbar_size_vertical

    def on_resize(self, event: events.Resize) -> None:
        if self._headers:
            self._show()

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
        self.query_one(FilterLine).open()

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show()

    @on(Input.Submitted)
    def _filter_kept(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()
