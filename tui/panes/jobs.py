"""The Jobs pane (placeholder until its views are built)."""

from __future__ import annotations

from tui.panes.base import EnginePendingPane


class JobsPane(EnginePendingPane):
    pane_id = "jobs"
    title = "Jobs"
    key = "5"
    empty_text = "No jobs to show here yet.\n\nStart one with:\n$ pitboard train SPEC.toml --detach"
