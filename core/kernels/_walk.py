"""Kernels over numeric samples: merge walks over two sorted samples, partitioning, binning.

A reference is sorted once (in its `ReferenceProfile`); each current batch is sorted once
(numpy's SIMD sort beats anything written here); KS and Wasserstein then come from one
O(n1 + n2) merge walk instead of the `searchsorted` over the concatenation that scipy does.
Inputs are float64 and NaN-free unless a docstring says otherwise: the callers in
`_sample.py` guarantee it.

The walk's cost is latency, not work: each step's index depends on the previous step's
comparison (~10 cycles). So a walk is cut at values into four pieces (`PIECES`) that one
kernel call advances in lockstep, four independent chains the core overlaps. Inside a
piece the state is (i, j, t) with t = i*n2 - j*n1, so |F_a - F_b| = |t| / (n1*n2) is
tracked in exact integers; floats are computed only where a new maximum may be. A step
is written as integer arithmetic on the comparison (LLVM turns `a if c else b` chains
back into branches, which mispredict on random merges) and indexes with unsigned
integers (no negative-index wraparound on the critical path).
"""

from __future__ import annotations

import numpy as np

from core.kernels._jit import jit

PIECES = 4
"""Pieces one walk kernel call advances together (see the module docstring)."""

_BLOCK = 4096
"""Values per block in the binning kernels: a block stays in L1 across its passes."""


# -- Kolmogorov-Smirnov -------------------------------------------------------------------


@jit
def _ks_point(gap, best, d, i, j, n1, n2):
    """Fold the CDF point (i, j), integer gap |t|, into (best gap, D as scipy computes it).

    Points with equal integer gaps have equal exact distances but may round differently,
    so D is the largest float among the points with the largest integer gap.
    """
    f = abs(i / n1 - j / n2)
    if gap > best:
        return gap, f
    if gap == best and f > d:
        return best, f
    return best, d


@jit
def _ks_step(a, b, n1, n2, i, j, t, best, d, prev):
    """Take the smaller of a[i], b[j] (both in bounds); first fold the state before it.

    The state before taking v is a CDF point when v differs from the value taken last
    (it closes a run of ties); that test is a branch, but a rarely taken one.
    """
    x = a[np.uint64(i)]
    y = b[np.uint64(j)]
    take_a = np.int64(x <= y)
    v = min(x, y)
    gap = abs(t)
    if gap >= best and v != prev:
        best, d = _ks_point(gap, best, d, i, j, n1, n2)
    t += take_a * (n1 + n2) - n1
    i += take_a
    j += 1 - take_a
    return i, j, t, best, d, v


@jit
def _ks_finish(a, b, i, j, end_a, end_b, t, best, d, prev):
    """Walk one piece from state (i, j) to its end (end_a, end_b), fold its last point."""
    n1 = a.size
    n2 = b.size
    while i < end_a and j < end_b:
        # Every step advances i or j by one, so this many steps stay in bounds.
        for _ in range(min(end_a - i, end_b - j)):
            i, j, t, best, d, prev = _ks_step(a, b, n1, n2, i, j, t, best, d, prev)
    while i < end_a:
        v = a[i]
        if v != prev:
            best, d = _ks_point(abs(t), best, d, i, j, n1, n2)
        t += n2
        i += 1
        prev = v
    while j < end_b:
        v = b[j]
        if v != prev:
            best, d = _ks_point(abs(t), best, d, i, j, n1, n2)
        t -= n1
        j += 1
        prev = v
    # A piece ends where the next begins, at a value boundary: always a CDF point.
    return _ks_point(abs(t), best, d, i, j, n1, n2)


@jit
def _lockstep(end_a, end_b, i0, j0, i1, j1, i2, j2, i3, j3):
    """Steps all four pieces can take before one of them reaches the end of a side."""
    return min(
        min(end_a[0] - i0, end_b[0] - j0),
        min(end_a[1] - i1, end_b[1] - j1),
        min(end_a[2] - i2, end_b[2] - j2),
        min(end_a[3] - i3, end_b[3] - j3),
    )


