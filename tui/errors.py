"""The app's one handler for what its workers did not expect.

Workers (thread workers reading and writing the database) report the problems a user can
fix as the `PitboardError` they are, each where it happened. Anything else would, by
Textual's default, close the whole app with a traceback: a bug met by one pane's refresh
would end the session. So every worker is started with `exit_on_error=False`, and its
failure arrives as a `Worker.StateChanged` message at the node that started it. That
message does not bubble, so every class that starts workers mixes in `ReportsWorkerErrors`,
which hands it to `report`: a notification with the line the `pitboard` command prints,
`internal error in the app (<worker>): <type>: <message>; details in <crash log>`, and
the app keeps running. tests/tui/test_internal_errors.py checks both rules on every worker.
"""

from __future__ import annotations

from textual.app import App
from textual.worker import Worker, WorkerState

from core.cli._crash import internal_error

NOTIFY_SECONDS = 30


def report(app: App, event: Worker.StateChanged) -> None:
    """Show a worker's unexpected failure (see the module docstring); other states pass."""
    error = event.worker.error
    if event.state is WorkerState.ERROR and error is not None:
        line = internal_error(error, f"the app ({event.worker.name})")
        app.notify(line, title="Internal error", severity="error", timeout=NOTIFY_SECONDS, markup=False)


class ReportsWorkerErrors:
    """Mixed into every app, screen and widget class that starts workers."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report(self.app, event)  # type: ignore[attr-defined]
