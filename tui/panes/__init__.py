"""The five panes, in the order of their keys."""

from __future__ import annotations

from tui.panes.base import Pane


def pane_classes() -> list[type[Pane]]:
    """Data, Experiments, Registry, Monitor, Jobs (imported here so app.py stays short)."""
    from tui.panes.data import DataPane
    from tui.panes.experiments import ExperimentsPane
    from tui.panes.jobs import JobsPane
    from tui.panes.monitor import MonitorPane
    from tui.panes.registry import RegistryPane

    return [DataPane, ExperimentsPane, RegistryPane, MonitorPane, JobsPane]