@jit
def ks_pieces(a: np.ndarray, b: np.ndarray, start_a: np.ndarray, end_a: np.ndarray, start_b: np.ndarray, end_b: np.ndarray) -> tuple[int, float]:
    """(largest integer gap |i*n2 - j*n1|, KS D) over four consecutive pieces of the walk.

    Piece k covers a[start_a[k]:end_a[k]] and b[start_b[k]:end_b[k]]; each piece starts
    at a value boundary (everything smaller is before it, as `searchsorted(side="left")`
    cuts). D is `max |i/n1 - j/n2|` over the CDF points, the float scipy computes.
    """
    n1 = a.size
    n2 = b.size
    i0, i1, i2, i3 = start_a[0], start_a[1], start_a[2], start_a[3]
    j0, j1, j2, j3 = start_b[0], start_b[1], start_b[2], start_b[3]
    t0 = i0 * n2 - j0 * n1
    t1 = i1 * n2 - j1 * n1
    t2 = i2 * n2 - j2 * n1
    t3 = i3 * n2 - j3 * n1
    b0 = b1 = b2 = b3 = -1
    d0 = d1 = d2 = d3 = 0.0
    p0 = p1 = p2 = p3 = np.nan  # no value taken yet: a piece's start is a CDF point
    while True:
        steps = _lockstep(end_a, end_b, i0, j0, i1, j1, i2, j2, i3, j3)
        if steps <= 0:
            break
        for _ in range(steps):
            i0, j0, t0, b0, d0, p0 = _ks_step(a, b, n1, n2, i0, j0, t0, b0, d0, p0)
            i1, j1, t1, b1, d1, p1 = _ks_step(a, b, n1, n2, i1, j1, t1, b1, d1, p1)
            i2, j2, t2, b2, d2, p2 = _ks_step(a, b, n1, n2, i2, j2, t2, b2, d2, p2)
            i3, j3, t3, b3, d3, p3 = _ks_step(a, b, n1, n2, i3, j3, t3, b3, d3, p3)
    b0, d0 = _ks_finish(a, b, i0, j0, end_a[0], end_b[0], t0, b0, d0, p0)
    b1, d1 = _ks_finish(a, b, i1, j1, end_a[1], end_b[1], t1, b1, d1, p1)
    b2, d2 = _ks_finish(a, b, i2, j2, end_a[2], end_b[2], t2, b2, d2, p2)
    b3, d3 = _ks_finish(a, b, i3, j3, end_a[3], end_b[3], t3, b3, d3, p3)
    best = max(b0, b1, b2, b3)
    d = 0.0
    for gap, f in ((b0, d0), (b1, d1), (b2, d2), (b3, d3)):
        if gap == best and f > d:
            d = f
    return best, d


# -- Wasserstein ----------------------------------------------------------------------------


@jit
def _w_step(a, b, n1, n2, i, j, t, total, prev):
    """Take the smaller of a[i], b[j] (both in bounds), adding |t| times the gap before it."""
    x = a[np.uint64(i)]
    y = b[np.uint64(j)]
    take_a = np.int64(x <= y)
    v = min(x, y)
    total += abs(t) * (v - prev)
    t += take_a * (n1 + n2) - n1
    i += take_a
    j += 1 - take_a
    return i, j, t, total, v


@jit
def _w_first(a, b, i, j, end_a, end_b):
    """Take a piece's first value without a gap before it: (i, j, t, value), NaN if empty."""
    n1 = a.size
    n2 = b.size
    x = a[i] if i < end_a else np.inf
    y = b[j] if j < end_b else np.inf
    if i < end_a and (j >= end_b or x <= y):
        return i + 1, j, (i + 1) * n2 - j * n1, x
    if j < end_b:
        return i, j + 1, i * n2 - (j + 1) * n1, y
    return i, j, i * n2 - j * n1, np.nan


