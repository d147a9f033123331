"""The Registry pane: registered models, versions, aliases. Its views land with the
registry engine's TUI increment; until then it says how models get registered."""

from __future__ import annotations

from tui.panes.base import EnginePendingPane


class RegistryPane(EnginePendingPane):
    pane_id = "registry"
    title = "Registry"
    key = "3"
    empty_text = (
        "No registered models to show here yet.\n\n"
        "Register a run as a model version with:\n"
        "$ pitboard model register RUN --name NAME\n"
        "and promote it with:\n"
        "$ pitboard model promote NAME@VERSION --to champion"
    )
