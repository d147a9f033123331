"""The Monitor pane: drift, performance and alerts of deployed models. Until the
monitoring engine lands it says how a model gets deployed and monitored."""

from __future__ import annotations

from tui.panes.base import EnginePendingPane


class MonitorPane(EnginePendingPane):
    pane_id = "monitor"
    title = "Monitor"
    key = "4"
    empty_text = (
        "No monitored deployments to show here yet.\n\n"
        "Serve a model with:\n"
        "$ pitboard serve NAME@ALIAS\n"
        "or score batches with:\n"
        "$ pitboard monitor ingest NAME@ALIAS FILE\n"
        "and its drift, performance and alerts appear here."
    )
