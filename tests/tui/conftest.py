"""Fixtures for the app's tests: a deterministic database built through the real engine,
and the app opened on it with the pinned clock and a pinned look (theme, colour).

The database is built once per test worker (session scope) and copied into each test's
own folder; tests run with that folder as the working directory and open the database as
`pitboard.db`, so the header shows the same path in every snapshot.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.worker import WorkerState

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0
from tui.app import PitboardApp

from . import fixture_db

THEME = "textual-dark"
DB_NAME = "pitboard.db"


@pytest.fixture(autouse=True)
def unexpected_errors_fail_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler's unexpected error fails the test that meets it (the app would only notify)."""
    monkeypatch.setattr("tui.errors.RAISE_UNEXPECTED", True)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tui-template") / DB_NAME
    fixture_db.build(path)
    with Store.open(path) as store:  # fold the WAL into the file so a plain copy is complete
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def app_db(template_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the fixture database; the test's cwd is its folder."""
    shutil.copyfile(template_db, tmp_path / DB_NAME)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    return Path(DB_NAME)


@pytest.fixture
def make_app(app_db: Path) -> Callable[..., PitboardApp]:
    """A PitboardApp on the fixture database with the pinned clock and theme."""

    def make(**kwargs: object) -> PitboardApp:
        app = PitboardApp(app_db, clock=fixed_clock(T0), **kwargs)  # type: ignore[arg-type]
        app.theme = THEME
        return app

    return make


@pytest.fixture
def make_empty_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., PitboardApp]:
    """A PitboardApp on a new, empty database (migrated, no rows), pinned like `make_app`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    Store.open(tmp_path / DB_NAME).close()

    def make(**kwargs: object) -> PitboardApp:
        app = PitboardApp(Path(DB_NAME), clock=fixed_clock(T0), **kwargs)  # type: ignore[arg-type]
        app.theme = THEME
        return app

    return make


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until no worker runs and none was started by the last results shown.

    A worker's result is shown through a message, whose handler may start the next
    worker (versions -> detail), so one wait is not enough: wait until quiet twice in a row.
    """
    quiet = 0
    while quiet < 2:
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        quiet = 0 if busy else quiet + 1
        await pilot.app.workers.wait_for_complete()


def screen_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of every line of the screen as drawn now (what a user reads, cut where it is cut)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def table_rows(table) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """The cells of a FilterTable's shown rows, as text (only the columns it shows)."""
    return [tuple(map(str, table.table.get_row_at(i))) for i in range(table.table.row_count)]


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio through anyio's pytest plugin (anyio comes with httpx)."""
    return "asyncio"
