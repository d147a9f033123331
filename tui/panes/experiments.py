"""The Experiments pane: experiments, then their runs best first by the primary metric.

The run filter takes the syntax of `pitboard runs list --filter` (core.experiments.run_filter) and
is applied by `core.experiments.runs.list_runs` itself; a filter it rejects is shown in the pane, with
the caret under the fault, and the table keeps its last good rows. Its line opens on `f` only
(like a table's `/` filter it is out of the Tab order), `enter` applies it, `escape` clears it,
and the note above the runs says the filter in force. `enter` opens a run, `space` marks runs
for `c` compare (the note says so once two are marked), `r` registers the highlighted run as the next
version of a model (named in a modal, like `pitboard model register RUN --name NAME`), and `t`
starts training a spec file as a job, so the app never waits on a search; its modal can also
draft the spec from a dataset first, like `pitboard spec init`.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from core.cli._output import format_value
from core.experiments.specs import LOWER_IS_BETTER
from core.store.database import Store
from core.store.errors import PitboardError
from tui.keys import bind
from tui.panes.base import EmptyState, PaletteAction, Pane
from tui.widgets.table import EditLine, FilterTable

RUN_COLUMNS = ("", "run", "score", "cv mean ± std", "estimator", "status")
MARK = "●"


def sorted_by_primary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first: highest primary value, lowest for losses; runs without one last."""
    def key(run: dict[str, Any]) -> tuple[bool, float, int]:
        value = run["primary_value"]
        if value is None:
            return (True, 0.0, run["id"])
        return (False, value if run["primary_metric"] in LOWER_IS_BETTER else -value, run["id"])

    return sorted(runs, key=key)


def run_cells(run: dict[str, Any], marked: bool) -> tuple[Text | str, ...]:
    """One row of the runs table; the status is a word, red only when the run failed."""
    metric = run["primary_metric"]
    mean = run["metrics"].get(f"cv_{metric}_mean")
    std = run["metrics"].get(f"cv_{metric}_std")
    spread = f"{mean:.4f} ± {std:.4f}" if mean is not None and std is not None else ""
    # The score comes right after the id so it stays on screen at 80 columns; the metric's
    # name is in the caption above the table ("best first by roc_auc").
    score = format_value(run["primary_value"]) if run["primary_value"] is not None else ""
    status = Text(run["status"], style="bold red" if run["status"] == "FAILED" else "")
    return (MARK if marked else "", str(run["id"]), score, spread, run["estimator"], status)


