"""Focus and tabs in the panes: a tab without a table (histogram, model card, trends) keeps
the focus, and so the keys, in its pane; Tab moves between a pane's tables only, never onto
a tab strip or a filter line; `left`/`right` switch tabs and `shift+left`/`shift+right`
scroll a wide table."""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent

from tui.widgets.line_table import Table
from tui.widgets.table import FilterTable

from .conftest import settle
from .fixture_live import live_db, make_live_app  # noqa: F401  (fixtures)
from .test_monitor_pane import open_monitor

pytestmark = pytest.mark.anyio


async def test_the_histogram_tab_keeps_the_data_panes_keys(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s", "j", "g")  # into the schema table, then the histogram hides it
        await settle(pilot)
        tabs = app.query_one("#data-tabs", TabbedContent)
        assert tabs.active == "histogram"
        focused = app.screen.focused
        assert focused is not None and app.current_pane in focused.ancestors_with_self
        assert "validate" in {b.binding.action for b in app.screen.active_bindings.values()}
        await pilot.press("s")  # a pane key still works from the histogram
        await settle(pilot)
        assert tabs.active == "schema"


async def test_tab_goes_from_table_to_table_and_j_always_moves_a_cursor(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        versions = app.query_one("#versions", FilterTable).table
        schema = app.query_one("#schema-table", FilterTable).table
        assert versions.has_focus
        assert all(isinstance(widget, Table) for widget in app.screen.focus_chain)  # no tab strip, no filter line
        await pilot.press("tab")
        assert schema.has_focus
        await pilot.press("j")
        assert schema.cursor_row == 1
        await pilot.press("tab", "j")
        assert versions.has_focus and versions.cursor_row == 1
        await pilot.press("slash", *"cr", "enter", "tab")  # a kept filter stays out of the Tab order too
        assert schema.has_focus and app.query_one("#versions", FilterTable).filter_text == "cr"


async def test_left_and_right_switch_tabs_even_on_a_wide_table(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        tabs = app.query_one("#data-tabs", TabbedContent)
        schema = app.query_one("#schema-table", FilterTable).table
        await pilot.press("s")
        await settle(pilot)
        assert schema.has_focus and schema.virtual_size.width > schema.size.width  # it could scroll
        await pilot.press("right")
        assert tabs.active == "histogram"
        await pilot.press("left", "left")
        assert tabs.active == "checks"  # round the start to the last tab
        await pilot.press("right")
        assert tabs.active == "schema" and schema.has_focus and schema.scroll_offset.x == 0
        await pilot.press("shift+right")
        assert tabs.active == "schema" and schema.scroll_offset.x > 0


async def test_the_monitors_trends_tab_keeps_its_keys_and_arrows(make_live_app):
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        tabs = app.query_one("#monitor-tabs", TabbedContent)
        assert app.query_one("#drift-table", FilterTable).table.has_focus
        await pilot.press("right")
        assert tabs.active == "trends" and app.focused is app.current_pane
        await pilot.press("right")
        assert tabs.active == "alerts" and app.query_one("#alerts-table", FilterTable).table.has_focus
        assert app.current_pane not in app.screen.focus_chain  # back to a table: the pane leaves the Tab order
        await pilot.press("left", "left")
        assert tabs.active == "drift"
