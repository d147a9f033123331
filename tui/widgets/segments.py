"""The Monitor pane's Segments tab: which slice of the traffic moved, ranked.

The pane hands it the model it shows; it reads `core.monitoring.status.segment_report`
for that model's newest window with segments in a thread worker, and redraws only when
the report changed, like the rest of the pane. Without `[monitoring] segments` it says how
to turn them on rather than showing an empty table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from core.store.database import Store
from core.store.errors import PitboardError
from tui.errors import ReportsWorkerErrors
from tui.widgets.table import FilterTable

COLUMNS = ("segment", "rows", "moved", "verdict", "flagged", "column", "metric")
DROP = ("metric", "column")  # dropped first on narrow screens; the segment name says its column


class SegmentsView(ReportsWorkerErrors, Vertical):
    """A one-line summary and the ranked segments of one window."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="segments-line")
        yield FilterTable(id="segments-table")

    def load(self, db_path: Path, clock: Any, model: str) -> None:
        """Read the model's segments off the UI thread and show them."""
        self._read(db_path, clock, model)

    @work(thread=True, exclusive=True, group="monitor-segments", exit_on_error=False)
    def _read(self, db_path: Path, clock: Any, model: str) -> None:
        from core.monitoring.status import segment_report

        with Store.open(db_path, clock=clock) as store:
            try:
                found: Any = segment_report(store, model)
            except PitboardError as error:
                found = str(error)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, found)

    def _show(self, found: dict[str, Any] | str) -> None:
        if found == self._shown:
            return
        self._shown = found
        line = self.query_one("#segments-line", Static)
        table = self.query_one("#segments-table", FilterTable)
        if isinstance(found, str):
            line.update(Text(found))
            table.set_rows(COLUMNS, [], drop=DROP)
            return
        flagged = sum(1 for r in found["segments"] if r["flagged"])
        line.update(Text.assemble(
            (f"window {found['window']}", "bold"),
            f" · {found['rows']:,} rows · {flagged} of {len(found['segments'])} segments drifted"
            f" (false discovery rate {found['fdr']:g}; under {found['min_rows']} rows not judged)"))
        table.set_rows(COLUMNS, ((f"{r['column']}={r['segment']}", _cells(r)) for r in found["segments"]), drop=DROP,
                       fit="flagged")


def _cells(row: dict[str, Any]) -> tuple[str | Text, ...]:
    from core.cli.monitor import segment_row

    shown = segment_row(row)
    verdict = Text(shown["verdict"], style="bold red" if shown["verdict"] == "DRIFT" else "")
    name = row["segment"] if row["column"] in row["segment"] else f"{row['column']}={row['segment']}"
    return (name, f"{row['rows']:,}", shown["moved"], verdict, shown["flagged"], row["column"], shown["metric"])
