"""The Data pane: datasets and their versions, and for the selected version its schema
with roles and profiles, a histogram of the selected column, a paged preview of the rows,
and validation results against a chosen version.

Everything is read in thread workers from stored summaries: the profile holds the
histogram, and the preview reads one page by rowid (`datasets.read_page`), so a version
with a million rows shows as fast as one with a hundred. A column with nothing to draw
(an id column, a column with no values) says why instead of showing an empty plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from core.cli._output import format_value
from core.store.clock import iso
from core.store.database import Store
from core.store.errors import PitboardError
from tui.keys import bind
from tui.panes.base import TAB_BINDINGS, EmptyState, PaletteAction, Pane
from tui.widgets.modals import ChooseScreen
from tui.widgets.table import FilterTable, plain

PAGE_ROWS = 100
SCHEMA_COLUMNS = ("column", "role", "dtype", "missing", "unique", "mean", "min", "p50", "max", "top values")
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


@dataclass(frozen=True)
class Detail:
    """What the pane shows for one version, read in one worker."""

    version: Any  # core.data.datasets.DatasetVersion
    columns: list[dict[str, Any]]
    names: list[str]
    rows: list[tuple[Any, ...]]
    offset: int
    report: Any | None  # core.data.validation.ValidationReport


class DataPane(Pane):
    pane_id = "data"
    title = "Data"
    key = "1"
    TABS = "data-tabs"
    empty_text = (
        "No datasets in this database yet.\n\n"
        "Import a CSV or Parquet file with:\n"
        "$ pitboard data add NAME PATH --target COLUMN"
    )

    BINDINGS = [
        *TAB_BINDINGS,
        bind("data_schema", "show_tab('schema')", "Schema", show=False),
        bind("data_histogram", "show_tab('histogram')", "Histogram", show=False),
        bind("data_rows", "show_tab('rows')", "Rows", show=False),
        bind("data_checks", "show_tab('checks')", "Checks", show=False),
        bind("data_validate", "validate", "Validate"),
        bind("data_next_page", "page(1)", "Next page"),
        bind("data_prev_page", "page(-1)", "Prev page"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.detail: Detail | None = None
        self.versions: list[Any] = []
        self.checks: list[Any] = []  # the shown report's checks, in the table's order (its keys index them)

    def compose(self) -> ComposeResult:
        yield EmptyState(Text(self.empty_text), id="data-empty")
        with Horizontal(id="data-main"):
            yield FilterTable(id="versions")
            with Vertical(id="data-detail"):
                yield Static("", id="version-summary")
                with TabbedContent(id="data-tabs"):
                    with TabPane("Schema", id="schema"):
                        yield FilterTable(id="schema-table")
                    with TabPane("Histogram", id="histogram"):
                        yield Static("Select a column in Schema.", id="histogram-note")
                    with TabPane("Rows", id="rows"):
                        yield Static("", id="page-note")
                        yield FilterTable(id="rows-table")
                    with TabPane("Checks", id="checks"):
                        yield Static("", id="checks-note")
                        yield FilterTable(id="checks-table")
                        yield Static("", id="check-detail")

    # -- loading ---------------------------------------------------------------------

    def reload(self) -> None:
        self.load_versions()

    @work(thread=True, exclusive=True, group="data-versions", exit_on_error=False)
    def load_versions(self) -> None:
        from core.data import datasets

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            versions = [dv for entry in datasets.list_datasets(store) for dv in datasets.list_versions(store, entry["name"])]
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_versions, versions)

    def _show_versions(self, versions: list[Any]) -> None:
        self.versions = versions
        self.show_empty(not versions)
        table = self.query_one("#versions", FilterTable)
        table.set_rows(
            ("version", "rows", "cols"),
            ((str(dv.id), (dv.ref, Text(f"{dv.n_rows:,}", justify="right"), Text(str(dv.n_columns), justify="right")))
             for dv in versions),
            drop=("cols",),  # the version line above the detail says it too
        )
        if versions and self.focus_is_free():
            table.table.focus()

    @on(FilterTable.Highlighted, "#versions")
    def _version_highlighted(self, event: FilterTable.Highlighted) -> None:
        event.stop()
        self._load_selected()

    def _load_selected(self) -> None:
        key = self.query_one("#versions", FilterTable).selected_key
        if key is not None and (self.detail is None or str(self.detail.version.id) != key):
            self.load_detail(int(key), 0)

    @work(thread=True, exclusive=True, group="data-detail", exit_on_error=False)
    def load_detail(self, version_id: int, offset: int) -> None:
        import tui.widgets.histogram  # noqa: F401  (plotext loads here, off the UI thread)
        from core.data import datasets

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            dv = datasets.version_by_id(store, version_id)
            names, rows = datasets.read_page(store, dv, offset, PAGE_ROWS)
            detail = Detail(dv, datasets.columns(store, dv), names, rows, offset, _latest_report(store, dv))
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_detail, detail)

    # -- showing ---------------------------------------------------------------------

    def _show_detail(self, detail: Detail) -> None:
        same_version = self.detail is not None and self.detail.version.id == detail.version.id
        self.detail = detail
        dv = detail.version
        roles = f"target {dv.target}" if dv.target else "no target"
        self.query_one("#version-summary", Static).update(
            plain(f"{dv.ref}  {dv.n_rows:,} rows × {dv.n_columns} columns  {roles}  added {iso(dv.created_at)}")
        )
        self._show_page(detail)
        if not same_version:
            self.query_one("#schema-table", FilterTable).set_rows(SCHEMA_COLUMNS, _schema_rows(detail.columns))
            self._show_report(detail.report)
            self._show_histogram()

    def _show_page(self, detail: Detail) -> None:
        first = detail.offset + 1
        last = detail.offset + len(detail.rows)
        self.query_one("#page-note", Static).update(
            f"rows {first:,}–{last:,} of {detail.version.n_rows:,} · n next page · p previous page"
            if detail.rows else f"no rows at {first:,} (the version has {detail.version.n_rows:,})"
        )
        self.query_one("#rows-table", FilterTable).set_rows(
            ["row", *detail.names],
            ((str(first + i), (str(first + i), *map(_cell, row))) for i, row in enumerate(detail.rows)),
        )

    def _show_report(self, report: Any | None) -> None:
        note = self.query_one("#checks-note", Static)
        table = self.query_one("#checks-table", FilterTable)
        self.checks = sorted(report.checks, key=_check_order) if report is not None else []
        if report is None:
            note.update("Not validated yet: press v to validate against a version.")
            table.set_rows((), ())
            return
        verdict = "OK" if report.ok else "FAILED"
        note.update(Text.assemble(
            (verdict, "bold green" if report.ok else "bold red"),
            f" against {report.against or 'no reference'} at {iso(report.created_at)}: {len(report.checks)} checks,"
            f" {len(report.errors)} errors, {len(report.warnings)} warnings failed",
        ))
        table.set_rows(
            ("result", "severity", "check", "column", "value", "threshold", "message"),
            ((str(i), _check_cells(check)) for i, check in enumerate(self.checks)),
            drop=("threshold", "value"), fit="message",  # a check's message says its value and threshold
        )

    @on(FilterTable.Highlighted, "#checks-table")
    def _check_highlighted(self, event: FilterTable.Highlighted) -> None:
        """The highlighted check whole, under the table: a narrow table cuts its message."""
        event.stop()
        check = self.checks[int(event.key)] if event.key is not None else None
        detail = self.query_one("#check-detail", Static)
        detail.display = check is not None
        if check is not None:
            detail.update(Text.assemble(
                (check.name, "bold"), f" · {check.column or 'every column'} · value {format_value(check.value)}"
                f" · threshold {format_value(check.threshold)}\n", check.message))

    @on(FilterTable.Highlighted, "#schema-table")
    def _column_highlighted(self, event: FilterTable.Highlighted) -> None:
        event.stop()
        self._show_histogram()

    def _show_histogram(self) -> None:
        if self.detail is None:
            return
        from tui.widgets.histogram import Histogram, histogram_note

        key = self.query_one("#schema-table", FilterTable).selected_key
        column = next((c for c in self.detail.columns if c["name"] == key), None)
        if column is None:
            return
        pane = self.query_one("#histogram", TabPane)
        note = self.query_one("#histogram-note", Static)
        plots = pane.query(Histogram)
        why_not = histogram_note(column["name"], column["role"], column["profile"])
        note.display = why_not is not None
        if why_not is not None:
            note.update(plain(why_not))
            plots.set(display=False)
            return
        if not plots:
            pane.mount(Histogram(id="histogram-plot"))
            self.call_after_refresh(self._show_histogram)
            return
        plots.set(display=True)
        plots.first().show(column["name"], column["profile"])

    # -- actions ---------------------------------------------------------------------

    def action_page(self, step: int) -> None:
        if self.detail is None:
            return
        offset = self.detail.offset + step * PAGE_ROWS
        last_page = max(0, (self.detail.version.n_rows - 1) // PAGE_ROWS * PAGE_ROWS)
        offset = min(max(0, offset), last_page)
        self.query_one("#data-tabs", TabbedContent).active = "rows"
        if offset != self.detail.offset:
            self.load_detail(self.detail.version.id, offset)

    def action_validate(self) -> None:
        if self.detail is None:
            self.notify("No dataset version selected.", severity="warning")
            return
        current = self.detail.version
        choices = [(str(dv.id), f"{dv.ref}  ({dv.n_rows:,} rows)") for dv in self.versions]
        self.app.push_screen(
            ChooseScreen(f"Validate {current.ref} against which version?", choices),
            lambda chosen: chosen is not None and self.run_validation(current.id, int(chosen)),
        )

    @work(thread=True, exclusive=True, group="data-validate", exit_on_error=False)
    def run_validation(self, version_id: int, against_id: int) -> None:
        from core.data import datasets
        from core.data.validation import validate

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            current = datasets.version_by_id(store, version_id)
            against = datasets.version_by_id(store, against_id)
            try:
                report = validate(store, current, against)
            except PitboardError as error:
                self.app.call_from_thread(self.notify, str(error), severity="error")
                return
        self.app.call_from_thread(self._validated, version_id, report)

    def _validated(self, version_id: int, report: Any) -> None:
        if self.detail is not None and self.detail.version.id == version_id:
            self._show_report(report)
            self.action_show_tab("checks")

    def palette_actions(self) -> list[PaletteAction]:
        if self.detail is None:
            return []
        ref = self.detail.version.ref
        return [
            PaletteAction(f"Validate {ref} against a version", "data validate (key v)", self.action_validate),
            PaletteAction(f"Preview rows of {ref}", "key r", lambda: self.action_show_tab("rows")),
        ]


def _latest_report(store: Store, dv: Any) -> Any | None:
    from core.data.validation import latest_report

    return latest_report(store, dv)


def _schema_rows(columns: list[dict[str, Any]]) -> list[tuple[str, tuple[Text | str, ...]]]:
    rows = []
    for column in columns:
        profile = column["profile"]
        top = ", ".join(f"{value}:{count:,}" for value, count in (profile.get("top") or [])[:3])
        cells = (
            column["name"], column["role"], column["dtype"],
            Text(f"{profile.get('missing_rate', 0) * 100:.1f}%", justify="right"), Text(f"{profile.get('unique', 0):,}", justify="right"),
            *(_cell(profile.get(key)) for key in ("mean", "min", "p50", "max")), top,
        )
        rows.append((column["name"], cells))
    return rows


def _cell(value: Any) -> Text | str:
    """A stored value for the preview: numbers right-aligned, missing values marked."""
    if value is None:
        return Text("NA", style="dim")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Text(format_value(value), justify="right")
    return str(value)


def _check_order(check: Any) -> tuple[bool, int]:
    """Failed checks first, errors before warnings before info."""
    from core.data.validation import SEVERITIES

    return (check.passed, SEVERITIES.index(check.severity))


def _check_cells(check: Any) -> tuple[Text | str, ...]:
    """The verdict as a word (pass/FAIL) and the severity coloured only where a check failed."""
    style = "dim" if check.passed else SEVERITY_STYLE.get(check.severity, "")
    result = Text("pass", style="green") if check.passed else Text("FAIL", style="bold red")
    return (
        result, Text(check.severity, style=style), check.name, check.column or "",
        format_value(check.value), format_value(check.threshold), check.message,
    )
