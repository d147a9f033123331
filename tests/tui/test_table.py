"""FilterTable.set_rows: unchanged rows leave the table alone, changed cells are rewritten
in place, and anything else (new rows, wider cells, a filter) rebuilds it."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from tui.widgets.table import FilterTable

pytestmark = pytest.mark.anyio

COLUMNS = ("job", "state", "duration")


def rows(duration: str = "1m05s", state: Text | None = None) -> list[tuple[str, tuple[str | Text, ...]]]:
    return [("3", ("3", state or Text("running", style="bold yellow"), duration)),
            ("2", ("2", Text("failed", style="bold red"), "42s")),
            ("1", ("1", Text("finished", style="green"), "3s"))]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterTable(id="t")


def cell_texts(table: FilterTable) -> list[list[str]]:
    return [[str(cell) for cell in table.table.get_row_at(i)] for i in range(table.table.row_count)]


async def test_changed_cells_are_rewritten_in_place_and_the_cursor_stays():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, rows())
        await pilot.pause()
        table.table.move_cursor(row=2)
        columns = list(table.table.columns)
        table.set_rows(COLUMNS, rows("1m06s"))
        await pilot.pause()
        assert cell_texts(table)[0] == ["3", "running", "1m06s"]
        assert list(table.table.columns) == columns  # not rebuilt: the same column keys
        assert table.selected_key == "1"
        table.set_rows(COLUMNS, rows("1m06s", Text("running", style="magenta")))  # style only
        assert table.table.get_row_at(0)[1].style == "magenta"


async def test_new_rows_wider_cells_or_a_filter_rebuild_the_table():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, rows())
        table.set_rows(COLUMNS, rows("12h05m30s"))  # wider than the column: rebuilt with a new width
        assert [column.width for column in table.table.columns.values()] == [3, 8, len("12h05m30s")]
        assert cell_texts(table)[0] == ["3", "running", "12h05m30s"]
        table.set_rows(COLUMNS, [("4", ("4", "queued", "")), *rows("12h05m30s")])
        assert table.shown_keys == ["4", "3", "2", "1"]
        await pilot.press("tab")
        table.action_open_filter()
        await pilot.press(*"fail")
        assert table.shown_keys == ["2"]
        table.set_rows(COLUMNS, [("4", ("4", "queued", "")), *rows("12h05m31s")])
        assert table.shown_keys == ["2"] and cell_texts(table) == [["2", "failed", "42s"]]


async def test_text_cells_show_as_written_never_as_markup():
    # Values come from users' data: "[red]" is text to show, and "a[/]b" once crashed the
    # table (rich's MarkupError) when it was drawn.
    app = TableApp()
    values = ["[red]hot", "a[/]b", "[b]x[/b]", "plain"]
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(("value",), [(str(i), (value,)) for i, value in enumerate(values)])
        await pilot.pause()
        shown = [table.table.render_line(y).text.strip() for y in range(1, 1 + len(values))]
        assert shown == values
        table.set_rows(("value",), [(str(i), (value,)) for i, value in enumerate(["[blue]cold", *values[1:]])])
        await pilot.pause()  # an in-place update goes through the same door
        assert table.table.render_line(1).text.strip() == "[blue]cold"
