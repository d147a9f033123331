"""A row-cursor table drawn with Textual's line API: only the lines on screen are drawn.

Textual's DataTable renders every cell it shows through rich's console (padding, styling,
wrapping) and measures new rows when idle, so the first visit of a pane paid for all of
its cells at once. This table keeps each row as a few plain Segments, built from its
cells when the row is first drawn (see `tui.widgets.cells`), and `render_line` only
crops that line to the scroll position and styles it as the header, the cursor or a
plain row.

Redraws are as small as the change: new rows with the same keys, columns and widths
redraw only the rows that differ, and a cursor move redraws the two lines it leaves and
reaches. Over a slow SSH link that is all that is sent.

Line 0 is the header, fixed at the top; row `i` is line `i + 1` of the scrolled content.
Horizontal scrolling moves the header with the rows, a column at a time from the keys
(`shift+left`/`shift+right`: plain `left`/`right` belong to the panes, which switch tabs
with them). The vertical scrollbar's gutter is always kept, one cell wide, so a table's
columns do not move when its rows start to overflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from tui.keys import bind
from tui.widgets.cells import PADDING, Cell, cell_key, line_segments, line_width

Row = tuple[str, Sequence[Cell]]
"""A row's key and its cells."""


class RowMessage(Message):
    """Something about one row of `table`, named by its key (None: the table is empty)."""

    def __init__(self, table: Widget, key: str | None) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> Widget:
        return self.table


