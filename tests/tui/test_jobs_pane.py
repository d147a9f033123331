"""The Jobs pane: jobs started before the app opened, states as words, log tails, cancel."""

from __future__ import annotations

import pytest

from core.jobs.runner import get_job
from core.store.database import Store
from tui.panes.jobs import duration_text, progress_bar
from tui.widgets.modals import ConfirmScreen
from tui.widgets.table import FilterTable

from .conftest import settle
from .fixture_runs import add_running_job, runs_app  # noqa: F401  (fixture)

pytestmark = pytest.mark.anyio


async def open_pane(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)


async def test_jobs_from_before_the_app_opened_show_with_state_and_log(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        table = app.query_one("#jobs-table", FilterTable)
        assert table.shown_keys == ["2", "1"]
        assert [str(table.table.get_row_at(i)[1]) for i in range(2)] == ["failed", "finished"]
        assert "Error: typo_spec.toml: dataset: dataset 'no-such-data' not found" in str(app.query_one("#job-log").content)
        await pilot.press("j")
        await settle(pilot)
        log = str(app.query_one("#job-log").content)
        assert "recorded 2 runs (0 failed)" in log and log.rstrip().endswith("job 1: finished")
        assert str(table.table.get_row_at(1)[2]) == progress_bar(1.0)


async def test_x_on_an_ended_job_asks_nothing_and_changes_nothing(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        with Store.open(app.db_path) as store:
            before = get_job(store, 2)
        await pilot.press("x")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        with Store.open(app.db_path) as store:
            assert get_job(store, 2) == before


async def test_a_job_written_while_the_pane_is_open_appears_and_cancels(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        with Store.open(app.db_path) as store, store.transaction():
            # a job on another host with a fresh heartbeat: live, and no local worker to race with
            store.conn.execute(
                "INSERT INTO jobs (kind, title, args, state, host, progress, message, heartbeat, created_at, started_at)"
                " VALUES ('train', 'train remote.toml', '{}', 'running', 'elsewhere', 0.5, 'fold 2 of 4', ?, ?, ?)",
                (app.clock(), app.clock() - 65, app.clock() - 65),
            )
        app.current_pane.reload()  # what the one-second timer does
        await settle(pilot)
        table = app.query_one("#jobs-table", FilterTable)
        assert table.shown_keys == ["3", "2", "1"]
        row = [str(cell) for cell in table.table.get_row_at(0)]
        assert row[1:4] == ["running", progress_bar(0.5), "1m05s"]
        assert table.selected_key == "2"  # the cursor stays on the job it was on
        await pilot.press("k", "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        with Store.open(app.db_path) as store:
            assert get_job(store, 3)["cancel_requested"] is True
        assert str(table.table.get_row_at(0)[1]) == "running (cancel asked)"


async def test_a_running_job_shows_its_progress_duration_and_log_tail(runs_app):
    app = runs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with Store.open(app.db_path, clock=app.clock) as store:
            job_id = add_running_job(store)
        await pilot.press("5")
        await settle(pilot)
        table = app.query_one("#jobs-table", FilterTable)
        assert table.shown_keys == [str(job_id), "2", "1"] and table.selected_key == str(job_id)
        row = [str(cell) for cell in table.table.get_row_at(0)]
        assert row == [str(job_id), "running", progress_bar(0.6), "2m05s", "train credit_spec.toml",
                       "candidate 3/3 RandomForestClassifier, fold 2 of 3"]
        assert str(app.query_one("#job-summary").content) == f"job {job_id} · train · running"
        log = str(app.query_one("#job-log").content)
        assert log.startswith(f"job {job_id}: train credit_spec.toml") and log.endswith("RandomForestClassifier: fold 2 of 3")
        app.poll_status()
        await settle(pilot)
        assert app.status_line.shown == "1 job running"


def test_progress_and_duration_texts():
    assert progress_bar(0.25, width=8) == "██······  25%"
    assert duration_text(None) == "" and duration_text(42) == "42s"
    assert duration_text(184) == "3m04s" and duration_text(7500) == "2h05m"
