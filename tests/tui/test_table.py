"""FilterTable and its line-API Table: cursor keys, the filter, what gets redrawn, how
cells are drawn (as written, cut with an ellipsis, scrolled sideways), and which columns
a narrow table keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.geometry import Region

import tui
from tui.widgets.cells import FIT_MIN_WIDTH, MAX_COLUMN_WIDTH, fit_columns
from tui.widgets.line_table import Table
from tui.widgets.table import FilterLine, FilterTable

pytestmark = pytest.mark.anyio

COLUMNS = ("job", "state", "duration")


def rows(duration: str = "1m05s", state: Text | None = None) -> list[tuple[str, tuple[str | Text, ...]]]:
    return [("3", ("3", state or Text("running", style="bold yellow"), duration)),
            ("2", ("2", Text("failed", style="bold red"), "42s")),
            ("1", ("1", Text("finished", style="green"), "3s"))]


def numbered(count: int) -> list[tuple[str, tuple[str, ...]]]:
    return [(str(i), (str(i), f"row {i}")) for i in range(count)]


class TableApp(App[None]):
    """One FilterTable, styled as in the app; records the messages it sends."""

    CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[str, str | None]] = []

    def compose(self) -> ComposeResult:
        yield FilterTable(id="t")

    @on(FilterTable.Highlighted)
    def _highlighted(self, event: FilterTable.Highlighted) -> None:
        self.messages.append(("highlighted", event.key))

    @on(FilterTable.Selected)
    def _selected(self, event: FilterTable.Selected) -> None:
        self.messages.append(("selected", event.key))


def cell_texts(table: FilterTable) -> list[list[str]]:
    return [[str(cell) for cell in table.table.get_row_at(i)] for i in range(table.table.row_count)]


def lines(table: Table, count: int) -> list[str]:
    return [table.render_line(y).text for y in range(count)]


def spy_on_drawing(table: Table) -> list[int]:
    """The y of every line the table draws from now on (Textual asks only for dirty lines)."""
    drawn: list[int] = []
    draw = table.render_line

    def render_line(y: int):  # type: ignore[no-untyped-def]
        drawn.append(y)
        return draw(y)

    table.render_line = render_line  # type: ignore[method-assign]
    return drawn


async def test_cursor_keys_move_the_cursor_and_announce_each_row():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(("id", "text"), numbered(50))
        table.table.focus()
        await pilot.pause()
        assert table.selected_key == "0" and app.messages == [("highlighted", "0")]
        await pilot.press("j", "down", "k")
        assert table.selected_key == "1"
        await pilot.press("end")
        assert table.selected_key == "49"
        assert "49" in table.table.render_line(11).text  # scrolled: the last row is on the bottom line
        await pilot.press("home")
        assert table.selected_key == "0" and table.table.scroll_offset.y == 0
        page = table.table.scrollable_content_region.height - 1  # the rows under the header
        await pilot.press("pagedown")
        assert table.selected_key == str(page)
        await pilot.press("pagedown", "pageup")
        assert table.selected_key == str(page)
        await pilot.press("up")
        await pilot.pause()
        assert [key for kind, key in app.messages] == ["0", "1", "2", "1", "49", "0", str(page), str(2 * page),
                                                        str(page), str(page - 1)]


async def test_enter_selects_the_row_under_the_cursor():
    app = TableApp()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.table.focus()
        await pilot.press("enter")  # an empty table selects nothing
        table.set_rows(COLUMNS, rows())
        await pilot.press("j", "enter")
        assert ("selected", "2") in app.messages and [m for m in app.messages if m[0] == "selected"] == [("selected", "2")]


async def test_the_filter_narrows_the_rows_and_escape_brings_them_back():
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, [("4", ("4", "queued", "")), *rows()])
        table.table.focus()
        header = table.table.render_line(0).text
        await pilot.press("slash", *"FAIL")
        assert table.shown_keys == ["2"] and table.selected_key == "2"
        assert table.table.render_line(0).text == header  # the columns keep their widths
        await pilot.press("enter")
        assert table.table.has_focus and table.filter_text == "FAIL"
        table.set_rows(COLUMNS, [("4", ("4", "queued", "")), *rows("1m06s")])  # a reload keeps the filter
        assert table.shown_keys == ["2"] and cell_texts(table) == [["2", "failed", "42s"]]
        await pilot.press("slash", "escape")
        assert table.shown_keys == ["4", "3", "2", "1"] and table.filter_text == ""
        assert table.selected_key == "2" and table.table.has_focus


async def test_the_same_rows_again_redraw_nothing_and_a_changed_row_redraws_its_line_only():
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, rows())
        await pilot.pause()
        drawn = spy_on_drawing(table.table)
        table.set_rows(COLUMNS, rows())
        await pilot.pause()
        assert drawn == []
        table.set_rows(COLUMNS, rows("1m06s"))  # the running job's duration: row 0, line 1
        await pilot.pause()
        assert drawn == [1] and "1m06s" in table.table.render_line(1).text
        drawn.clear()
        table.set_rows(COLUMNS, rows("1m06s", Text("running", style="magenta")))  # a style is a change too
        await pilot.pause()
        assert drawn == [1] and table.table.get_row_at(0)[1].style == "magenta"
        drawn.clear()
        table.table.move_cursor(2)
        await pilot.pause()
        assert sorted(drawn) == [1, 3]  # the line the cursor left and the one it reached
        assert table.selected_key == "1"


async def test_new_rows_keep_the_cursor_on_its_key_or_start_over():
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, rows())
        table.table.move_cursor(1)
        table.set_rows(COLUMNS, [("4", ("4", "queued", "")), *rows()])
        assert table.shown_keys == ["4", "3", "2", "1"] and table.selected_key == "2"
        table.set_rows(COLUMNS, rows("12h05m30s"))  # wider than the column: new widths
        assert table.selected_key == "2"
        assert table.table.render_line(1).text.startswith(" 3    running   12h05m30s ")
        table.set_rows(COLUMNS, [("9", ("9", "queued", ""))])
        assert table.selected_key == "9" and table.table.cursor_row == 0


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
        await pilot.pause()  # an update of one row goes through the same door
        assert table.table.render_line(1).text.strip() == "[blue]cold"
        table.set_rows(("value",), [("0", (Text("[i]styled[/i]", style="bold"),)), ("1", ("line\nbreak\ttab",))])
        assert lines(table.table, 3)[1:] == [" [i]styled[/i]".ljust(60), " line break tab".ljust(60)]


async def test_cells_keep_their_style_and_justification_and_long_ones_end_in_an_ellipsis():
    app = TableApp()
    long = "x" * (MAX_COLUMN_WIDTH + 20)
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(("n", "what"), [("a", (Text("7", justify="right"), long)),
                                       ("b", ("12345", Text("failed", style="bold red")))])
        await pilot.pause()
        assert table.table.render_line(1).text == "     7  " + "x" * (MAX_COLUMN_WIDTH - 1) + "…" + " " * 32
        failed = next(segment for segment in table.table.render_line(2) if segment.text == "failed")
        assert failed.style.bold and failed.style.color.name == "red"
        assert table.table.get_row_at(0)[1] == long  # the row keeps the whole value


async def test_wide_tables_scroll_sideways_a_column_at_a_time():
    app = TableApp()
    async with app.run_test(size=(30, 8)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(("name", "description", "size"),
                       [("a", ("alpha", "the first of several rows", "12")), ("b", ("beta", "the second", "7"))])
        table.table.focus()
        await pilot.pause()
        assert table.table.virtual_size.width == 7 + 27 + 6 > 30
        assert table.table.render_line(0).text.startswith(" name   description ")
        await pilot.press("right")  # plain arrows are the panes' (tabs): the table stays put
        assert table.table.scroll_offset.x == 0
        await pilot.press("shift+right")
        assert table.table.scroll_offset.x == 7
        assert table.table.render_line(0).text.startswith(" description")
        assert table.table.render_line(1).text.startswith(" the first of several rows ")
        await pilot.press("shift+right")  # as far as the last column can come
        assert table.table.scroll_offset.x == table.table.max_scroll_x
        await pilot.press("shift+left", "shift+left")
        assert table.table.scroll_offset.x == 0 and table.selected_key == "a"


async def test_the_cursor_row_stands_out_without_colour(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = TableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, rows())
        table.table.focus()
        await pilot.pause()
        assert app.no_color
        drawn = table.table.render_lines(Region(0, 0, 40, 3))  # as sent: after the NO_COLOR filter
        cursor, plain_row = drawn[1], drawn[2]
        first = next(iter(cursor)).style
        assert first.bold and first.bgcolor != next(iter(plain_row)).style.bgcolor


def test_fit_columns_drops_the_least_important_first_and_lets_the_message_take_the_rest():
    natural = [5, 8, 12, 70, 14, 19]  # alert severity state message rule opened
    drop, fit = [5, 4], 3
    assert fit_columns(natural, None, drop=drop, fit=fit) == ([0, 1, 2, 3, 4, 5], [5, 8, 12, 40, 14, 19])
    assert fit_columns(natural, 200, drop=drop, fit=fit) == ([0, 1, 2, 3, 4, 5], [5, 8, 12, 70, 14, 19])
    shown, widths = fit_columns(natural, 100, drop=drop, fit=fit)  # the message gets its 40 once `opened` goes
    assert shown == [0, 1, 2, 3, 4] and widths[3] == 100 - (5 + 8 + 12 + 14) - 2 * 5 == 51
    shown, widths = fit_columns(natural, 70, drop=drop, fit=fit)
    assert shown == [0, 1, 2, 3] and widths == [5, 8, 12, 70 - 25 - 8]
    shown, widths = fit_columns(natural, 30, drop=drop, fit=fit)  # nothing left to drop: the line scrolls
    assert shown == [0, 1, 2, 3] and widths[3] == FIT_MIN_WIDTH


def test_fit_columns_without_a_message_drops_until_the_line_fits():
    assert fit_columns([20, 7, 7], 39, drop=[2]) == ([0, 1], [20, 7])
    assert fit_columns([20, 7, 7], 40, drop=[2]) == ([0, 1, 2], [20, 7, 7])
    assert fit_columns([60, 7], 40) == ([0, 1], [MAX_COLUMN_WIDTH, 7])


async def test_a_narrow_table_leaves_out_columns_and_shows_them_again_when_wider():
    app = TableApp()
    message = "drifted among the top 3 features (debt_to_income, utilization, income)"
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(("alert", "state", "message", "opened"),
                       [("1", ("1", "open", message, "2026-01-05 00:01:01"))], drop=("opened",), fit="message")
        await pilot.pause()
        assert cell_texts(table) == [["1", "open", message]]
        line = table.table.render_line(1).text
        assert line.rstrip().endswith("…") and len(line) <= 60
        assert line.startswith(" 1      open   drifted among the top 3 features")
        await pilot.resize_terminal(140, 8)
        await pilot.pause()
        assert cell_texts(table) == [["1", "open", message, "2026-01-05 00:01:01"]]
        assert message in table.table.render_line(1).text


async def test_the_filter_line_takes_the_focus_only_from_its_key():
    """A Tab never lands in the filter line, so `j` after a Tab moves the cursor, never types."""
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(FilterTable)
        table.set_rows(COLUMNS, rows())
        table.table.focus()
        await pilot.press("tab", "j")
        assert table.table.has_focus and table.filter_text == "" and table.selected_key == "2"
        await pilot.press("slash", "f", "a", "enter")  # a filter kept: the line stays in sight ...
        line = app.query_one(FilterLine)
        assert line.has_class("open") and table.filter_text == "fa" and table.table.has_focus
        await pilot.press("tab", "shift+tab", "k")  # ... and out of the Tab order
        assert table.table.has_focus and table.filter_text == "fa"
        await pilot.press("slash", "escape")
        assert not line.has_class("open") and table.filter_text == "" and table.table.has_focus
