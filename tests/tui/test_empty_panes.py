"""Empty panes keep the keys they offer: on an empty database each pane shows its empty
state, takes the focus itself, and offers (in the footer and in `?`) only keys that work
there; `t` in the Experiments pane opens the train modal whether or not its data is loaded.
"""

from __future__ import annotations

import pytest

from core.store.database import Store
from tui.screens.help import HelpScreen
from tui.screens.train import TrainScreen
from tui.widgets.table import FilterTable

from .conftest import settle, table_rows

pytestmark = pytest.mark.anyio

APP_KEYS = {"q", "question_mark", "ctrl+p"}  # the app's keys shown in the footer on every pane
PANES = {"1": "data", "2": "experiments", "3": "registry", "4": "monitor", "5": "jobs"}


def footer_keys(app) -> set[str]:  # type: ignore[no-untyped-def]
    from tui.widgets.footer import KeysFooter

    footer = app.screen.query_one(KeysFooter)
    return {key.key for key in footer.keys} | ({footer.palette.key} if footer.palette else set())


async def open_pane(pilot, key: str):  # type: ignore[no-untyped-def]
    """Press `key` once the app has settled, and return the pane shown once it has loaded."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    return pilot.app.current_pane


async def test_t_in_the_empty_experiments_pane_opens_the_train_modal(make_empty_app):
    app = make_empty_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot, "2")
        assert pane.pane_id == "experiments" and pane.shows_empty
        assert app.query_one("#experiments-empty").display and not app.query_one("#experiments-main").display
        assert app.focused is pane
        assert footer_keys(app) == APP_KEYS | {"t"}
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is pane and footer_keys(app) == APP_KEYS | {"t"}


async def test_2_then_t_at_once_from_a_fresh_app_opens_the_train_modal(make_app):
    """No waiting between the keys: `t` works before and after the pane finds it has no experiments."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "t")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_pane.shows_empty and app.focused is app.current_pane
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TrainScreen)


@pytest.mark.parametrize(("key", "pane_id"), PANES.items())
async def test_an_empty_pane_offers_only_keys_that_work_there(make_empty_app, key, pane_id):
    app = make_empty_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot, key)
        assert pane.pane_id == pane_id and pane.shows_empty and app.focused is pane
        live = {key for key, active in app.screen.active_bindings.items() if active.node is pane}
        assert live == ({"t"} if pane_id == "experiments" else set())
        assert footer_keys(app) == APP_KEYS | live
        assert [action.title for action in pane.palette_actions()] == (
            ["Train a spec file as a job"] if pane_id == "experiments" else [])
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        where = {row[0] for row in table_rows(app.screen.query_one(FilterTable))}
        assert where == ({"everywhere", f"{pane.title} pane"} if live else {"everywhere"})


async def test_a_pane_that_fills_gives_the_focus_to_its_table(make_empty_app):
    """Data arriving while the empty pane holds the focus: the focus moves to the first table."""
    app = make_empty_app()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(pilot, "5")
        assert app.focused is pane
        with Store.open(app.db_path) as store, store.transaction():
            store.conn.execute(
                "INSERT INTO jobs (kind, title, args, state, host, progress, message, heartbeat, created_at, started_at)"
                " VALUES ('train', 'train remote.toml', '{}', 'running', 'elsewhere', 0.5, 'fold 2 of 4', ?, ?, ?)",
                (app.clock(), app.clock(), app.clock()),
            )
        pane.reload()
        await settle(pilot)
        assert not pane.shows_empty
        assert app.focused is pane.query_one("#jobs-table").table
        assert "x" in footer_keys(app)