class ExperimentsPane(Pane):
    pane_id = "experiments"
    title = "Experiments"
    key = "2"
    empty_text = "No experiments to show here yet.\n\nTrain from a spec with:\n$ pitboard train SPEC.toml"

    # Short descriptions: with the table's and the app's keys they share 80 columns of footer,
    # where `c` has no room; the note above the runs names it once two runs are marked.
    BINDINGS = [
        bind("exp_mark", "mark", "Mark"),
        bind("exp_compare", "compare", "Compare marked", show=False),
        bind("exp_train", "train", "Train"),
        bind("exp_filter", "focus_filter", "Run filter"),
        bind("exp_register", "register", "Register"),
    ]
    EMPTY_ACTIONS = frozenset({"train"})

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.experiment = ""
        self.marked: set[int] = set()
        self.run_filter = ""

    def compose(self) -> ComposeResult:
        yield EmptyState(Text(self.empty_text), id="experiments-empty")
        with Horizontal(id="experiments-main"):
            yield FilterTable(id="experiments-table")
            with Vertical(id="runs-side"):
                yield EditLine(placeholder="filter runs, e.g. metrics.roc_auc > 0.7 and params.model__C = '1.0'",
                               id="run-filter", select_on_focus=False)
                yield Static("", id="runs-note")
                yield FilterTable(id="runs")

    # -- loading ---------------------------------------------------------------------

    def reload(self) -> None:
        self.load_experiments()

    @work(thread=True, exclusive=True, group="experiments", exit_on_error=False)
    def load_experiments(self) -> None:
        from core.experiments.runs import experiments

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            found = experiments(store)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_experiments, found)

    def _show_experiments(self, found: list[dict[str, Any]]) -> None:
        self.show_empty(not found)
        table = self.query_one("#experiments-table", FilterTable)
        table.set_rows(
            ("experiment", "runs", "failed"),
            ((row["name"], (row["name"], Text(str(row["runs"]), justify="right"), Text(str(row["failed"] or 0), justify="right")))
             for row in found),
        )
        self.load_runs(table.selected_key, self.run_filter)
        if found and self.focus_is_free():
            table.table.focus()

    @on(FilterTable.Highlighted, "#experiments-table")
    def _experiment_highlighted(self, event: FilterTable.Highlighted) -> None:
        event.stop()
        self.load_runs(event.key, self.run_filter)

    @work(thread=True, exclusive=True, group="experiments-runs", exit_on_error=False)
    def load_runs(self, experiment: str | None, run_filter: str) -> None:
        from core.experiments.runs import list_runs

        if experiment is None:
            return
        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                runs = sorted_by_primary(list_runs(store, experiment=experiment, filter=run_filter or None))
            except PitboardError as error:
                self.app.call_from_thread(self._show_filter_error, str(error))
                return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_runs, experiment, runs)

    def _show_runs(self, experiment: str, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.experiment = experiment
        self._show_note()
        self._show_run_rows()

    def _show_note(self) -> None:
        """The runs' caption: how many, best first by what, the filter in force, the marks."""
        runs = self.runs
        note = f"{self.experiment}: {len(runs)} run{'s' if len(runs) != 1 else ''}"
        if runs:
            note += f", best first by {runs[0]['primary_metric']}"
        if self.run_filter:
            note += f" · filter: {self.run_filter}"
        if len(self.marked) >= 2:
            note += f" · {len(self.marked)} marked, c compares them"
        self.query_one("#runs-note", Static).update(Text(note))
        self.query_one("#runs-note").remove_class("error")

    def _show_run_rows(self) -> None:
        self.query_one("#runs", FilterTable).set_rows(
            RUN_COLUMNS, ((str(run["id"]), run_cells(run, run["id"] in self.marked)) for run in self.runs)
        )

    def _show_filter_error(self, message: str) -> None:
        note = self.query_one("#runs-note", Static)
        note.update(Text(message))
        note.add_class("error")

    # -- actions ---------------------------------------------------------------------

    @on(EditLine.Submitted, "#run-filter")
    def _filter_submitted(self, event: EditLine.Submitted) -> None:
        event.stop()
        self.run_filter = event.value.strip()
        self.load_runs(self.query_one("#experiments-table", FilterTable).selected_key, self.run_filter)
        self.query_one("#runs", FilterTable).table.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#run-filter", EditLine).open()

    @on(FilterTable.Selected, "#experiments-table")
    def _experiment_selected(self, event: FilterTable.Selected) -> None:
        """`enter` on an experiment goes to its runs."""
        event.stop()
        self.query_one("#runs", FilterTable).table.focus()

    @on(FilterTable.Selected, "#runs")
    def _run_selected(self, event: FilterTable.Selected) -> None:
        event.stop()
        self.open_run(int(event.key))

    def open_run(self, run_id: int) -> None:
        from tui.screens.run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(run_id))

    def action_mark(self) -> None:
        key = self.query_one("#runs", FilterTable).selected_key
        if key is None:
            return
        run_id = int(key)
        self.marked.symmetric_difference_update({run_id})
        self._show_run_rows()
        if not self.query_one("#runs-note").has_class("error"):  # a rejected filter's message stays until fixed
            self._show_note()

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        if len(self.marked) < 2:
            self.notify("Mark at least two runs with space to compare them.", severity="warning")
            return
        self.app.push_screen(CompareScreen(sorted(self.marked)))

    def action_train(self) -> None:
        from tui.screens.train import TrainScreen

        self.app.push_screen(TrainScreen(), lambda path: path is not None and self.start_training(path))

    @work(thread=True, exclusive=True, group="experiments-train", exit_on_error=False)
    def start_training(self, path: str) -> None:
        from core.experiments.specs import load_spec
        from core.jobs.runner import start_job

        try:
            spec = load_spec(path)  # checked here, so a bad spec fails now and not in the worker
        except PitboardError as error:
            self.app.call_from_thread(self.notify, str(error), severity="error")
            return
        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            job_id = start_job(store, "train", {"spec_text": spec.text, "spec_source": spec.source, "cluster": None},
                               title=f"train {spec.source}")
        self.app.call_from_thread(self.notify, f"Started job {job_id}: train {spec.source}. Follow it in the Jobs pane (5).")

    def _highlighted_run(self) -> dict[str, Any] | None:
        key = self.query_one("#runs", FilterTable).selected_key
        return next((run for run in self.runs if str(run["id"]) == key), None)

    def action_register(self) -> None:
        from tui.widgets.modals import PromptScreen

        run = self._highlighted_run()
        if run is None:
            self.notify("No run selected: open an experiment's runs first.", severity="warning")
            return
        if run["status"] != "FINISHED":
            self.notify(f"Run {run['id']} is {run['status']}: only FINISHED runs can be registered.", severity="warning")
            return
        run_id = run["id"]
        self.app.push_screen(
            PromptScreen(f"Register run {run_id} as a model version", run["experiment"], placeholder="model name",
                         input_id="model-name",
                         hint=f"Run {run_id} becomes the next version of the model named here (a new model if none"
                              " has that name). enter registers, escape cancels."),
            lambda name: name is not None and self.run_register(run_id, name),
        )

    @work(thread=True, exclusive=True, group="experiments-register", exit_on_error=False)
    def run_register(self, run_id: int, name: str) -> None:
        from core.monitoring.references import register

        self.run_engine_action(
            lambda store: f"registered run {run_id} as {register(store, run_id, name).ref}; see the Registry pane (3)",
            reload=False)

    def palette_actions(self) -> list[PaletteAction]:
        actions = [PaletteAction("Train a spec file as a job", "key t", self.action_train)]
        run = self._highlighted_run()
        if run is not None:
            actions.append(PaletteAction(f"Register run {run['id']} as a model version", "model register (key r)",
                                         self.action_register))
        if len(self.marked) >= 2:
            actions.append(PaletteAction(f"Compare {len(self.marked)} marked runs", "runs compare (key c)", self.action_compare))
        return actions
