"""The `[monitoring]` settings of pitboard.toml, per model `[monitoring.<model>]`.

    window = "daily"          # hourly | daily (UTC, by prediction time) | rows
    window_rows = 1000        # rows per window when window = "rows"
    grace_seconds = 60.0      # a time window is closed this long after its end
    retention_days = 30.0     # `pitboard gc` drops raw prediction-log flushes older than this
    label_days = 30.0         # windows keep taking /feedback labels this long
    band_chunk_rows = 250     # rows per holdout chunk of the reference performance band
    replica_silent_seconds = 300.0  # a fleet replica with no segment for this long is flagged silent
"""

from __future__ import annotations

from typing import Any

from core.store.config import Range, at_least
from core.store.database import Store
from core.store.errors import PitboardError
from core.store.model_settings import model_settings

DEFAULTS: dict[str, Any] = {
    "window": "daily",
    "window_rows": 1000,
    "grace_seconds": 60.0,
    "retention_days": 30.0,
    "label_days": 30.0,
    "band_chunk_rows": 250,
    "replica_silent_seconds": 300.0,
}
RANGES: dict[str, Range] = {
    "window_rows": at_least(1, 100_000_000),
    "grace_seconds": at_least(0, 7 * 86_400),
    "retention_days": at_least(0, 36_500),
    "label_days": at_least(0, 36_500),
    "band_chunk_rows": at_least(1, 10_000_000),
    "replica_silent_seconds": at_least(1, 365 * 86_400),
}
TIME_WINDOW_SECONDS = {"hourly": 3600.0, "daily": 86400.0}
WINDOW_KINDS = (*TIME_WINDOW_SECONDS, "rows")


def monitoring_settings(store: Store, model: str) -> dict[str, Any]:
    """The monitoring settings of `model`, checked."""
    settings = model_settings(store, "monitoring", model, DEFAULTS, RANGES)
    if settings["window"] not in WINDOW_KINDS:
        raise PitboardError(
            f"{store.config_path}: [monitoring] window = {settings['window']!r}; valid: {', '.join(WINDOW_KINDS)}"
        )
    return settings
