"""Kernels over numeric samples: one merge walk over two sorted samples, and binning.

A reference is sorted once (in its `ReferenceProfile`); each current batch is sorted once
(numpy's SIMD sort beats anything written here); the statistics then come from a single
O(n1 + n2) walk instead of the `searchsorted` over the concatenation that scipy does.
Inputs are float64, NaN-free, and non-empty: the callers in `drift.py` guarantee it.
"""

from __future__ import annotations

import numpy as np

from core.kernels._jit import jit


@jit
def ks_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """max |F_a - F_b| over every value of either sample, with F computed as scipy does.

    The merge takes one element per step with selects instead of unpredictable branches
    (random interleaving makes branchy merges mispredict on almost every element), and
    evaluates the CDFs only where the next merged value differs (the end of a tie run).
    """
    n1 = a.size
    n2 = b.size
    i = 0
    j = 0
    d = 0.0
    v = 0.0
    while i < n1 and j < n2:
        x = a[i]
        y = b[j]
        take_a = x <= y
        v = x if take_a else y
        i += 1 if take_a else 0
        j += 0 if take_a else 1
        nx = a[i] if i < n1 else np.inf
        ny = b[j] if j < n2 else np.inf
        diff = abs(i / n1 - j / n2)
        if diff > d and min(nx, ny) != v:
            d = diff
    # One sample is used up; finish the pending tie run of v in the other, then the
    # distance only shrinks as the remaining CDF climbs to 1.
    while i < n1 and a[i] == v:
        i += 1
    while j < n2 and b[j] == v:
        j += 1
    return max(d, abs(i / n1 - j / n2))


@jit
def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Integral of |F_a - F_b|: the 1-Wasserstein distance between the two samples.

    Same select-based merge as `ks_sorted`; inside a tie run the step width is 0.
    """
    n1 = a.size
    n2 = b.size
    i = 0
    j = 0
    total = 0.0
    for _ in range(n1 + n2 - 1):
        x = a[i] if i < n1 else np.inf
        y = b[j] if j < n2 else np.inf
        take_a = x < y or (x == y and i < n1)
        v = x if take_a else y
        i += 1 if take_a else 0
        j += 0 if take_a else 1
        nx = a[i] if i < n1 else np.inf
        ny = b[j] if j < n2 else np.inf
        w = nx if (nx < ny or j >= n2) else ny
        total += abs(i / n1 - j / n2) * (w - v)
    return total


@jit
def finite_min_max(values: np.ndarray) -> tuple[float, float, int]:
    """(min, max, count) of the non-NaN values; count 0 means there were none."""
    lo = np.inf
    hi = -np.inf
    count = 0
    for x in values:
        if x == x:
            count += 1
            if x < lo:
                lo = x
            if x > hi:
                hi = x
    return lo, hi, count


@jit
def quantile_bin_counts(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts per PSI bin: bin k holds edges[k-1] <= x < edges[k]; NaN is skipped."""
    counts = np.zeros(inner_edges.size + 1, dtype=np.int64)
    for x in values:
        if x != x:
            continue
        k = 0
        for e in inner_edges:
            k += x >= e
        counts[k] += 1
    return counts


@jit
def sorted_quantile_bin_counts(sorted_values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """The same counts as `quantile_bin_counts`, by binary search on a sorted sample."""
    below = np.searchsorted(sorted_values, inner_edges, side="left")
    counts = np.empty(inner_edges.size + 1, dtype=np.int64)
    previous = 0
    for k in range(inner_edges.size):
        counts[k] = below[k] - previous
        previous = below[k]
    counts[inner_edges.size] = sorted_values.size - previous
    return counts


@jit
def uniform_bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """`numpy.histogram(values, edges)[0]` for equal-width `edges` spanning every value.

    The bin index is computed exactly as numpy does (scaled offset, then a one-step
    correction against the edges), so counts match bit for bit. NaN is skipped.
    """
    bins = edges.size - 1
    lo = edges[0]
    span = edges[bins] - lo
    counts = np.zeros(bins, dtype=np.int64)
    for x in values:
        if x != x:
            continue
        k = int((x - lo) / span * bins)
        if k == bins:
            k -= 1
        if x < edges[k]:
            k -= 1
        if k != bins - 1 and x >= edges[k + 1]:
            k += 1
        counts[k] += 1
    return counts


@jit
def sorted_uniform_bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The same counts as `uniform_bin_counts` (last bin closed), by binary search."""
    bins = edges.size - 1
    starts = np.searchsorted(sorted_values, edges, side="left")
    counts = np.empty(bins, dtype=np.int64)
    for k in range(bins - 1):
        counts[k] = starts[k + 1] - starts[k]
    end = np.searchsorted(sorted_values, edges[bins], side="right")
    counts[bins - 1] = end - starts[bins - 1]
    return counts
