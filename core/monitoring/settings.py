"""The `[monitoring]` settings of pitboard.toml, per model `[monitoring.<model>]`.

    window = "daily"          # hourly | daily (UTC, by prediction time) | rows
    window_rows = 1000        # rows per window when window = "rows"
    grace_seconds = 60.0      # a time window is closed this long after its end
    retention_days = 30.0     # `pitboard gc` drops raw prediction-log flushes older than this
    label_days = 30.0         # windows keep taking /feedback labels this long
    band_chunk_rows = 250     # rows per holdout chunk of the reference performance band
    min_effect = 0.1          # KS D / Cramer's V a significant drift test must also reach
    pca_variance = 0.65       # share of the reference's variance the multivariate PCA keeps
    segments = []             # features to slice windows by, e.g. ["region", "income"]
    segment_bins = 4          # a numeric segment column is cut at these many reference quantiles
    segment_min_rows = 100    # segments with fewer rows (window or reference) are not judged
    fdr = 0.05                # false discovery rate across features x segments (Benjamini-Hochberg)
    replica_silent_seconds = 300.0  # a fleet replica with no segment for this long is flagged silent
"""

from __future__ import annotations

from typing import Any

from core.store.config import Range, above, at_least
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
    "min_effect": 0.1,
    "pca_variance": 0.65,
    "segments": [],
    "segment_bins": 4,
    "segment_min_rows": 100,
    "fdr": 0.05,
    "replica_silent_seconds": 300.0,
}
RANGES: dict[str, Range] = {
    "window_rows": at_least(1, 100_000_000),
    "grace_seconds": at_least(0, 7 * 86_400),
    "retention_days": at_least(0, 36_500),
    "label_days": at_least(0, 36_500),
    "band_chunk_rows": at_least(1, 10_000_000),
    "min_effect": at_least(0, 1),
    "pca_variance": above(0, 1),
    "segment_bins": at_least(2, 100),
    "segment_min_rows": at_least(1, 100_000_000),
    "fdr": above(0, 1),
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
    for column in settings["segments"]:
        if not isinstance(column, str):
            raise PitboardError(f"{store.config_path}: [monitoring] segments: {column!r} should be a feature name")
    return settings
