"""The Experiments pane: runs best first, the run filter, run detail, compare, train as a
job (from a spec file, or drafted from a dataset in the train modal)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from core.experiments.runs import get_run, list_runs
from core.jobs.runner import ACTIVE, cancel_job
from core.store.database import Store
from tui.screens.compare import CompareScreen, metric_bar, params_view
from tui.screens.run_detail import RunDetailScreen
from tui.widgets.importance import ImportanceBars, importance_lines
from tui.widgets.run_plots import ResidualPlot, RocPlot
from tui.widgets.table import FilterTable

from .conftest import screen_lines, settle
from .fixture_runs import PRICES_SPEC, runs_app  # noqa: F401  (fixture)

pytestmark = pytest.mark.anyio


def run_ids(app) -> list[int]:
    return [int(key) for key in app.query_one("#runs", FilterTable).shown_keys]


async def open_pane(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def test_runs_are_listed_best_first_by_the_primary_metric(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        assert app.query_one("#experiments-table", FilterTable).shown_keys == ["credit-risk", "house-prices"]
        with Store.open(app.db_path) as store:
            auc = {run["id"]: run["primary_value"] for run in list_runs(store, experiment="credit-risk")}
            rmse = {run["id"]: run["primary_value"] for run in list_runs(store, experiment="house-prices")}
        assert run_ids(app) == sorted(auc, key=lambda i: -auc[i])
        assert len(run_ids(app)) == 4
        await pilot.press("j")  # house-prices: rmse, lower is better
        await settle(pilot)
        assert run_ids(app) == sorted(rmse, key=lambda i: rmse[i])
        assert "house-prices: 2 runs, best first by rmse" in str(app.query_one("#runs-note").content)


async def test_the_run_filter_uses_the_runs_list_syntax_and_shows_errors(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("f", *"metrics.roc_auc > 0.68", "enter")
        await settle(pilot)
        with Store.open(app.db_path) as store:
            expected = {run["id"] for run in list_runs(store, experiment="credit-risk", filter="metrics.roc_auc > 0.68")}
        assert 0 < len(expected) < 4
        assert set(run_ids(app)) == expected
        before = run_ids(app)
        await pilot.press("f", "backspace", "backspace", "backspace", "backspace", "enter")  # "metrics.roc_auc >"
        await settle(pilot)
        note = app.query_one("#runs-note")
        assert "filter:" in str(note.content) and "position" in str(note.content)
        assert note.has_class("error")
        assert run_ids(app) == before  # the last good rows stay


async def test_a_filter_nested_400_deep_is_an_error_in_the_note_and_the_app_runs_on(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        before = list(app.query_one("#runs", FilterTable).shown_keys)
        await pilot.press("f")
        app.screen.focused.value = "(" * 400 + "metrics.roc_auc > 0.5" + ")" * 400  # pasted
        await pilot.press("enter")
        await settle(pilot)
        note = app.query_one("#runs-note")
        assert str(note.content).startswith("filter: parentheses nested deeper than 10 at position 11\n")
        assert note.has_class("error")
        assert [n.message for n in app._notifications if n.severity == "error"] == []
        assert list(app.query_one("#runs", FilterTable).shown_keys) == before
        assert app.is_running


async def test_enter_opens_a_classifier_run_with_roc_and_importance(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("enter", "enter")  # experiment -> its runs -> the best run
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        best = run_ids_from_db(app, "credit-risk")[0]
        assert screen.detail.run.id == best
        assert screen.detail.dataset == "credit@1"
        assert len(screen.query(RocPlot)) == 1
        assert screen.detail.roc["x"][0] == 0.0 and screen.detail.roc["y"][-1] == 1.0
        await pilot.press("escape")
        assert app.screen is not screen


def run_ids_from_db(app, experiment: str) -> list[int]:
    with Store.open(app.db_path) as store:
        runs = list_runs(store, experiment=experiment)
    return [run["id"] for run in sorted(runs, key=lambda r: -r["primary_value"])]


async def test_a_regressor_run_shows_its_holdout_residuals(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("j", "enter", "enter")
        await settle(pilot)
        detail = app.screen.detail
        assert detail.run.task == "regression"
        assert len(detail.residuals) == detail.run.holdout_size == 24
        plot = app.screen.query_one(ResidualPlot)
        assert "residuals μ" in plot.render().plain


async def test_space_marks_runs_and_c_compares_them(runs_app):
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("c")  # nothing marked: a warning, no screen
        assert not isinstance(app.screen, CompareScreen)
        await pilot.press("enter", "space", "j", "space")
        await settle(pilot)
        pane = app.current_pane
        first, second = run_ids(app)[:2]
        assert pane.marked == {first, second}
        cells = app.query_one("#runs", FilterTable).table.get_row_at(0)
        assert str(cells[0]) == "●"
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        found = screen.comparison
        assert [run["id"] for run in found["runs"]] == sorted([first, second])
        with Store.open(app.db_path) as store:
            a, b = (get_run(store, run_id) for run_id in sorted([first, second]))
        assert {row["key"] for row in found["params"]} == {k for k in a.params.keys() | b.params.keys() if a.params.get(k) != b.params.get(k)}
        auc = next(row for row in found["metrics"] if row["key"] == "roc_auc")
        assert auc["deltas"][1] == pytest.approx(b.metrics["roc_auc"] - a.metrics["roc_auc"])
        await pilot.press("a")
        await settle(pilot)
        assert screen.comparison["hidden_identical_params"] == 0


def test_metric_bars_scale_between_the_runs():
    assert metric_bar(0.5, 0.5, 0.9, width=10) == "█" + "·" * 9
    assert metric_bar(0.9, 0.5, 0.9, width=10) == "█" * 10
    assert metric_bar(None, 0.5, 0.9) == ""


async def wait_for_db(query, args, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    """Poll the database (the worker reports only there) until `query` answers truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Store.open(Path("pitboard.db")) as store:
            found = store.value(query, args)
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {query}")


