"""The shell: pane switching, help, the command palette, quitting, the status line."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette

from tui.screens.help import HelpScreen
from tui.widgets.header import PaneBar, StatusLine
from tui.widgets.modals import ConfirmScreen
from tui.widgets.table import FilterTable

from .conftest import settle, table_rows

pytestmark = pytest.mark.anyio

PANE_KEYS = {"1": "data", "2": "experiments", "3": "registry", "4": "monitor", "5": "jobs"}


async def test_opens_on_data_pane_with_path_and_status(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.current_pane.pane_id == "data"
        assert "[1 Data]" in str(app.query_one(PaneBar).content)
        assert "pitboard.db" in str(app.query_one("#db-label").content)
        assert app.query_one(StatusLine).shown == "no jobs running"


async def test_hidden_panes_read_their_data_once_after_startup_without_taking_the_focus(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        focused = app.focused
        panes = {pane.pane_id: pane for pane in app.panes}
        assert app.current_pane.pane_id == "data"
        assert panes["experiments"].loaded and panes["registry"].loaded and panes["monitor"].loaded
        assert not panes["jobs"].loaded  # PREFETCH = False: its first visit opens on the newest job
        assert app.focused is focused and focused is not None and panes["data"] in focused.ancestors_with_self


async def test_the_theme_kept_follows_a_change_of_theme(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        first = app.current_theme
        assert app.current_theme is first and first.name == app.theme
        app.theme = next(name for name in app.available_themes if name != first.name)
        await pilot.pause()
        assert app.current_theme.name == app.theme != first.name


async def test_number_keys_switch_panes_and_mark_the_bar(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        for key, pane_id in [*PANE_KEYS.items(), ("1", "data")]:
            await pilot.press(key)
            assert app.current_pane.pane_id == pane_id
            bar = str(app.query_one(PaneBar).content)
            title = app.current_pane.title
            assert f"[{key} {title}]" in bar and bar.count("[") == 1


async def test_help_lists_every_key_of_the_pane_and_closes(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = set(table_rows(app.screen.query_one(FilterTable)))
        for key, title in [("1", "Data pane"), ("5", "Jobs pane"), ("q", "Quit"), ("?", "Help"), ("^p", "Palette"), ("tab", "Focus Next")]:
            assert ("everywhere", key, title) in rows
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.current_pane.pane_id == "jobs"


async def test_help_lists_the_panes_own_keys_first(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        rows = table_rows(app.screen.query_one(FilterTable))
        where = [row[0] for row in rows]
        groups = list(dict.fromkeys(where))
        assert groups == ["Data pane", "focused table", "everywhere"]
        assert where == sorted(where, key=groups.index)  # each group in one run
        assert rows[0][1:] == ("←", "Previous tab") and ("Data pane", "g", "Histogram") in rows


async def test_palette_switches_pane(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"go to registry")
        await pilot.pause(0.3)  # the palette searches on a short debounce
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_pane.pane_id == "registry"


async def test_palette_changes_theme(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+p", *"theme")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"textual-light")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "textual-light"


async def test_q_quits(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3", "q")
        await pilot.pause()
        assert not app.is_running


async def test_confirm_modal_returns_the_answer(make_app):
    app = make_app()
    answers: list[bool | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        for key, expected in [("y", True), ("n", False), ("escape", False)]:
            app.push_screen(ConfirmScreen("Delete run 3?", "Run 3 will be deleted."), answers.append)
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press(key)
            await pilot.pause()
            assert answers[-1] is expected
        app.push_screen(ConfirmScreen("Promote?", "v2 becomes champion.", confirm_label="Promote"), answers.append)
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.pause()
        assert answers == [True, False, False, True]


async def test_no_color_keeps_status_in_words(make_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        assert app.query_one(StatusLine).shown == "no jobs running"
        await pilot.press("4")
        assert "[4 Monitor]" in str(app.query_one(PaneBar).content)


async def test_palette_offers_the_shown_panes_actions(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"validate credit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("OptionList").option_count == 3  # the version chooser of `v`


def test_the_heap_is_frozen_after_each_burst_of_imports_only(make_app, monkeypatch):
    import gc
    import sys
    import types

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    app = make_app()
    app.freeze_imported()
    app.freeze_imported()  # nothing imported since: nothing to do
    assert calls == ["collect", "freeze"]
    monkeypatch.setitem(sys.modules, "pitboard_test_imported_later", types.ModuleType("pitboard_test_imported_later"))
    app.freeze_imported()
    assert calls == ["collect", "freeze", "collect", "freeze"]
