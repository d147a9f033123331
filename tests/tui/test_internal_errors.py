"""The app's one error handler: whatever a worker did not expect is a notification naming a
crash log, and the app keeps running."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tui.errors import ReportsWorkerErrors
from tui.widgets.table import FilterTable

from .conftest import settle
from .fixture_runs import runs_app  # noqa: F401  (fixture)

pytestmark = pytest.mark.anyio

async def open_experiments(pilot) -> None:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def test_a_failing_worker_is_a_notification_and_the_app_keeps_running(runs_app, monkeypatch, tmp_path: Path):
    import core.experiments.runs

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiments(pilot)
        shown = list(app.query_one("#runs", FilterTable).shown_keys)
        assert shown

        def broken(*args, **kwargs):
            raise ZeroDivisionError("injected fault")

        monkeypatch.setattr(core.experiments.runs, "list_runs", broken)
        await pilot.press("f", *"metrics.roc_auc > 0.5", "enter")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert len(errors) == 1, errors
        found = re.fullmatch(r"internal error in the app \(load_runs\): ZeroDivisionError: injected fault; details in (\S+)", errors[0])
        assert found, errors[0]
        log = Path(found[1])
        assert log.parent == tmp_path / "state" / "pitboard" / "crash"
        assert log.read_text(encoding="utf-8").rstrip().endswith("ZeroDivisionError: injected fault")
        assert app.is_running and app.return_code is None
        monkeypatch.undo()
        await pilot.press("2")  # the pane still works
        await settle(pilot)
        assert list(app.query_one("#runs", FilterTable).shown_keys) == shown


def test_every_worker_of_the_app_reports_its_errors_instead_of_closing_it():
    """Every @work says `exit_on_error=False`, so no failure closes the app, and its class
    mixes in `ReportsWorkerErrors`, so the failure reaches the one handler (tui.errors)."""
    workers, owners = [], set()
    for path in (REPO / "tui").rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        for cls in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(cls, ast.ClassDef):
                continue
            for node in ast.walk(cls):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("work", "run_worker"):
                    options = {k.arg: k.value for k in node.keywords}
                    off = isinstance(options.get("exit_on_error"), ast.Constant) and options["exit_on_error"].value is False
                    workers.append((f"{path.relative_to(REPO)}:{node.lineno}", off))
                    owners.add((module, cls.name))
    assert len(workers) >= 20
    assert [where for where, off in workers if not off] == []
    assert len(owners) >= 8
    classes = {f"{module}.{name}": getattr(importlib.import_module(module), name) for module, name in owners}
    assert [name for name, cls in classes.items() if not issubclass(cls, ReportsWorkerErrors)] == []


async def test_a_failing_handler_is_a_notification_and_the_app_keeps_running(runs_app, monkeypatch, tmp_path: Path):
    import tui.errors
    from tui.panes.experiments import ExperimentsPane

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(tui.errors, "RAISE_UNEXPECTED", False)  # as in a real terminal
    app = runs_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_experiments(pilot)
        pane = app.query_one(ExperimentsPane)
        calls = []
        original = type(pane).action_compare

        def broken(self):  # type: ignore[no-untyped-def]
            calls.append(1)
            raise KeyError("injected fault in a handler")

        monkeypatch.setattr(type(pane), "action_compare", tui.errors.guarded(broken, "ExperimentsPane.action_compare"))
        await pilot.press("c")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert calls == [1] and len(errors) == 1, errors
        assert errors[0].startswith("internal error in the app (ExperimentsPane.action_compare): KeyError:"), errors[0]
        assert app.is_running and app.return_code is None
        monkeypatch.setattr(type(pane), "action_compare", original)
        await pilot.press("2")  # the app still answers keys
        await settle(pilot)
        assert app.query_one(ExperimentsPane).display


def test_every_action_and_handler_of_the_app_is_guarded():
    from tui.app import PitboardApp
    from tui.panes import pane_classes

    for cls in (PitboardApp, *pane_classes()):
        for name, value in vars(cls).items():
            if name.startswith(("action_", "on_")) and callable(value):
                assert getattr(value, "__guarded__", False), f"{cls.__name__}.{name}"
