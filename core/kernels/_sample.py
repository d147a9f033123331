"""Numeric samples to the statistics' raw ingredients, each large job split over two threads.

The `_walk` kernels do the work; this module cuts it in two (`_parallel.halves`) and puts
the halves back together: a sample is sorted as two partitions sorted side by side, a
merge walk as two runs of four pieces each, a histogram as the sum of two halves' counts.
Inputs are contiguous float64 arrays (`_inputs.as_float_array` makes them so); "sorted"
arguments are sorted and NaN-free.
"""

from __future__ import annotations

import numpy as np

from core.kernels import _walk
from core.kernels._parallel import halves

_PIVOT_SAMPLE = 1024
"""About this many values, evenly spaced, estimate a median (`estimated_median`)."""


def sort_finite(values: np.ndarray) -> np.ndarray:
    """The non-NaN values, sorted: partitioned at an estimated median, the parts sorted at once."""
    buffer, n_low, n_high = _walk.partition_finite(values, estimated_median(values))
    low = buffer[:n_low]
    high = buffer[buffer.size - n_high :]
    halves(buffer.size, low.sort, high.sort)
    if n_low + n_high < buffer.size:
        buffer[n_low : n_low + n_high] = high  # close the gap the NaN left (numpy copes with overlap)
    return buffer[: n_low + n_high]


def estimated_median(values: np.ndarray) -> float:
    """The median of about 1,024 evenly spaced values, NaN left out (0.0 if all are NaN).

    A pivot that splits a sample into two parts of about the same size, for the price
    of sorting a thousand values.
    """
    sample = np.sort(values[:: max(1, values.size // _PIVOT_SAMPLE)])
    finite = int(np.searchsorted(sample, np.nan, side="left"))
    return float(sample[finite // 2]) if finite else 0.0


def ks_gap(a: np.ndarray, b: np.ndarray) -> float:
    """max |F_a - F_b| over every value of two sorted non-empty samples, as scipy computes it."""
    first, second = _walk_halves(_walk.ks_pieces, a, b)
    best = max(first[0], second[0])
    return max(d for gap, d in (first, second) if gap == best)


def wasserstein_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Integral of |F_a - F_b| (the 1-Wasserstein distance) of two sorted non-empty samples."""
    first, second = _walk_halves(_walk.wasserstein_pieces, a, b)
    return (first + second) / (float(a.size) * float(b.size))


def _walk_halves(kernel, a: np.ndarray, b: np.ndarray) -> tuple:
    """`kernel` over the first four and the last four of eight pieces of the merge walk."""
    bounds_a, bounds_b = piece_bounds(a, b)

    def run(first: int) -> object:
        last = first + _walk.PIECES
        return kernel(a, b, bounds_a[first:last], bounds_a[first + 1 : last + 1], bounds_b[first:last], bounds_b[first + 1 : last + 1])

    return halves(a.size + b.size, lambda: run(0), lambda: run(_walk.PIECES))


def piece_bounds(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where eight pieces of the merge walk start and end in `a` and in `b` (9 bounds each).

    Pieces are cut at eight quantiles of the larger sample, found in both by binary
    search, so each holds about an eighth of the merged values and starts at a value
    boundary (`searchsorted(side="left")`), as the walk kernels require.
    """
    pieces = 2 * _walk.PIECES
    big = a if a.size >= b.size else b
    cuts = big[(np.arange(1, pieces) * big.size) // pieces]
    bounds_a = np.concatenate(([0], np.searchsorted(a, cuts, side="left"), [a.size]))
    bounds_b = np.concatenate(([0], np.searchsorted(b, cuts, side="left"), [b.size]))
    return bounds_a, bounds_b


def quantile_counts(values: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    """`_walk.quantile_bin_counts` of the two halves of `values` at once, added up."""
    first, second = _split(values, lambda part: _walk.quantile_bin_counts(part, inner_edges))
    return first + second


def uniform_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """`_walk.uniform_bin_counts` of the two halves of `values` at once, added up."""
    first, second = _split(values, lambda part: _walk.uniform_bin_counts(part, edges))
    return first + second


def finite_min_max(values: np.ndarray) -> tuple[float, float, int]:
    """(min, max, count) of the non-NaN values, the two halves at once; count 0: none."""
    (lo1, hi1, n1), (lo2, hi2, n2) = _split(values, _walk.finite_min_max)
    return min(lo1, lo2), max(hi1, hi2), n1 + n2


def _split(values: np.ndarray, count) -> tuple:
    middle = values.size // 2
    return halves(values.size, lambda: count(values[:middle]), lambda: count(values[middle:]))
