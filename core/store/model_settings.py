"""Per-model overrides of a `pitboard.toml` section.

Monitoring, alert and retraining settings have one default section (`[monitoring]`) and
optional per-model tables inside it (`[monitoring.credit-risk]`), because teams watch a
fraud model hourly and a credit model daily from the same database. A table-valued key
that is not a setting names a model; every key in it is checked against the defaults
like the section itself, so a typo is still an error naming the file and key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.store.config import Range, load_config, merge_section
from core.store.database import Store


def model_settings(store: Store, section: str, model: str, defaults: dict[str, Any],
                   ranges: Mapping[str, Range] | None = None) -> dict[str, Any]:
    """`defaults` <- `[section]` <- `[section.<model>]`, every key, type and range checked."""
    raw = load_config(store.config_path).get(section, {})
    if not isinstance(raw, dict):
        raw = {}
    per_model = {key for key, value in raw.items() if isinstance(value, dict) and key not in defaults}
    base = store.settings(section, {**defaults, **{key: None for key in per_model}}, ranges)
    base = {key: value for key, value in base.items() if key in defaults}
    where = f"{section}.{model}"
    nested: Any = raw.get(model, {})
    for part in reversed(where.split(".")):  # model names may contain dots
        nested = {part: nested}
    return merge_section(nested, where, base, store.config_path, ranges)
