"""Marked runs side by side: the params that differ, every metric with its delta against
the first run, and bars of each metric so the best stands out without reading numbers.

Runs of one configuration trained twice (another seed, newer data) differ in no param:
the screen then says so in words instead of drawing an empty table, and the metrics
follow as always. Every cell is a Text, so no param or metric name is read as markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static

from core.cli._output import format_value
from core.store.database import Store
from tui.errors import ReportsWorkerErrors
from tui.widgets.footer import KeysFooter
from tui.widgets.table import plain

BAR_WIDTH = 20


def metric_bar(value: float | None, low: float, high: float, width: int = BAR_WIDTH) -> str:
    """A bar scaled between the smallest and largest value of one metric across the runs."""
    if value is None:
        return ""
    share = 1.0 if high == low else (value - low) / (high - low)
    filled = max(1, round(share * width))
    return "█" * filled + "·" * (width - filled)


def delta_text(delta: float | None, lower_is_better: bool) -> Text:
    """`+0.0123 better` / `-0.0100 worse`: the direction as a word, not colour alone."""
    if delta is None or delta == 0:
        return Text("")
    better = (delta < 0) if lower_is_better else (delta > 0)
    return Text(f"{delta:+.4f} {'better' if better else 'worse'}", style="green" if better else "red")


def params_view(found: dict[str, Any]) -> Table | Text:
    """The params that differ (or every param, after `a`), or words saying there are none."""
    if not found["params"]:
        count = found["hidden_identical_params"]
        return Text(f"identical params: the runs share all {count} of them (a shows them)", style="bold")
    heads = [f"run {run['id']} {run['estimator']}" for run in found["runs"]]
    differing = sum(row["differs"] for row in found["params"])
    title = ("params that differ" if differing == len(found["params"]) else
             "params, those that differ first" if differing else "params (all identical)")
    params = Table(title=title, title_justify="left", expand=False)
    params.add_column("param")
    for head in heads:
        params.add_column(plain(head))
    for row in found["params"]:
        params.add_row(plain(row["key"]), *(plain(format_value(v)) if v is not None else "—" for v in row["values"]))
    return params


def comparison_view(found: dict[str, Any]) -> Group:
    """The rich renderables of a `core.experiments.runs.compare_runs` result."""
    params = params_view(found)
    hidden = Text(f"{found['hidden_identical_params']} identical params hidden (a shows all)", style="dim")
    metrics = Table(title=f"metrics (deltas against run {found['runs'][0]['id']})", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("run")
    metrics.add_column("value", justify="right")
    metrics.add_column("delta")
    metrics.add_column("")
    for row in found["metrics"]:
        present = [v for v in row["values"] if v is not None]
        low, high = (min(present), max(present)) if present else (0.0, 0.0)
        for index, (run, value, delta) in enumerate(zip(found["runs"], row["values"], row["deltas"])):
            metrics.add_row(
                plain(row["key"] if index == 0 else ""), plain(run["id"]), plain(format_value(value) if value is not None else "—"),
                delta_text(delta, row["lower_is_better"]), plain(metric_bar(value, low, high)),
                end_section=index == len(found["runs"]) - 1,
            )
    return Group(params, hidden, metrics) if found["params"] else Group(params, metrics)


class CompareScreen(ReportsWorkerErrors, Screen[None]):
    """Compare runs; `a` toggles identical params, `escape` goes back."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("a", "toggle_all", "All params"),
    ]

    def __init__(self, run_ids: list[int]) -> None:
        super().__init__()
        self.run_ids = run_ids
        self.all_params = False
        self.comparison: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"Compare runs {', '.join(map(str, self.run_ids))}", classes="screen-title")
        with VerticalScroll(id="compare-body"):
            yield Static("loading…", id="compare-view")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    def action_toggle_all(self) -> None:
        self.all_params = not self.all_params
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        from core.experiments.runs import compare_runs

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            found = compare_runs(store, self.run_ids, all_params=self.all_params)
        self.app.call_from_thread(self._show, found)

    def _show(self, found: dict[str, Any]) -> None:
        self.comparison = found
        self.query_one("#compare-view", Static).update(comparison_view(found))
