"""A tab without a table (histogram, model card, trends) keeps the focus, and so the keys, in its pane."""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent

from .conftest import settle

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
