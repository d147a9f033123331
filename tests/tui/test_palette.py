"""The command palette holds every action of the issue's list, pane by pane, and `?`
lists every key of the shown pane.

Pane actions come from the shown pane (`Pane.palette_actions`), so the palette lists what
can run now, on what is selected; pane switching and theme are there on every pane. The
test opens the real palette on each pane of the live fixture (every pane has data there)
and reads the commands it lists before anything is typed.
"""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette

from tui.screens.help import HelpScreen
from tui.widgets.table import FilterTable

from .conftest import settle, table_rows
from .fixture_live import live_db, make_live_app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.anyio

EVERYWHERE = [
    "Go to Data pane", "Go to Experiments pane", "Go to Registry pane", "Go to Monitor pane", "Go to Jobs pane",
    "Theme", "Quit", "Keys", "Screenshot",
]
FOCUS_DEPENDENT = {"Maximize", "Minimize"}  # Textual's: offered when the focused widget can be maximized
PANE_ACTIONS = {
    "data": ["Validate credit@1 against a version", "Preview rows of credit@1"],
    "experiments": ["Train a spec file as a job", "Register run 2 as a model version"],
    "registry": ["Promote credit-risk@1 (champion or challenger)", "Roll back credit-risk@champion",
                 "Package credit-risk@1 as a bundle", "Serve credit-risk@champion"],
    "monitor": ["Acknowledge the highlighted alert", "Retrain credit-risk", "Monitor another model"],
    "jobs": [],  # no job to cancel in this database
}
# The issue's list of actions, and the palette command that does each (on its pane).
ISSUE_ACTIONS = {
    "train a spec": "Train a spec file as a job",
    "register": "Register run 2 as a model version",
    "promote": "Promote credit-risk@1 (champion or challenger)",
    "rollback": "Roll back credit-risk@champion",
    "package": "Package credit-risk@1 as a bundle",
    "serve": "Serve credit-risk@champion",
    "retrain": "Retrain credit-risk",
    "acknowledge an alert": "Acknowledge the highlighted alert",
    "validate data": "Validate credit@1 against a version",
    "switch pane": "Go to Monitor pane",
    "change theme": "Theme",
}


async def palette_commands(pilot) -> list[str]:  # type: ignore[no-untyped-def]
    """The commands the palette lists with nothing typed, in its order; the palette is closed again."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    listed = palette.query_one(CommandList)
    titles = [str(listed.get_option_at_index(i).hit.text) for i in range(listed.option_count)]
    titles = [title for title in titles if title not in FOCUS_DEPENDENT]
    await pilot.press("escape")
    await pilot.pause()
    return titles


async def test_the_palette_holds_every_action_of_each_pane(make_live_app):
    app = make_live_app()
    listed: dict[str, list[str]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key, pane_id in zip("12345", PANE_ACTIONS):
            await pilot.press(key)
            await settle(pilot)
            assert app.current_pane.pane_id == pane_id
            listed[pane_id] = await palette_commands(pilot)
    for pane_id, actions in PANE_ACTIONS.items():
        assert sorted(listed[pane_id]) == sorted(EVERYWHERE + actions), pane_id
    everything = {title for titles in listed.values() for title in titles}
    assert {action: command in everything for action, command in ISSUE_ACTIONS.items()} == dict.fromkeys(ISSUE_ACTIONS, True)


async def test_help_lists_every_key_of_each_pane(make_live_app):
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in "12345":
            await pilot.press(key)
            await settle(pilot)
            pane = app.current_pane
            offered = {(app.get_key_display(b), b.description) for b in pane.BINDINGS
                       if not pane.shows_empty or b.action in pane.EMPTY_ACTIONS}
            await pilot.press("question_mark")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            rows = table_rows(app.screen.query_one(FilterTable))
            assert {(shown, does) for where, shown, does in rows if where == f"{pane.title} pane"} == offered, pane.pane_id
            assert pane.shows_empty or len(offered) == len(pane.BINDINGS)
            await pilot.press("escape")
            await pilot.pause()