@jit
def _w_finish(a, b, i, j, end_a, end_b, t, total, prev):
    """Walk one piece to its end, then add the gap up to the next piece's first value."""
    n1 = a.size
    n2 = b.size
    while i < end_a and j < end_b:
        for _ in range(min(end_a - i, end_b - j)):
            i, j, t, total, prev = _w_step(a, b, n1, n2, i, j, t, total, prev)
    while i < end_a:
        total += abs(t) * (a[i] - prev)
        prev = a[i]
        t += n2
        i += 1
    while j < end_b:
        total += abs(t) * (b[j] - prev)
        prev = b[j]
        t -= n1
        j += 1
    if prev == prev and (end_a < n1 or end_b < n2):
        following = min(a[end_a] if end_a < n1 else np.inf, b[end_b] if end_b < n2 else np.inf)
        total += abs(t) * (following - prev)
    return total


@jit
def wasserstein_pieces(a: np.ndarray, b: np.ndarray, start_a: np.ndarray, end_a: np.ndarray, start_b: np.ndarray, end_b: np.ndarray) -> float:
    """n1*n2 times the integral of |F_a - F_b| over four consecutive pieces of the walk.

    Pieces as in `ks_pieces`. Each gap between consecutive merged values counts once, in
    the piece of its left value; the caller divides the sum by n1*n2 once.
    """
    i0, j0, t0, p0 = _w_first(a, b, start_a[0], start_b[0], end_a[0], end_b[0])
    i1, j1, t1, p1 = _w_first(a, b, start_a[1], start_b[1], end_a[1], end_b[1])
    i2, j2, t2, p2 = _w_first(a, b, start_a[2], start_b[2], end_a[2], end_b[2])
    i3, j3, t3, p3 = _w_first(a, b, start_a[3], start_b[3], end_a[3], end_b[3])
    n1 = a.size
    n2 = b.size
    s0 = s1 = s2 = s3 = 0.0
    while True:
        steps = _lockstep(end_a, end_b, i0, j0, i1, j1, i2, j2, i3, j3)
        if steps <= 0:
            break
        for _ in range(steps):
            i0, j0, t0, s0, p0 = _w_step(a, b, n1, n2, i0, j0, t0, s0, p0)
            i1, j1, t1, s1, p1 = _w_step(a, b, n1, n2, i1, j1, t1, s1, p1)
            i2, j2, t2, s2, p2 = _w_step(a, b, n1, n2, i2, j2, t2, s2, p2)
            i3, j3, t3, s3, p3 = _w_step(a, b, n1, n2, i3, j3, t3, s3, p3)
    s0 = _w_finish(a, b, i0, j0, end_a[0], end_b[0], t0, s0, p0)
    s1 = _w_finish(a, b, i1, j1, end_a[1], end_b[1], t1, s1, p1)
    s2 = _w_finish(a, b, i2, j2, end_a[2], end_b[2], t2, s2, p2)
    s3 = _w_finish(a, b, i3, j3, end_a[3], end_b[3], t3, s3, p3)
    return s0 + s1 + s2 + s3


# -- partitioning and ranges ------------------------------------------------------------------


@jit
def partition_finite(values: np.ndarray, pivot: float) -> tuple[np.ndarray, int, int]:
    """(buffer, n_low, n_high): values < pivot at the front, >= pivot at the back, NaN dropped.

    Branch-free: each value is written to both free ends and only the matching end moves
    on, so random data costs no mispredictions. Order inside each part is arbitrary.
    """
    n = values.size
    out = np.empty(n)
    low = 0
    high = n - 1
    for x in values:
        out[low] = x
        out[high] = x
        is_low = x < pivot
        is_high = x >= pivot
        low += 1 if is_low else 0
        high -= 1 if is_high else 0
    return out, low, n - 1 - high


@jit
def finite_min_max(values: np.ndarray) -> tuple[float, float, int]:
    """(min, max, count) of the non-NaN values (NaN may be present); count 0: none."""
    lo = np.inf
    hi = -np.inf
    count = 0
    for x in values:
        lo = x if x < lo else lo
        hi = x if x > hi else hi
        count += 1 if x == x else 0
    return lo, hi, count


