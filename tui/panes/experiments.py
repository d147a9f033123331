"""The Experiments pane (placeholder until its views are built)."""

from __future__ import annotations

from tui.panes.base import EnginePendingPane


class ExperimentsPane(EnginePendingPane):
    pane_id = "experiments"
    title = "Experiments"
    key = "2"
    empty_text = "No experiments to show here yet.\n\nTrain from a spec with:\n$ pitboard train SPEC.toml"
