"""The fleet line of the Monitor pane: the replicas that logged to segments for a model.

Why its own widget: the Monitor pane shows one model's windows; whether its replicas are
still reporting is a separate question, answered from the ingest's replica table
(`core.monitoring.fleet.replicas`): how many replicas sent segments, the newest segment's
time, their request rate, and which of them has been silent longer than
`[monitoring] replica_silent_seconds`. Hidden for a model served without `--log-to`.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from core.store.clock import iso


def fleet_text(replicas: list[dict[str, Any]]) -> Text:
    """`fleet · 3 replicas · 12.5 req/s · last segment 2026-01-02 10:02` and each silent replica, in yellow."""
    rate = sum(r["requests_per_s"] for r in replicas)
    last = max(r["last_segment_at"] for r in replicas)
    text = Text.assemble(("fleet", "bold"), f" · {len(replicas)} replica{'s' if len(replicas) != 1 else ''}"
                         f" · {rate:,.1f} req/s · last segment {iso(last)[:16]}")
    for replica in replicas:
        if replica["silent"]:
            text.append(f" · ⚠ {replica['host']}:{replica['pid']} silent {_duration(replica['silent_seconds'])}",
                        style="bold yellow")
    return text


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


class FleetLine(Static):
    """One line under the model's line; shown only when the model has replicas."""

    DEFAULT_CSS = "FleetLine { height: auto; padding: 0 1; display: none; }"

    def show_replicas(self, replicas: list[dict[str, Any]]) -> None:
        self.display = bool(replicas)
        if replicas:
            text = fleet_text(replicas)
            if text != self.content:
                self.update(text)