# -- binning ----------------------------------------------------------------------------------


@jit
def _count_at_least(values, edge):
    count = 0
    for i in range(values.size):
        count += 1 if values[i] >= edge else 0
    return count


@jit
def _count_finite(values):
    count = 0
    for i in range(values.size):
        count += 1 if values[i] == values[i] else 0
    return count


@jit
def quantile_bin_counts(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """Counts per PSI bin: bin k holds edges[k-1] <= x < edges[k]; NaN may be present, skipped.

    Counted as "how many values are >= each edge" (plus how many are not NaN), one
    vectorised compare-and-count pass per edge over each L1-sized block, then differenced:
    no scatter increments, whose store-to-load chains would serialise.
    """
    m = inner_edges.size
    at_least = np.zeros(m, dtype=np.int64)
    finite = 0
    n = values.size
    for block_start in range(0, n, _BLOCK):
        block = values[block_start : min(block_start + _BLOCK, n)]
        finite += _count_finite(block)
        for k in range(m):
            at_least[k] += _count_at_least(block, inner_edges[k])
    counts = np.empty(m + 1, dtype=np.int64)
    above = finite
    for k in range(m):
        counts[k] = above - at_least[k]
        above = at_least[k]
    counts[m] = above
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
def _bin_block(values, edges, step, out):
    """Bin indices of one block exactly as numpy.histogram finds them; NaN gets index `bins`.

    numpy estimates the bin as trunc((x - lo) / span * bins), then corrects it by one
    against the edges, so the result depends only on the edges. When the edges are
    exactly `k * step + lo` (linspace's arithmetic, checked by the caller; `step` > 0)
    they are recomputed in registers instead of loaded: no gathers, so the loop
    vectorises. Indices are clamped to the table, whatever the input.
    """
    bins = edges.size - 1
    lo = edges[0]
    span = edges[bins] - lo
    last = float(bins - 1)
    for i in range(values.size):
        x = values[i]
        finite = x == x
        y = x if finite else lo
        k = np.trunc((y - lo) / span * bins)
        k = k if k > 0.0 else 0.0
        k = k if k < last else last
        if step > 0.0:
            k = k - 1.0 if y < k * step + lo else k
            k = k + 1.0 if (k != last) & (y >= (k + 1.0) * step + lo) else k
        else:
            k = k - 1.0 if y < edges[int(k)] else k
            k = k + 1.0 if (k != last) & (y >= edges[int(k) + 1]) else k
        k = k if k > 0.0 else 0.0
        out[i] = np.int32(k if finite else last + 1.0)


@jit
def uniform_bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """`numpy.histogram(values, edges)[0]` for equal-width `edges` spanning every value.

    NaN may be present and is skipped. Indices are computed a block at a time (vectorised,
    see `_bin_block`), then counted into four interleaved tables so that runs of the same
    bin do not wait on each other's stores.
    """
    bins = edges.size - 1
    lo = edges[0]
    step = (edges[bins] - lo) / bins
    for k in range(bins):
        if k * step + lo != edges[k]:
            step = 0.0  # not linspace's arithmetic: look the edges up instead
            break
    tables = np.zeros((4, bins + 1), dtype=np.int64)
    index = np.empty(_BLOCK, dtype=np.int32)
    n = values.size
    for block_start in range(0, n, _BLOCK):
        block = values[block_start : min(block_start + _BLOCK, n)]
        _bin_block(block, edges, step, index)
        m = block.size
        quads = m - m % 4
        for i in range(0, quads, 4):
            tables[0, index[i]] += 1
            tables[1, index[i + 1]] += 1
            tables[2, index[i + 2]] += 1
            tables[3, index[i + 3]] += 1
        for i in range(quads, m):
            tables[0, index[i]] += 1
    counts = tables[0] + tables[1] + tables[2] + tables[3]
    return counts[:bins]


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
