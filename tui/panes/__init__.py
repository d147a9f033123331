"""The five panes, in the order of their keys."""

from __future__ import annotations

from core.store.errors import PitboardError
from tui.panes.base import Pane


def pane_classes() -> list[type[Pane]]:
    """Data, Experiments, Registry, Monitor, Jobs (imported here so app.py stays short)."""
    from tui.panes.data import DataPane
    from tui.panes.experiments import ExperimentsPane
    from tui.panes.jobs import JobsPane
    from tui.panes.monitor import MonitorPane
    from tui.panes.registry import RegistryPane

    return [DataPane, ExperimentsPane, RegistryPane, MonitorPane, JobsPane]


def check_pane(name: str) -> str:
    """`name` when it names a pane (`pitboard --pane NAME`); else a one-line error naming the valid ones."""
    names = [cls.pane_id for cls in pane_classes()]
    if name not in names:
        raise PitboardError(f"--pane {name!r}: no such pane; valid: {', '.join(names)}")
    return name
