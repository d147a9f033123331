"""Kernels over counts: category counting and the statistics computed from two histograms.

Category codes follow pandas: a negative code is a missing value (skipped), codes
`0..n_categories-1` are the reference's categories, and any larger code is a category the
reference never saw. Categories with no reference count are pooled into one extra cell,
so a new category shows up as drift instead of a division by zero.
"""

from __future__ import annotations

import math

import numpy as np

from core.kernels._jit import jit

PSI_FLOOR = 1e-4


@jit
def category_counts(codes: np.ndarray, n_categories: int) -> np.ndarray:
    """Counts of codes 0..n_categories-1, then one last cell for every larger code."""
    counts = np.zeros(n_categories + 1, dtype=np.int64)
    for c in codes:
        if c < 0:
            continue
        if c >= n_categories:
            counts[n_categories] += 1
        else:
            counts[c] += 1
    return counts


@jit
def pool_unseen(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells the reference has (count > 0), plus one pooled cell for everything else.

    Both inputs come from `category_counts` (last cell: codes beyond the reference). The
    pooled cell is kept only when the current batch has something in it.
    """
    kept = 0
    pooled = 0
    for k in range(reference.size):
        if reference[k] > 0:
            kept += 1
        else:
            pooled += current[k]
    size = kept + (1 if pooled > 0 else 0)
    ref_cells = np.zeros(size, dtype=np.int64)
    cur_cells = np.zeros(size, dtype=np.int64)
    i = 0
    for k in range(reference.size):
        if reference[k] > 0:
            ref_cells[i] = reference[k]
            cur_cells[i] = current[k]
            i += 1
    if pooled > 0:
        cur_cells[size - 1] = pooled
    return ref_cells, cur_cells


@jit
def chi2_statistic(ref_cells: np.ndarray, cur_cells: np.ndarray) -> float:
    """Pearson's statistic of current counts against the reference proportions.

    A pooled cell (reference count 0) gets half a reference observation as its expected
    share: the smallest proportion the reference cannot rule out.
    """
    n_ref = ref_cells.sum()
    n_cur = cur_cells.sum()
    shares = np.empty(ref_cells.size)
    for k in range(ref_cells.size):
        shares[k] = ref_cells[k] / n_ref if ref_cells[k] > 0 else 0.5 / n_ref
    shares /= shares.sum()
    statistic = 0.0
    for k in range(ref_cells.size):
        expected = shares[k] * n_cur
        statistic += (cur_cells[k] - expected) ** 2 / expected
    return statistic


@jit
def js_distance(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) of two histograms, as scipy computes it."""
    p = p_counts / p_counts.sum()
    q = q_counts / q_counts.sum()
    total = 0.0
    for k in range(p.size):
        m = (p[k] + q[k]) / 2.0
        if p[k] > 0.0:
            total += p[k] * math.log(p[k] / m)
        if q[k] > 0.0:
            total += q[k] * math.log(q[k] / m)
    return math.sqrt(total / 2.0)


@jit
def psi_from_counts(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """sum((c - r) * ln(c / r)) over proportions floored at 1e-4."""
    n_ref = ref_counts.sum()
    n_cur = cur_counts.sum()
    total = 0.0
    for k in range(ref_counts.size):
        r = max(ref_counts[k] / n_ref, PSI_FLOOR)
        c = max(cur_counts[k] / n_cur, PSI_FLOOR)
        total += (c - r) * math.log(c / r)
    return total
