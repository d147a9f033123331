"""One run opened: params, metrics with their CV spread, a ROC curve (classifiers) or the
residuals on the holdout (regressors), permutation importance as bars, and where the run
came from (data version, commit, environment).

Everything is read in a thread worker. The residuals need the model and the exact holdout
rows (`core.experiments.training.holdout`), so scikit-learn and pandas load there, never on the UI
thread; plotext loads there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static

from core.cli._output import format_value
from core.store.database import Store
from tui.errors import ReportsWorkerErrors
from tui.widgets.footer import KeysFooter
from tui.widgets.table import plain

MAX_IMPORTANCE_BARS = 12
RESIDUAL_BINS = 15


@dataclass
class RunDetail:
    """What the screen shows of one run."""

    run: Any
    dataset: str
    roc: dict[str, list[float]] | None = None
    residuals: list[float] = field(default_factory=list)


def read_detail(store: Store, run_id: int) -> RunDetail:
    """The run and its data version; its ROC curve, or its holdout residuals for a regressor."""
    from core.data import datasets
    from core.experiments.runs import get_run, run_curves

    run = get_run(store, run_id)
    detail = RunDetail(run, datasets.version_by_id(store, run.dataset_version_id).ref)
    if run.task == "classification":
        detail.roc = run_curves(store, run_id).get("roc")
    elif run.model_sha256 is not None:
        detail.residuals = holdout_residuals(store, run)
    return detail


def holdout_residuals(store: Store, run: Any) -> list[float]:
    """Actual minus predicted on the run's own holdout rows."""
    from core.experiments.modelio import load_model
    from core.experiments.training import holdout
    from core.store.artifacts import get_blob

    X, y = holdout(store, run)
    predicted = load_model(get_blob(store, run.model_sha256)).predict(X)
    return [float(v) for v in (y.to_numpy() - predicted)]


def metrics_table(run: Any) -> Table:
    """Holdout metrics, each with the mean ± std of its cross-validation folds."""
    table = Table(title="metrics (holdout, and cross-validation mean ± std)", title_justify="left")
    table.add_column("metric")
    table.add_column("holdout", justify="right")
    table.add_column("cv mean ± std", justify="right")
    names = [key for key in run.metrics if not key.startswith("cv_")]
    for name in names:
        mean, std = run.metrics.get(f"cv_{name}_mean"), run.metrics.get(f"cv_{name}_std")
        spread = f"{mean:.4f} ± {std:.4f}" if mean is not None and std is not None else ""
        label = Text(name, style="bold") if name == run.primary_metric else plain(name)
        table.add_row(label, plain(format_value(run.metrics[name])), plain(spread))
    return table


def params_table(run: Any) -> Table:
    table = Table(title="params", title_justify="left")
    table.add_column("param")
    table.add_column("value")
    for key, value in run.params.items():
        table.add_row(plain(key), plain(value))
    return table


def provenance_text(detail: RunDetail) -> Text:
    """Data version, commit and environment: what it takes to rebuild this run."""
    from core.store.clock import iso

    run = detail.run
    if run.git_commit:
        commit = f"{run.git_commit[:12]}{' (dirty)' if run.git_dirty else ''}"
    else:
        commit = "none (not trained in a git checkout)"
    packages = run.env.get("packages", {})
    env = f"python {run.env.get('python', '?')} · " + " · ".join(f"{name} {version}" for name, version in packages.items())
    lines = [
        f"data     {detail.dataset} (holdout {run.holdout_size:,} rows, seed {run.seed})",
        f"commit   {commit}",
        f"env      {env}",
        f"started  {iso(run.started_at)} · {run.duration:.1f} s · search {run.search_id}, candidate {run.candidate}",
    ]
    if run.error:
        lines.append(f"error    {run.error}")
    return Text("\n".join(lines))


def summary_view(detail: RunDetail) -> Group:
    return Group(provenance_text(detail), metrics_table(detail.run))


class RunDetailScreen(ReportsWorkerErrors, Screen[None]):
    """A run, opened from the Experiments pane; `escape` goes back."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.detail: RunDetail | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"Run {self.run_id}", id="run-title", classes="screen-title")
        with VerticalScroll(id="run-body"):
            yield Static("loading…", id="run-summary")
            yield Horizontal(id="run-plots")
            yield Static("", id="run-params")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        import tui.widgets.run_plots  # noqa: F401  (plotext loads here, off the UI thread)

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            detail = read_detail(store, self.run_id)
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: RunDetail) -> None:
        from tui.widgets.importance import ImportanceBars
        from tui.widgets.run_plots import ResidualPlot, RocPlot

        self.detail = detail
        run = detail.run
        primary = format_value(run.primary_value) if run.primary_value is not None else "—"
        self.query_one("#run-title", Label).update(
            f"Run {run.id} · {run.experiment} · {run.estimator} · {run.status} · {run.primary_metric} {primary}"
        )
        self.query_one("#run-summary", Static).update(summary_view(detail))
        self.query_one("#run-params", Static).update(params_table(run))
        plots = self.query_one("#run-plots", Horizontal)
        if detail.roc is not None:
            plots.mount(RocPlot(detail.roc["x"], detail.roc["y"], run.metrics.get("roc_auc")))
        elif detail.residuals:
            plots.mount(ResidualPlot(detail.residuals, RESIDUAL_BINS))
        if run.feature_importance:
            plots.mount(ImportanceBars(run.feature_importance[:MAX_IMPORTANCE_BARS], run.primary_metric))
