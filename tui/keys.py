"""Every key binding of the app, each with a stable id, remappable from pitboard.toml.

A binding's id is its name in the `[keys]` section of `pitboard.toml`:

    [keys]
    quit = "q"
    pane_data = "1,f1"

Textual's keymap mechanism swaps the key of the binding with that id. The file is checked
before the app starts: an unknown id or a non-string value is an error from
`Store.settings` naming the file and key, and two actions that would answer the same key
in one place (the app plus one pane) are an error naming both, so a remap can never
silently shadow another action.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.binding import Binding

from core.store.errors import PitboardError

# id -> default key(s), comma-separated as Textual expects.
DEFAULTS: dict[str, str] = {
    # app: available everywhere
    "quit": "q",  # ctrl+q also quits (Textual's own binding)
    "help": "question_mark",
    "palette": "ctrl+p",
    "pane_data": "1",
    "pane_experiments": "2",
    "pane_registry": "3",
    "pane_monitor": "4",
    "pane_jobs": "5",
    # tables
    "filter": "slash",
    "down": "j",
    "up": "k",
    "scroll_left": "shift+left",
    "scroll_right": "shift+right",
    # panes with tabs (Data, Registry, Monitor)
    "tab_prev": "left",
    "tab_next": "right",
    # data pane
    "data_schema": "s",
    "data_histogram": "g",
    "data_rows": "r",
    "data_checks": "c",
    "data_validate": "v",
    "data_next_page": "n",
    "data_prev_page": "p",
    # experiments pane
    "exp_mark": "space",
    "exp_compare": "c",
    "exp_train": "t",
    "exp_filter": "f",
    "exp_register": "r",
    # jobs pane
    "jobs_cancel": "x",
    # registry pane
    "registry_info": "i",
    "registry_history": "h",
    "registry_card": "m",
    "registry_promote": "p",
    "registry_rollback": "r",
    "registry_bundle": "b",
    "registry_serve": "s",
    # monitor pane
    "monitor_drift": "d",
    "monitor_trends": "t",
    "monitor_alerts": "l",
    "monitor_segments": "s",
    "monitor_model": "m",
    "monitor_ack": "a",
    "monitor_retrain": "R",
}

# Keys live everywhere: the app's, and those of the tables every pane is made of.
EVERYWHERE: tuple[str, ...] = (
    "quit", "help", "palette", "pane_data", "pane_experiments", "pane_registry", "pane_monitor", "pane_jobs",
    "filter", "down", "up", "scroll_left", "scroll_right",
)
# Each pane's own keys, live together with EVERYWHERE while the pane is shown.
PANE_KEYS: dict[str, tuple[str, ...]] = {
    "data": ("tab_prev", "tab_next", "data_schema", "data_histogram", "data_rows", "data_checks", "data_validate", "data_next_page", "data_prev_page"),
    "experiments": ("exp_mark", "exp_compare", "exp_train", "exp_filter", "exp_register"),
    "jobs": ("jobs_cancel",),
    "registry": ("tab_prev", "tab_next", "registry_info", "registry_history", "registry_card", "registry_promote", "registry_rollback",
                 "registry_bundle", "registry_serve"),
    "monitor": ("tab_prev", "tab_next", "monitor_drift", "monitor_trends", "monitor_alerts", "monitor_segments", "monitor_model", "monitor_ack", "monitor_retrain"),
}


def bind(binding_id: str, action: str, description: str, *, show: bool = True, priority: bool = False) -> Binding:
    """A Binding with its default key taken from DEFAULTS, so the id and key live in one place."""
    return Binding(DEFAULTS[binding_id], action, description, show=show, priority=priority, id=binding_id)


def keymap(settings: dict[str, Any], config_path: Path) -> dict[str, str]:
    """The remapped ids (those that differ from DEFAULTS), after checking for clashes.

    `settings` is `store.settings("keys", DEFAULTS)`: ids and value types are already checked.
    """
    for binding_id, keys in settings.items():
        if not keys.strip() or any(not key.strip() for key in keys.split(",")):
            raise PitboardError(f"{config_path}: [keys] {binding_id} = {keys!r} names no key")
    for pane_ids in PANE_KEYS.values():
        owner: dict[str, str] = {}
        for binding_id in EVERYWHERE + pane_ids:
            for key in _normalized(settings[binding_id]):
                if key in owner:
                    raise PitboardError(
                        f"{config_path}: [keys] {binding_id} and {owner[key]} both use {key!r}; give each its own key"
                    )
                owner[key] = binding_id
    return {binding_id: keys for binding_id, keys in settings.items() if keys != DEFAULTS[binding_id]}


def _normalized(keys: str) -> list[str]:
    """Key names as Textual compares them ("?" and "question_mark" are the same key)."""
    from textual.keys import _character_to_key

    return [_character_to_key(key.strip()) if len(key.strip()) == 1 else key.strip() for key in keys.split(",")]
