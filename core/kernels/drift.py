"""Drift statistics between a reference sample and a current sample.

Every function takes 1-D numpy arrays of any real dtype (compared as float64, so integers
beyond 2**53 lose their last digits). NaN values are ignored: callers count missing
values separately (`core.data.drift.drift_report` reports missing rates). When either sample is empty
after dropping NaN, the statistic (and p-value) is NaN rather than an exception, so one
empty column never breaks a monitoring window. Infinite values are ordinary values for
KS (as in scipy); they make Wasserstein infinite or NaN (as in scipy) and cannot be
binned for Jensen-Shannon (ValueError, as `numpy.histogram`).

For repeated comparisons against the same reference build a `ReferenceProfile` once and
call its methods: they give the same numbers without sorting the reference again.
"""

from __future__ import annotations

import numpy as np

from core.kernels import _counts, _sample, _walk
from core.kernels._inputs import as_codes, as_float_array
from core.kernels._kolmogorov import two_sample_p_value
from core.kernels.profile import (
    DEFAULT_JS_BINS,
    DEFAULT_PSI_BINS,
    ReferenceProfile,
    histogram_edges,
    ks_distance,
    psi_edges,
    sorted_finite,
)

__all__ = [
    "ReferenceProfile",
    "chi2_test",
    "jensen_shannon",
    "ks_statistic",
    "ks_test",
    "psi",
    "wasserstein",
]



def ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov D, equal to `scipy.stats.ks_2samp(...).statistic`.

    NaN is dropped from both samples; NaN is returned if either is then empty.
    """
    a = sorted_finite(reference, "reference")
    b = sorted_finite(current, "current")
    if a.size == 0 or b.size == 0:
        return float("nan")
    return ks_distance(a, b)


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """(D, p-value) with the asymptotic p-value of `ks_2samp(..., method="asymp")`.

    The p-value is the Kolmogorov distribution's tail at D for the effective size
    n1*n2/(n1+n2) (see `_kolmogorov`); it is NaN for one value against one value, as in
    scipy. NaN values are dropped; (NaN, NaN) if either sample is then empty.
    """
    a = sorted_finite(reference, "reference")
    b = sorted_finite(current, "current")
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan")
    d = ks_distance(a, b)
    return d, float(two_sample_p_value(a.size, b.size, d))


def wasserstein(reference: np.ndarray, current: np.ndarray) -> float:
    """1-Wasserstein distance, equal to `scipy.stats.wasserstein_distance` on the non-NaN values.

    NaN if either sample is empty after dropping NaN.
    """
    a = sorted_finite(reference, "reference")
    b = sorted_finite(current, "current")
    if a.size == 0 or b.size == 0:
        return float("nan")
    return _sample.wasserstein_sorted(a, b)


def psi(reference: np.ndarray, current: np.ndarray, bins: int = DEFAULT_PSI_BINS) -> float:
    """Population stability index over the reference's quantile bins.

    Inner edges are `numpy.quantile(reference, i/bins)` (linear) for i = 1..bins-1; bin k
    holds edges[k-1] <= x < edges[k] and the outer bins are open-ended. Proportions are
    floored at 1e-4, then PSI = sum((c - r) * ln(c / r)). NaN values are dropped; NaN if
    either sample is then empty.
    """
    ref = sorted_finite(reference, "reference")
    cur = as_float_array(current, "current")
    edges = psi_edges(ref, bins)
    return ReferenceProfile._psi(_walk.sorted_quantile_bin_counts(ref, edges), _sample.quantile_counts(cur, edges))


def jensen_shannon(reference: np.ndarray, current: np.ndarray, bins: int = DEFAULT_JS_BINS) -> float:
    """Jensen-Shannon distance (natural log) between equal-width histograms of both samples.

    The `bins` bins span the min and max of both samples together, binned exactly as
    `numpy.histogram`; the distance is `scipy.spatial.distance.jensenshannon` of the counts.
    NaN values are dropped; NaN if either sample is then empty; ValueError on infinities.
    """
    ref = as_float_array(reference, "reference")
    cur = as_float_array(current, "current")
    ref_lo, ref_hi, ref_n = _sample.finite_min_max(ref)
    cur_lo, cur_hi, cur_n = _sample.finite_min_max(cur)
    if ref_n == 0 or cur_n == 0:
        return float("nan")
    edges = histogram_edges(min(ref_lo, cur_lo), max(ref_hi, cur_hi), bins)
    return float(_counts.js_distance(_sample.uniform_counts(ref, edges), _sample.uniform_counts(cur, edges)))


def chi2_test(reference_codes: np.ndarray, current_codes: np.ndarray, n_categories: int) -> tuple[float, float]:
    """(statistic, p-value) of current category counts against the reference proportions.

    Codes are integers: negative means missing (ignored), 0..n_categories-1 are the
    categories, larger codes are categories the reference does not know. Expected counts
    are the reference proportions scaled to the current size, as `scipy.stats.chisquare`
    with `f_exp` from the reference; categories with no reference count are pooled into one
    extra cell whose expected share is half a reference observation (then all shares are
    renormalised). Degrees of freedom: cells - 1; a single cell gives p = 1. (NaN, NaN) if
    either side has no non-missing code.
    """
    reference = as_codes(reference_codes, "reference_codes")
    if reference.size and reference.max() >= n_categories:
        raise ValueError(f"reference_codes: code {int(reference.max())} is not below n_categories={n_categories}")
    profile = ReferenceProfile.categorical(reference, [str(k) for k in range(n_categories)])
    return profile.chi2_test(current_codes)