class Table(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of cells under a header, with a row cursor; keys are strings chosen by the caller.

    Its keys are its own, none inherited: a scrolling container's `left`/`right` would
    scroll a wide table where the pane switches tabs with them.
    """

    ALLOW_SELECT = False  # a click moves the cursor; it does not select text

    COMPONENT_CLASSES: ClassVar[set[str]] = {"table--header", "table--cursor"}

    DEFAULT_CSS = """
    Table {
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
        }
        & > .table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Select", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        bind("down", "cursor_down", "Down", show=False),
        bind("up", "cursor_up", "Up", show=False),
        Binding("home,ctrl+home", "first", "First row", show=False),
        Binding("end,ctrl+end", "last", "Last row", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        bind("scroll_left", "column_left", "Scroll left", show=False),
        bind("scroll_right", "column_right", "Scroll right", show=False),
    ]

    class RowHighlighted(RowMessage):
        """The row under the cursor is another one (moved, or new rows); key is None when empty."""

    class RowSelected(RowMessage):
        """`enter` (or a click on the cursor row) chose the row with this key."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._headers: list[str] = []
        self._widths: list[int] = []
        self._rows: list[Row] = []
        self._shown: list[tuple[object, ...]] = []  # each row's cell_keys, to find the rows that changed
        self._index: dict[str, int] = {}
        self._lines: dict[int, Strip] = {}  # rows drawn so far, uncropped and unstyled by cursor or scroll
        self._header_line: Strip | None = None  # drawn when first shown, like the rows
        self._highlighted: str | None = None
        self._base_style = Style()  # the widget's own style, taken once per render_lines
        self.cursor_row = 0

    # -- content ---------------------------------------------------------------------

    def set_rows(self, headers: Sequence[str], widths: Sequence[int], rows: Sequence[Row]) -> None:
        """Show `rows` under `headers` in columns of `widths`; the cursor stays on its key.

        With the same headers, widths and keys in the same order, only the rows whose
        cells changed are redrawn (none, for identical rows); anything else redraws the
        table, with the cursor on the first row if its key is gone.
        """
        headers, widths, rows = list(headers), list(widths), list(rows)
        shown = [tuple(map(cell_key, cells)) for _, cells in rows]
        if headers == self._headers and widths == self._widths and [key for key, _ in rows] == self.shown_keys:
            changed = [index for index, (new, old) in enumerate(zip(shown, self._shown)) if new != old]
            self._rows, self._shown = rows, shown
            for index in changed:
                self._lines.pop(index, None)
                self._refresh_row(index)
            return
        selected = self.selected_key
        self._headers, self._widths, self._rows, self._shown = headers, widths, rows, shown
        self._index = {key: index for index, (key, _) in enumerate(rows)}
        self._lines.clear()
        self._header_line = None
        self.cursor_row = self._index.get(selected, 0) if selected is not None else 0
        self.virtual_size = Size(line_width(widths), len(rows) + 1)
        self.refresh()
        self._scroll_to_cursor()
        self._check_highlight()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def get_row_at(self, index: int) -> list[Cell]:
        """The cells of the row shown at `index`, as they were given."""
        return list(self._rows[index][1])

    @property
    def shown_keys(self) -> list[str]:
        """Keys of the rows shown, in order."""
        return [key for key, _ in self._rows]

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        return self._rows[self.cursor_row][0] if self._rows else None

    # -- cursor ----------------------------------------------------------------------

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row `row` (clamped to the rows), scrolled into view."""
        row = max(0, min(row, len(self._rows) - 1))
        if row != self.cursor_row:
            self._refresh_row(self.cursor_row)
            self.cursor_row = row
            self._refresh_row(row)
        self._scroll_to_cursor()
        self._check_highlight()

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page_rows())

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page_rows())

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def action_column_right(self) -> None:
        """Scroll right to the next column's start (one cell at a time would take dozens of keys)."""
        x = self.scroll_offset.x
        self.scroll_to(x=next((start for start in self._column_starts() if start > x), x), animate=False)

    def action_column_left(self) -> None:
        x = self.scroll_offset.x
        self.scroll_to(x=max((start for start in self._column_starts() if start < x), default=0), animate=False)

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to its row; a click on the cursor row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = offset.y - 1 + self.scroll_offset.y
        if row >= len(self._rows):
            return
        if row == self.cursor_row:
            self.action_select()
        else:
            self.move_cursor(row)

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_to_cursor()

    def _page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _column_starts(self) -> list[int]:
        starts, x = [], 0
        for width in self._widths:
            starts.append(x)
            x += width + 2 * PADDING
        return starts

    def _scroll_to_cursor(self) -> None:
        """Scroll the least that shows the cursor row below the header."""
        visible = self.scrollable_content_region.height - 1
        if visible < 1:  # not laid out yet: on_resize scrolls
            return
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, force=True)

    def _check_highlight(self) -> None:
        key = self.selected_key
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.RowHighlighted(self, key))

    # -- drawing ---------------------------------------------------------------------

    def _refresh_row(self, index: int) -> None:
        """Redraw row `index` if it is on screen (line 0 is the header, never a row)."""
        y = index + 1 - self.scroll_offset.y
        if 1 <= y < self.size.height:
            self.refresh_line(index + 1)

    def _strip(self, cells: Sequence[Cell]) -> Strip:
        return Strip(line_segments(cells, self._widths, self.app.console), line_width(self._widths))

    def render_lines(self, crop: Region) -> list[Strip]:
        # rich_style walks every ancestor's styles: once per frame, not once per line.
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self._base_style
        row = y - 1 + scroll_y
        if not self._headers or (y > 0 and row >= len(self._rows)):
            return Strip.blank(width, base)
        if y == 0:
            if self._header_line is None:
                self._header_line = self._strip(self._headers)
            line, style = self._header_line, base + self.get_component_rich_style("table--header")
        else:
            line = self._lines.get(row)
            if line is None:
                line = self._lines[row] = self._strip(self._rows[row][1])
            style = base
        cropped = line.crop_extend(scroll_x, scroll_x + width, None)
        if y > 0 and row == self.cursor_row:
            # The cursor's colours win over a cell's own (a red "failed" stays readable).
            cursor = self.get_component_rich_style("table--cursor")
            over = Style.from_color(cursor.color, cursor.bgcolor)
            return Strip(Segment.apply_style(cropped, base + cursor, over), width)
        return cropped.apply_style(style)
