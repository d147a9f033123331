"""The Jobs pane: running and finished jobs with progress, state, duration, and the log
tail of the selected job; `x` cancels.

Jobs run in detached workers that write their progress to the database (core.jobs.runner), so
the pane is only a reader: about once a second, while it is shown, a thread worker reads
the jobs (which also reports dead workers as failed) and the selected job's log tail. The
table and the log are redrawn only when what they show changed, so an idle pane sends
nothing over a slow link. Jobs started before the app opened are simply rows already there.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from core.store.database import Store
from core.store.errors import PitboardError
from tui.keys import bind
from tui.panes.base import EmptyState, PaletteAction, Pane
from tui.widgets.modals import ConfirmScreen
from tui.widgets.table import FilterTable

REFRESH_SECONDS = 1.0
BAR_WIDTH = 12
JOB_COLUMNS = ("job", "state", "progress", "duration", "title", "message")
STATE_STYLE = {"running": "bold yellow", "queued": "yellow", "finished": "green", "failed": "bold red", "cancelled": "magenta"}


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """`██████······  50%`: a bar and the number, readable without colour."""
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    return "█" * filled + "·" * (width - filled) + f" {fraction:4.0%}"


def duration_text(seconds: float | None) -> str:
    """`42s`, `3m04s`, `2h05m`; empty while a job has not started."""
    if seconds is None:
        return ""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def job_duration(job: dict[str, Any], now: float) -> float | None:
    """Finished jobs: their recorded duration; running ones: time since they started."""
    if job["duration"] is not None:
        return job["duration"]
    return None if job["started_at"] is None else max(0.0, now - job["started_at"])


def job_cells(job: dict[str, Any], now: float) -> tuple[Text | str, ...]:
    state = job["state"] + (" (cancel asked)" if job["cancel_requested"] and job["state"] in ("queued", "running") else "")
    return (
        Text(str(job["id"]), justify="right"), Text(state, style=STATE_STYLE.get(job["state"], "")),
        progress_bar(job["progress"]), Text(duration_text(job_duration(job, now)), justify="right"),
        job["title"], job["error"] or job["message"],
    )


class JobsPane(Pane):
    pane_id = "jobs"
    title = "Jobs"
    key = "5"
    empty_text = "No jobs to show here yet.\n\nStart one with:\n$ pitboard train SPEC.toml --detach"
    # Its rows change while it is hidden and its first visit opens on the newest job, which a
    # cursor placed by an earlier read would not; and its read is cheap (a first visit ~40 ms).
    PREFETCH = False

    BINDINGS = [bind("jobs_cancel", "cancel", "Cancel job")]

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[dict[str, Any]] = []
        self._shown_rows: list[tuple[str, tuple[Any, ...]]] | None = None
        self._shown_log: tuple[int, str] | None = None

    def compose(self) -> ComposeResult:
        yield EmptyState(Text(self.empty_text), id="jobs-empty")
        with Vertical(id="jobs-main"):
            yield FilterTable(id="jobs-table")
            yield Static("", id="job-summary")
            with VerticalScroll(id="job-log-scroll"):
                yield Static("", id="job-log")

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self._tick)

    def _tick(self) -> None:
        if self.app.current_pane is self and self.app.screen is self.screen:
            self.reload()

    def reload(self) -> None:
        self.load_jobs(self.query_one("#jobs-table", FilterTable).selected_key)

    @work(thread=True, exclusive=True, group="jobs", exit_on_error=False)
    def load_jobs(self, selected: str | None) -> None:
        from core.jobs.runner import get_job, list_jobs

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            jobs = list_jobs(store)
            ids = [str(job["id"]) for job in jobs]
            chosen = selected if selected in ids else (ids[0] if ids else None)
            detail = get_job(store, int(chosen)) if chosen is not None else None
            now = store.clock()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, jobs, detail, now)

    def _show(self, jobs: list[dict[str, Any]], detail: dict[str, Any] | None, now: float) -> None:
        self.jobs = jobs
        self.show_empty(not jobs)
        rows = [(str(job["id"]), job_cells(job, now)) for job in jobs]
        table = self.query_one("#jobs-table", FilterTable)
        if rows != self._shown_rows:
            self._shown_rows = rows
            table.set_rows(JOB_COLUMNS, rows, fit="message")
            if jobs and self.focus_is_free():
                table.table.focus()
        if detail is not None and str(detail["id"]) == table.selected_key:
            self._show_detail(detail)

    def _show_detail(self, job: dict[str, Any]) -> None:
        shown = (job["id"], job["state"], job["log_tail"], job["error"])
        if shown == self._shown_log:
            return
        self._shown_log = shown
        summary = Text.assemble(
            f"job {job['id']} · {job['kind']} · ", (job["state"], STATE_STYLE.get(job["state"], "")),
            f" · {job['error']}" if job["error"] else "",
        )
        self.query_one("#job-summary", Static).update(summary)
        self.query_one("#job-log", Static).update(Text(job["log_tail"].rstrip() or "(the log is empty so far)"))
        self.query_one("#job-log-scroll", VerticalScroll).scroll_end(animate=False)

    @on(FilterTable.Highlighted, "#jobs-table")
    def _job_highlighted(self, event: FilterTable.Highlighted) -> None:
        event.stop()
        if event.key is not None:
            self.load_jobs(event.key)

    def action_cancel(self) -> None:
        key = self.query_one("#jobs-table", FilterTable).selected_key
        job = next((job for job in self.jobs if str(job["id"]) == key), None)
        if job is None:
            return
        if job["state"] not in ("queued", "running"):
            self.notify(f"Job {job['id']} is already {job['state']}; nothing to cancel.", severity="warning")
            return
        self.app.push_screen(
            ConfirmScreen(f"Cancel job {job['id']}?", f"{job['title']} stops; runs it already recorded are kept.",
                          confirm_label="Cancel job"),
            lambda yes: yes and self.cancel(job["id"]),
        )

    @work(thread=True, group="jobs-cancel", exit_on_error=False)
    def cancel(self, job_id: int) -> None:
        from core.jobs.runner import cancel_job

        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                cancel_job(store, job_id)
            except PitboardError as error:
                self.app.call_from_thread(self.notify, str(error), severity="error")
                return
        self.app.call_from_thread(self.reload)

    def palette_actions(self) -> list[PaletteAction]:
        if not self.jobs:
            return []
        return [PaletteAction("Cancel the selected job", "jobs cancel (key x)", self.action_cancel)]
