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

Code that runs on the event loop itself (an `action_*` or an `on_*` handler) cannot be
left to Textual: its message loop stops at the first exception, so the app must exit.
The same mixin therefore wraps every action and handler a class defines, so what one did
not expect is reported in the same words and the loop goes on. Under test
(`RAISE_UNEXPECTED`, set by tests/tui/conftest.py) the error is raised as before, so a
bug in a handler still fails the test that meets it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

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


RAISE_UNEXPECTED = False
"""Tests set this: an unexpected error in a handler fails the test instead of notifying."""


def _report_unexpected(node: Any, error: Exception, where: str) -> None:
    if RAISE_UNEXPECTED:
        raise error
    line = internal_error(error, f"the app ({where})")
    node.app.notify(line, title="Internal error", severity="error", timeout=NOTIFY_SECONDS, markup=False)


def guarded(method: Callable[..., Any], where: str) -> Callable[..., Any]:
    """`method` (an action or an event handler) reporting what it did not expect instead of raising."""
    if inspect.iscoroutinefunction(method):
        @functools.wraps(method)
        async def run_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await method(self, *args, **kwargs)
            except Exception as error:
                _report_unexpected(self, error, where)
                return None

        run_async.__guarded__ = True  # type: ignore[attr-defined]
        return run_async

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            _report_unexpected(self, error, where)
            return None

    run.__guarded__ = True  # type: ignore[attr-defined]
    return run


class ReportsWorkerErrors:
    """Mixed into every app, screen and widget class that starts workers or handles keys."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            handler = name.startswith(("action_", "on_", "_on_")) and inspect.isfunction(value)
            if handler and not getattr(value, "__guarded__", False) and not inspect.isgeneratorfunction(value):
                setattr(cls, name, guarded(value, f"{cls.__name__}.{name}"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report(self.app, event)  # type: ignore[attr-defined]