async def test_t_trains_a_spec_file_as_a_job(runs_app, tmp_path):
    app = runs_app()
    (tmp_path / "prices.toml").write_text(PRICES_SPEC)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        with Store.open(app.db_path) as store:
            jobs_before = store.value("SELECT count(*) FROM jobs")
        await pilot.press("t")
        await pilot.press(*["backspace"] * 40, *"missing.toml", "enter")
        await settle(pilot)
        with Store.open(app.db_path) as store:
            assert store.value("SELECT count(*) FROM jobs") == jobs_before  # a bad path changes nothing
        await pilot.press("t")
        await pilot.press(*["backspace"] * 40, *"prices.toml", "enter")
        await settle(pilot)
        with Store.open(app.db_path) as store:
            job = store.row("SELECT * FROM jobs ORDER BY id DESC LIMIT 1")
            assert (job["id"], job["kind"], job["title"]) == (jobs_before + 1, "train", "train prices.toml")
            cancel_job(store, job["id"])  # the flow is proven; do not spend the shared CPU on the search
        await wait_for_db(f"SELECT 1 FROM jobs WHERE id = ? AND state NOT IN {ACTIVE}", (job["id"],))


async def test_r_registers_the_highlighted_run_under_the_name_given(runs_app):
    from core.registry import versions as registry
    from tui.widgets.modals import PromptScreen

    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("enter", "j")  # into the runs, second best
        await settle(pilot)
        run_id = run_ids(app)[1]
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        assert str(app.screen.query_one(".dialog-title").content) == f"Register run {run_id} as a model version"
        assert app.screen.query_one("#model-name").value == "credit-risk"
        await pilot.press("escape")  # cancelled: nothing registered
        await settle(pilot)
        with Store.open(app.db_path) as store:
            assert registry.list_models(store) == []
        await pilot.press("r", "end", *"-v2", "enter")
        await settle(pilot)
        assert any(f"registered run {run_id} as credit-risk-v2@1" in n.message for n in app._notifications), [n.message for n in app._notifications]
    with Store.open(app.db_path) as store:
        (version,) = registry.list_versions(store, "credit-risk-v2")
        assert (version.version, version.run_id) == (1, run_id)
        assert store.value("SELECT count(*) FROM audit WHERE action = 'model.register'") == 1


