"""`pitboard --pane NAME` opens the app on that pane; `pitboard demo` opens it on Monitor.

The CLI tests replace `PitboardApp.run` with a recorder, so they check what the command
asks of the app (which database, which pane) without starting a terminal UI.
"""

from __future__ import annotations

import pytest

from core.store.database import Store
from tests.conftest import file_bytes
from tui.app import PitboardApp
from tui.widgets.header import PaneBar

from .conftest import settle
from .fixture_live import live_db, make_live_app  # noqa: F401  (fixtures)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(database, first pane) of every app the command opens."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(PitboardApp, "run", lambda app, **kwargs: calls.append((app.db_path.name, app._current)))
    return calls


@pytest.mark.parametrize("pane", ["data", "experiments", "registry", "monitor", "jobs"])
def test_pane_option_opens_the_app_on_that_pane(pitboard, opened, pane):
    result = pitboard("--pane", pane)
    assert result.exit_code == 0, result.stderr
    assert opened == [("pitboard.db", pane)]


def test_without_pane_the_app_opens_on_data(pitboard, opened):
    assert pitboard().exit_code == 0
    assert opened == [("pitboard.db", "data")]


def test_a_bad_pane_is_one_line_naming_the_valid_ones_and_creates_nothing(pitboard, opened, db_path):
    result = pitboard("--pane", "monitr")
    assert result.exit_code == 2
    assert result.stderr == "Error: --pane 'monitr': no such pane; valid: data, experiments, registry, monitor, jobs\n"
    assert opened == [] and not db_path.exists()


def built_demo(db_path) -> bytes:  # type: ignore[no-untyped-def]
    """A database that `pitboard demo` takes for an already built demo (it then only opens the app)."""
    with Store.open(db_path) as store, store.transaction():
        store.audit("demo.start", str(db_path), {"model": "credit-risk"})
        store.conn.execute("INSERT INTO models (name, created_at) VALUES ('credit-risk', 0)")
    return file_bytes(db_path)


def test_demo_opens_the_app_on_the_monitor_pane(pitboard, opened, db_path):
    built_demo(db_path)
    result = pitboard("demo")
    assert result.exit_code == 0, result.stderr
    assert "the demo is already built" in result.stdout
    assert opened == [("pitboard.db", "monitor")]


def test_demo_takes_another_pane_and_refuses_a_bad_one_before_anything(pitboard, opened, db_path):
    before = built_demo(db_path)
    assert pitboard("--pane", "jobs", "demo").exit_code == 0
    assert opened == [("pitboard.db", "jobs")]
    result = pitboard("--pane", "nope", "demo")
    assert result.exit_code == 2 and "valid: data, experiments, registry, monitor, jobs" in result.stderr
    assert result.stdout == "" and opened == [("pitboard.db", "jobs")]
    assert file_bytes(db_path) == before


@pytest.mark.anyio
async def test_the_app_shows_its_first_pane_with_its_data(make_live_app):
    app = make_live_app(pane="monitor")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.current_pane.pane_id == "monitor"
        assert "[4 Monitor]" in str(app.query_one(PaneBar).content)
        assert app.current_pane.view is not None and app.current_pane.view.model == "credit-risk"
        assert app.current_pane in app.focused.ancestors  # its keys (a, R, m) are live
        await pilot.press("1")
        assert app.current_pane.pane_id == "data"
