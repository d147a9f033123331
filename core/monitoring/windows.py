"""Windows: a slice of production traffic reduced to small, mergeable statistics.

This module is pure (numpy arrays in, dataclasses out; no SQLite): `core.monitoring.status`
reads traffic from the prediction log or a batch file, cuts it into windows with
`split`, and stores what `reduce` returns. Per feature a window keeps the count, the
missing count, the default drift test of `core.kernels.drift` against the reference
profile (chosen as Evidently does) and PSI, and the histogram of the values over the
reference's PSI bins (categories for categorical features), and the multivariate
detector's sums of reconstruction errors (`core.monitoring.multivariate`). Histograms and
sums add up, so a day can be formed from hours, or a window from parts reduced on different Dask workers, with
`merge` and without raw rows.

Edge cases, stated once:
- a feature whose values are all missing in a window has no test; it counts as drifted
  (the column stopped arriving), with test `missing`;
- a window of zero rows is formed only for served traffic whose requests all failed
  (`no_rows`): the errors must count somewhere, and an all-failing hour is the one the
  error-rate alert exists for;
- served windows count requests answered (`n_requests`) and failed (`n_errors`, see
  `core.serving.service_errors`); `error_rate` is errors / (answered + errors), None for batch
  files, which have no requests;
- clock skew is handled by the callers (`core.monitoring.ingest`); `future_rows` is what they counted;
- labels: class indices (-1 = no label yet) or numbers (NaN = no label yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.monitoring.cbpe import estimate
from core.monitoring.drift_tests import codes_of_counts, default_test, histogram, merged_numeric_verdict, psi_of_counts
from core.monitoring.multivariate import MultivariateReference, MultivariateStats, window_stats
from core.monitoring.multivariate import merged as merged_sums
from core.monitoring.references import Reference
from core.monitoring.segments import SegmentReference, SegmentStats, window_segments
from core.monitoring.segments import merge as merge_segments
from core.monitoring.settings import TIME_WINDOW_SECONDS

MISSING_CODE = -1


@dataclass
class Traffic:
    """Rows of production traffic, column by column, encoded against a reference.

    Numeric features are float64 with NaN for missing; categorical features are int64
    codes into the reference's categories, -1 for missing and len(categories) for a
    category the reference never saw.
    """

    ts: np.ndarray
    features: dict[str, np.ndarray]
    scores: np.ndarray
    codes: np.ndarray | None = None
    labels: np.ndarray | None = None
    latency: np.ndarray | None = None
    requests: np.ndarray | None = None
    seqs: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, rows: np.ndarray) -> "Traffic":
        """The traffic of the given row positions (or boolean mask)."""
        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[rows]

        return Traffic(self.ts[rows], {k: v[rows] for k, v in self.features.items()}, self.scores[rows],
                       pick(self.codes), pick(self.labels), pick(self.latency), pick(self.requests), pick(self.seqs))


@dataclass
class FeatureStats:
    """One feature in one window."""

    feature: str
    count: int
    missing: int
    test: str | None
    statistic: float | None
    p_value: float | None
    drifted: bool
    psi: float | None
    histogram: list[int]

    @property
    def missing_rate(self) -> float:
        total = self.count + self.missing
        return self.missing / total if total else 0.0


@dataclass
class WindowStats:
    """Everything stored about one window."""

    kind: str
    key: int
    start: float
    end: float
    n_rows: int
    features: list[FeatureStats]
    prediction_test: str | None = None
    prediction_stat: float | None = None
    prediction_drifted: bool | None = None
    prediction_psi: float | None = None
    prediction_histogram: list[int] = field(default_factory=list)
    positive_rate: float | None = None
    mean_prediction: float | None = None
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_p99: float | None = None
    future_rows: int = 0
    n_labelled: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    seq_lo: int | None = None
    seq_hi: int | None = None
    n_requests: int | None = None
    n_errors: int = 0
    n_server_errors: int = 0
    multivariate: MultivariateStats | None = None
    segments: list[SegmentStats] = field(default_factory=list)

    @property
    def error_rate(self) -> float | None:
        """Share of prediction requests that failed; None without served requests."""
        if self.n_requests is None or self.n_requests + self.n_errors == 0:
            return None
        return self.n_errors / (self.n_requests + self.n_errors)

    @property
    def n_drifted(self) -> int:
        return sum(1 for f in self.features if f.drifted)

    @property
    def drift_share(self) -> float:
        return self.n_drifted / len(self.features) if self.features else 0.0


# -- cutting traffic into windows ---------------------------------------------------------


def bucket(kind: str, ts: np.ndarray) -> np.ndarray:
    """The start of the hourly or daily (UTC) window of each time."""
    size = TIME_WINDOW_SECONDS[kind]
    return np.floor(ts / size) * size


def split(traffic: Traffic, kind: str, rows: int) -> list[tuple[int, float, float, np.ndarray]]:
    """(key, start, end, row positions) of each window, in order.

    Time windows are UTC buckets of the row times (key: the bucket start); row windows are
    consecutive blocks of `rows` by seq (log) or position (file) (key: the block number),
    with start/end the first and last row times.
    """
    if len(traffic) == 0:
        return []
    if kind in TIME_WINDOW_SECONDS:
        starts = bucket(kind, traffic.ts)
        return [(int(start), float(start), float(start + TIME_WINDOW_SECONDS[kind]), np.flatnonzero(starts == start))
                for start in np.unique(starts)]
    order = traffic.seqs - 1 if traffic.seqs is not None else np.arange(len(traffic))
    keys = order // rows
    found = []
    for key in np.unique(keys):
        positions = np.flatnonzero(keys == key)
        times = traffic.ts[positions]
        found.append((int(key), float(times.min()), float(times.max()), positions))
    return found


# -- reducing a window ----------------------------------------------------------------------


def reduce(reference: Reference, traffic: Traffic, *, kind: str, key: int, start: float, end: float,
           future_rows: int = 0, min_effect: float = 0.0, segments: list[SegmentReference] | None = None) -> WindowStats:
    """Reduce one window of traffic against a version's reference (`min_effect`: see
    `core.monitoring.drift_tests`), and into `segments` (`core.monitoring.segments`)."""
    features = [_feature_stats(ref, traffic.features[ref.name], min_effect) for ref in reference.features]
    stats = WindowStats(kind=kind, key=key, start=start, end=end, n_rows=len(traffic), features=features,
                        future_rows=future_rows)
    if isinstance(reference.multivariate, MultivariateReference):
        stats.multivariate = window_stats(reference.multivariate, traffic.features, len(traffic))
    scores = traffic.scores[np.isfinite(traffic.scores)]
    if reference.prediction is not None and len(scores):
        result = default_test(reference.prediction, scores, min_effect)
        stats.prediction_test, stats.prediction_stat, stats.prediction_drifted = result.test, result.statistic, result.drifted
        stats.prediction_psi = float(reference.prediction.psi(scores))
        stats.prediction_histogram = [int(c) for c in histogram(reference.prediction, scores)]
    if len(scores):
        stats.mean_prediction = float(scores.mean())
    n_classes = len(reference.classes or [])
    if reference.task == "classification" and traffic.codes is not None and n_classes == 2:
        stats.positive_rate = float(np.mean(traffic.codes == 1))
    stats.estimated = estimate(reference.task, scores, n_classes)
    if traffic.latency is not None and len(traffic):
        per_request = traffic.latency
        if traffic.requests is not None:  # one value per request, not per row of a batch
            per_request = traffic.latency[np.unique(traffic.requests, return_index=True)[1]]
        stats.latency_p50, stats.latency_p95, stats.latency_p99 = (float(v) for v in np.percentile(per_request, [50, 95, 99]))
    if traffic.seqs is not None and len(traffic):
        stats.seq_lo, stats.seq_hi = int(traffic.seqs.min()), int(traffic.seqs.max())
    if traffic.labels is not None:
        stats.n_labelled, stats.metrics = label_metrics(reference, traffic.labels, traffic.scores, traffic.codes)
    if segments:
        def metrics_of(rows: np.ndarray) -> tuple[int, dict[str, float]]:
            return label_metrics(reference, traffic.labels[rows], traffic.scores[rows],
                                 None if traffic.codes is None else traffic.codes[rows])

        stats.segments = window_segments(segments, reference.features, traffic.features,
                                         metrics_of if traffic.labels is not None else None)
    return stats


def no_rows(reference: Reference, *, kind: str, key: int, start: float, end: float) -> WindowStats:
    """A served window without a single answered row (every request in it failed).

    Features have nothing to test: counts are zero and nothing counts as drifted.
    """
    features = [FeatureStats(ref.name, 0, 0, None, None, None, False, None,
                             [0] * len(histogram(ref.profile, _empty(ref)))) for ref in reference.features]
    return WindowStats(kind=kind, key=key, start=start, end=end, n_rows=0, features=features, n_requests=0)


def _empty(ref: Any) -> np.ndarray:
    return np.empty(0, dtype=np.float64 if ref.kind == "numeric" else np.int64)


def _feature_stats(ref: Any, values: np.ndarray, min_effect: float) -> FeatureStats:
    present = values[~np.isnan(values)] if ref.kind == "numeric" else values[values != MISSING_CODE]
    missing = len(values) - len(present)
    if len(present) == 0:
        empty = [0] * len(histogram(ref.profile, present))
        return FeatureStats(ref.name, 0, missing, "missing", None, None, missing > 0, None, empty)
    result = default_test(ref.profile, present, min_effect)
    return FeatureStats(ref.name, len(present), missing, result.test, result.statistic, result.p_value, result.drifted,
                        float(ref.profile.psi(present)), [int(c) for c in histogram(ref.profile, present)])


def label_metrics(reference: Reference, labels: np.ndarray, scores: np.ndarray, codes: np.ndarray | None) -> tuple[int, dict[str, float]]:
    """(number labelled, real metrics from `core.kernels.metrics` via core.experiments.evaluation)."""
    from core.experiments.evaluation import score

    if reference.task == "classification":
        known = labels >= 0
    else:
        known = ~np.isnan(labels)
    n = int(known.sum())
    if n == 0:
        return 0, {}
    y = labels[known]
    if reference.task != "classification":
        return n, score("regression", y.astype(np.float64), scores[known], None)
    proba = None
    if len(reference.classes or []) == 2:
        s = scores[known]
        proba = np.column_stack([1.0 - s, s])
    try:
        return n, score("classification", y.astype(np.int64), codes[known], proba)
    except ValueError:  # one class only among the labels so far: no AUC or log loss yet
        return n, score("classification", y.astype(np.int64), codes[known], None)


# -- merging --------------------------------------------------------------------------------


def merge(reference: Reference, parts: list[WindowStats], min_effect: float = 0.0) -> WindowStats:
    """One window from parts of the same window reduced separately (e.g. on Dask workers).

    Counts and histograms add exactly, and PSI is recomputed from the merged histogram, so
    it equals the PSI of the whole window; categorical tests run on the merged counts and
    are exact too. A numeric test's statistic becomes the count-weighted mean of the
    parts, which bounds KS and Wasserstein from above (both are convex in the mixture),
    marked with a `~` on the test name; labelled metrics are count-weighted means as well.
    """
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    features = [_merge_feature(ref, [p.features[i] for p in parts], min_effect) for i, ref in enumerate(reference.features)]
    rows = [p.n_rows for p in parts]
    merged = replace(first, start=min(p.start for p in parts), end=max(p.end for p in parts), n_rows=sum(rows),
                     features=features, future_rows=sum(p.future_rows for p in parts))
    merged.mean_prediction = _weighted([p.mean_prediction for p in parts], rows)
    merged.positive_rate = _weighted([p.positive_rate for p in parts], rows)
    if reference.prediction is not None and all(p.prediction_histogram for p in parts):
        merged.prediction_histogram = [int(sum(h)) for h in zip(*(p.prediction_histogram for p in parts))]
        merged.prediction_psi = float(psi_of_counts(reference.prediction, np.array(merged.prediction_histogram)))
        merged.prediction_stat = _weighted([p.prediction_stat for p in parts], rows)
        merged.prediction_test = (first.prediction_test or "").rstrip("~") + "~"
        merged.prediction_drifted = merged_numeric_verdict(
            first.prediction_test or "", merged.prediction_stat, merged.n_rows, [bool(p.prediction_drifted) for p in parts])
    merged.estimated = _weighted_dicts([p.estimated for p in parts], rows)
    merged.n_labelled = sum(p.n_labelled for p in parts)
    merged.metrics = _weighted_dicts([p.metrics for p in parts], [p.n_labelled for p in parts])
    if all(p.multivariate is not None for p in parts):
        merged.multivariate = merged_sums([p.multivariate for p in parts])
    merged.segments = merge_segments([p.segments for p in parts])
    return merged


def _merge_feature(ref: Any, pieces: list[FeatureStats], min_effect: float) -> FeatureStats:
    counts = np.sum([p.histogram for p in pieces], axis=0).astype(np.int64)
    count, missing = sum(p.count for p in pieces), sum(p.missing for p in pieces)
    if count == 0:
        return FeatureStats(ref.name, 0, missing, "missing", None, None, missing > 0, None, [int(c) for c in counts])
    psi = float(psi_of_counts(ref.profile, counts))
    if ref.kind != "numeric":  # categories merge exactly: test the merged counts themselves
        result = default_test(ref.profile, codes_of_counts(counts), min_effect)
        return FeatureStats(ref.name, count, missing, result.test, result.statistic, result.p_value, result.drifted, psi,
                            [int(c) for c in counts])
    tested = [p for p in pieces if p.statistic is not None]
    statistic = float(np.average([p.statistic for p in tested], weights=[p.count for p in tested]))
    test = tested[0].test.rstrip("~")
    return FeatureStats(ref.name, count, missing, test + "~", statistic, None,
                        merged_numeric_verdict(test, statistic, count, [p.drifted for p in tested]), psi, [int(c) for c in counts])


def _weighted(values: list[float | None], weights: list[int]) -> float | None:
    pairs = [(v, w) for v, w in zip(values, weights) if v is not None and w > 0]
    if not pairs:
        return None
    return float(np.average([v for v, _ in pairs], weights=[w for _, w in pairs]))


def _weighted_dicts(dicts: list[dict[str, float]], weights: list[int]) -> dict[str, float]:
    names = sorted({name for d in dicts for name in d})
    merged = {name: _weighted([d.get(name) for d in dicts], weights) for name in names}
    return {name: value for name, value in merged.items() if value is not None}