async def test_r_with_a_bad_model_name_or_on_a_failed_run_registers_nothing(runs_app):
    from core.registry import versions as registry
    from tui.widgets.modals import PromptScreen

    app = runs_app()
    with Store.open(app.db_path) as store, store.transaction():
        failed = store.value("SELECT min(id) FROM runs")
        store.conn.execute("UPDATE runs SET status = 'FAILED', error = 'fixture' WHERE id = ?", (failed,))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("r", "ctrl+u", *"bad name!", "enter")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1 and "bad name!" in errors[0] and "\n" not in errors[0]
        runs = app.query_one("#runs", FilterTable)
        assert str(failed) in runs.shown_keys
        for _ in runs.shown_keys:
            if runs.selected_key == str(failed):
                break
            await pilot.press("j")
        await pilot.press("r")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert any(f"Run {failed} is FAILED" in n.message for n in app._notifications)
    with Store.open(app.db_path) as store:
        assert registry.list_models(store) == []


AGAIN_SPEC = """
experiment = "again"
dataset = "credit@1"
seed = 7

[search]
cv = 2

[[candidates]]
estimator = "LogisticRegression"
params = { C = [1.0], max_iter = 500 }
"""


async def test_comparing_runs_with_identical_params_says_so_and_shows_the_metrics(runs_app):
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec

    app = runs_app()
    with Store.open(app.db_path) as store:  # one configuration trained twice: the same params
        first, second = (train_spec(store, parse_spec(AGAIN_SPEC)).run_ids[0] for _ in range(2))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        assert app.query_one("#experiments-table", FilterTable).selected_key == "again"
        await pilot.press("enter", "space", "j", "space")
        await settle(pilot)
        assert "2 marked, c compares them" in str(app.query_one("#runs-note").content)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.comparison["params"] == []
        text = "\n".join(screen_lines(app))
        assert f"identical params: the runs share all {screen.comparison['hidden_identical_params']} of them" in text
        assert "metrics (deltas against run" in text and "roc_auc" in text
    assert sorted([first, second]) == [run["id"] for run in screen.comparison["runs"]]


def test_params_that_differ_are_a_table_and_none_are_words():
    runs = [{"id": 1, "estimator": "Ridge"}, {"id": 2, "estimator": "Ridge"}]
    assert params_view({"runs": runs, "params": [], "hidden_identical_params": 7}).plain == (
        "identical params: the runs share all 7 of them (a shows them)")
    table = params_view({"runs": runs, "params": [{"key": "[b]alpha", "values": [1.0, 2.0], "differs": True}],
                         "hidden_identical_params": 7})
    assert table.title == "params that differ" and table.columns[0]._cells[0].plain == "[b]alpha"  # as written


def test_importance_bars_are_one_line_each_beside_their_own_name():
    importance = [{"feature": "income", "mean": 0.1}, {"feature": "debt_to_income", "mean": 0.05},
                  {"feature": "term", "mean": -0.01}]
    lines = importance_lines(importance, "roc_auc", 40).plain.split("\n")
    assert lines[0] == "permutation importance (roc_auc drop)"
    assert [line.split()[0] for line in lines[1:]] == ["income", "debt_to_income", "term"]
    assert all(len(line) == 40 for line in lines[1:])
    bars = [line.count("█") for line in lines[1:]]
    assert bars[0] == 40 - len("debt_to_income") - len("-0.010") - 2 and bars[0] > bars[1] > 0 == bars[2]
    assert [line.split()[-1] for line in lines[1:]] == ["0.100", "0.050", "-0.010"]


