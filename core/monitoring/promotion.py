"""Promotion judged on the traffic a model really faces.

The registry's gates compare a candidate with the alias's holder on the same rows; this
stage owns served traffic, so it hands them the newest labelled window of the model's
prediction log (`core.monitoring.labelled`), falling back to the candidate's holdout
when there is none. The app, the CLI and retraining promote through here.
"""

from __future__ import annotations

from typing import Any

from core.monitoring.labelled import latest_window_xy
from core.registry import gates
from core.registry.gates import GateResult, LiveRows, Promotion
from core.registry.versions import CHAMPION, ModelVersion
from core.store.database import Store


def newest_labelled_window(store: Store) -> LiveRows:
    """The gates' live rows: the newest labelled window of the candidate's model."""

    def rows(candidate: ModelVersion, run: Any) -> tuple[str, Any, Any] | None:
        found = latest_window_xy(store, candidate.name, run)
        if found is None:
            return None
        window, X, y = found
        return f"window {window['id']}", X, y

    return rows


def evaluate_gates(store: Store, candidate: ModelVersion, alias: str = CHAMPION) -> list[GateResult]:
    """Every gate for moving `alias` to `candidate`, on live rows where there are some; changes nothing."""
    return gates.evaluate_gates(store, candidate, alias, live_rows=newest_labelled_window(store))


def promote(store: Store, ref: str, alias: str = CHAMPION, *, force: bool = False, reason: str = "") -> Promotion:
    """`core.registry.gates.promote`, judged on live rows where there are some."""
    return gates.promote(store, ref, alias, force=force, reason=reason, live_rows=newest_labelled_window(store))
