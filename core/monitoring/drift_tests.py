"""Evidently's default drift test against a stored profile, and mergeable histograms.

`core.data.drift.drift_report` chooses the test per column for two DataFrames; a
window has a stored `ReferenceProfile` instead of a reference frame, so the same choice
is made here with the same constants, and every statistic still comes from the profile's
kernels: with a reference of 1,000 values or fewer, KS (drift when p <= 0.05) for numeric
features and chi-square (p < 0.05) for categorical ones; with a larger reference,
Wasserstein distance over the reference std (floored) and Jensen-Shannon distance, drift
at 0.1 or more. A distance has no sense of sample size: one row far from the reference
mean is "drifted" by any distance, so a distance test judges only windows with at least
`MIN_JUDGED_VALUES` values of the feature (KS and chi-square need no such floor: their
p-values already say how little a handful of rows proves).

Significance is not importance: on large windows KS and chi-square call a negligible
shift significant. With `min_effect` (`[monitoring] min_effect`, 0.1 by default) their
verdict also needs an effect of that size: the KS distance D itself, and Cramer's V
(sqrt(chi2 / n), n both samples' rows) for chi-square, where 0.1 is Cohen's "small"
effect and matches the 0.1 the distance tests already require.

Histograms are the counts of a window's values over the reference's PSI bins (numeric)
or categories plus one cell for unseen categories (categorical). They add up across
windows, and PSI of the sum is the PSI of the union of their rows (`psi_of_counts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.drift import DISTANCE_THRESHOLD, P_VALUE_THRESHOLD, SMALL_REFERENCE, STD_FLOOR
from core.kernels.profile import ReferenceProfile


MIN_JUDGED_VALUES = 30
"""Fewer values than this get a distance but no drift verdict (the usual n >= 30 rule)."""


@dataclass(frozen=True)
class TestResult:
    """One default drift test: its name, statistic, p-value (tests that have one), verdict."""

    test: str
    statistic: float
    p_value: float | None
    drifted: bool


def default_test(profile: ReferenceProfile, current: np.ndarray, min_effect: float = 0.0) -> TestResult:
    """The default test of `current` (non-missing values, or codes) against `profile`;
    a significance test also needs an effect of at least `min_effect`."""
    small = profile.n <= SMALL_REFERENCE
    if profile.kind == "categorical":
        if small:
            statistic, p_value = profile.chi2_test(current)
            cramers_v = float(np.sqrt(statistic / (profile.n + len(current)))) if statistic == statistic else 0.0
            return TestResult("chi2", statistic, p_value, bool(p_value < P_VALUE_THRESHOLD and cramers_v >= min_effect))
        distance = profile.jensen_shannon(current)
        return TestResult("jensen_shannon", distance, None, _far(distance, current))
    if small:
        statistic, p_value = profile.ks_test(current)
        return TestResult("ks", statistic, p_value, bool(p_value <= P_VALUE_THRESHOLD and statistic >= min_effect))
    distance = profile.wasserstein(current) / max(profile.std, STD_FLOOR)
    return TestResult("wasserstein", distance, None, _far(distance, current))


def _far(distance: float, current: np.ndarray) -> bool:
    """A distance test's verdict: far enough, on enough values to mean it."""
    return bool(distance >= DISTANCE_THRESHOLD and len(current) >= MIN_JUDGED_VALUES)


def merged_numeric_verdict(test: str, statistic: float, count: int, parts_drifted: list[bool]) -> bool:
    """Drift verdict of a numeric feature merged from parts (see `core.monitoring.windows.merge`).

    A Wasserstein distance is judged on the merged (bounding) value; KS has no p-value
    for a merged window, so it counts as drifted when any part drifted.
    """
    if test == "wasserstein":
        return bool(statistic >= DISTANCE_THRESHOLD and count >= MIN_JUDGED_VALUES)
    return any(parts_drifted)


def codes_of_counts(counts: np.ndarray) -> np.ndarray:
    """A categorical histogram back as codes (its last cell: unseen categories)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def histogram(profile: ReferenceProfile, current: np.ndarray) -> np.ndarray:
    """Counts of `current` over the profile's PSI bins or categories (+ one unseen cell).

    Numeric bin k holds edges[k-1] <= x < edges[k], outer bins open, as PSI bins them.
    """
    if profile.kind == "categorical":
        n = len(profile.categories)
        codes = current[current >= 0]
        return np.bincount(np.minimum(codes, n), minlength=n + 1)
    edges = profile.psi_edges
    return np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1)


def psi_of_counts(profile: ReferenceProfile, counts: np.ndarray) -> float:
    """PSI of a window known only by its histogram, through the profile's own kernel.

    One representative value per bin (a value every bin rule puts in that bin) repeated
    by the bin's count has exactly the bin counts of the original rows, so the profile's
    PSI of it equals the PSI of the rows.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if profile.kind == "categorical":
        return profile.psi(codes_of_counts(counts))
    edges = profile.psi_edges
    if len(edges) == 0:
        return profile.psi(np.zeros(int(counts.sum())))
    representatives = np.concatenate(([edges[0] - 1.0], edges))
    return profile.psi(np.repeat(representatives, counts))