async def test_the_run_screen_draws_importance_as_labelled_lines(runs_app):
    app = runs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        run = app.screen.detail.run
        bars = app.screen.query_one(ImportanceBars)
        drawn = bars.render().plain.split("\n")[1:]
        assert [line.split()[0] for line in drawn] == [row["feature"] for row in run.feature_importance]
        assert all("█" not in line or line.split()[0] for line in drawn)


async def test_the_run_filter_opens_on_f_only_and_closes_on_enter_or_escape(runs_app):
    app = runs_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        line = app.query_one("#run-filter")
        assert not line.display and line not in app.screen.focus_chain
        await pilot.press("tab", "j")  # Tab goes from the experiments to the runs; j moves a cursor
        runs = app.query_one("#runs", FilterTable).table
        assert runs.has_focus and runs.cursor_row == 1 and line.value == ""
        await pilot.press("tab")
        assert app.query_one("#experiments-table", FilterTable).table.has_focus
        await pilot.press("tab")
        await pilot.press("f", *"metrics.roc_auc > 0.68", "enter")
        await settle(pilot)
        assert not line.display and app.query_one("#runs", FilterTable).table.has_focus
        assert "filter: metrics.roc_auc > 0.68" in str(app.query_one("#runs-note").content)
        filtered = run_ids(app)
        await pilot.press("f", "escape")  # escape clears the filter
        await settle(pilot)
        assert not line.display and line.value == "" and len(run_ids(app)) > len(filtered)
        assert "filter:" not in str(app.query_one("#runs-note").content)


async def test_the_train_modal_drafts_a_spec_from_a_dataset_then_trains_it(runs_app, monkeypatch):
    import threading

    from core.experiments import spec_draft
    from tui.screens.train import TrainScreen

    drafted_on: list[bool] = []
    draft = spec_draft.draft_spec

    def recording_draft(store, dataset_ref, target=None, experiment=None):  # type: ignore[no-untyped-def]
        drafted_on.append(threading.current_thread() is threading.main_thread())
        return draft(store, dataset_ref, target, experiment)

    monkeypatch.setattr(spec_draft, "draft_spec", recording_draft)
    app = runs_app()
    written = Path("prices_spec.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        with Store.open(app.db_path) as store:
            jobs_before = store.value("SELECT count(*) FROM jobs")
            expected = draft(store, "prices")
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TrainScreen)
        await pilot.press("tab", *"nope", "enter")  # an unknown dataset: said in the modal, nothing written
        await settle(pilot)
        status = screen.query_one("#draft-status")
        assert status.has_class("error") and "nope" in str(status.content) and not Path("nope_spec.toml").exists()
        await pilot.press("ctrl+u", *"prices", "enter")
        await settle(pilot)
        assert written.read_text() == expected and drafted_on == [False]  # drafted in a worker thread
        spec_line = screen.query_one("#spec-path")
        assert spec_line.value == "prices_spec.toml" and spec_line.has_focus
        assert str(status.content).startswith("Wrote prices_spec.toml") and not status.has_class("error")
        await pilot.press("enter")  # train what was drafted
        await settle(pilot)
        assert not isinstance(app.screen, TrainScreen)
        with Store.open(app.db_path) as store:
            job = store.row("SELECT * FROM jobs ORDER BY id DESC LIMIT 1")
            assert (job["id"], job["title"]) == (jobs_before + 1, "train prices_spec.toml")
            cancel_job(store, job["id"])
        written.write_text("# edited by hand\n")
        await pilot.press("t", "tab", *"prices", "enter")  # drafting again never overwrites
        await settle(pilot)
        status = app.screen.query_one("#draft-status")
        assert status.has_class("error") and "prices_spec.toml: already exists, not overwritten" in str(status.content)
        assert written.read_text() == "# edited by hand\n"
    await wait_for_db(f"SELECT 1 FROM jobs WHERE id = ? AND state NOT IN {ACTIVE}", (job["id"],))
