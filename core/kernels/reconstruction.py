"""PCA reconstruction error of rows, the multivariate drift statistic of NannyML's
`DataReconstructionDriftCalculator`, summed so that windows can be merged.

A row is standardised (numeric features), one-hot coded (categorical ones: one column per
reference category, all zeros for a category the reference never saw), projected onto the
reference's principal components and back; its error is the Euclidean distance between
the standardised row and its reconstruction. Missing values take the reference mean
(zero once standardised), as NannyML's imputer does, so a missing value adds no error.

The kernel returns sums, not means: the sum of row errors and, per feature, the sum of
squared errors over its columns. Sums of parts add up to the sums of the whole, so a day
merged from hours has exactly the error of its rows, and the per-feature squared errors
say which features the reconstruction fails on. The one-hot columns are never built:
each row's design vector lives in a buffer of the kernel, so a million rows cost their
inputs and nothing more.
"""

from __future__ import annotations

import math

import numpy as np

from core.kernels._jit import jit
from core.kernels._parallel import halves


@jit
def _sums(numeric: np.ndarray, codes: np.ndarray, offsets: np.ndarray, mean: np.ndarray, scale: np.ndarray,
          components: np.ndarray, feature_of: np.ndarray, n_features: int, lo: int, hi: int) -> tuple[np.ndarray, float]:
    n_numeric = numeric.shape[1]
    n_codes = codes.shape[1]
    d = mean.shape[0]
    k = components.shape[0]
    z = np.zeros(d)
    projected = np.zeros(k)
    sse = np.zeros(n_features)
    distance = 0.0
    for i in range(lo, hi):
        for j in range(n_numeric):
            v = numeric[i, j]
            z[j] = 0.0 if math.isnan(v) else (v - mean[j]) / scale[j]
        for c in range(n_codes):
            code = codes[i, c]
            for j in range(offsets[c], offsets[c + 1]):
                if code < 0:
                    z[j] = 0.0
                else:
                    z[j] = ((1.0 if code == j - offsets[c] else 0.0) - mean[j]) / scale[j]
        for m in range(k):
            s = 0.0
            for j in range(d):
                s += components[m, j] * z[j]
            projected[m] = s
        total = 0.0
        for j in range(d):
            r = 0.0
            for m in range(k):
                r += components[m, j] * projected[m]
            e = (z[j] - r) * (z[j] - r)
            sse[feature_of[j]] += e
            total += e
        distance += math.sqrt(total)
    return sse, distance


def reconstruction_sums(numeric: np.ndarray, codes: np.ndarray, offsets: np.ndarray, mean: np.ndarray,
                        scale: np.ndarray, components: np.ndarray, feature_of: np.ndarray,
                        n_features: int) -> tuple[np.ndarray, float]:
    """(per-feature sum of squared errors, sum of row errors) over the rows.

    `numeric` is (rows, numeric features) float64 with NaN for missing; `codes` is
    (rows, categorical features) int64, -1 missing (row-major: a row's values sit together); categorical feature c owns design
    columns offsets[c] .. offsets[c+1] (after the numeric ones), one per reference category.
    `mean` and `scale` standardise the design columns, `components` (k, columns) are the
    principal axes, and `feature_of` maps each column to its feature's index. Large inputs
    run as two halves on two threads.
    """
    numeric = np.ascontiguousarray(numeric, dtype=np.float64)
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    n = numeric.shape[0]
    args = (numeric, codes, np.asarray(offsets, dtype=np.int64), np.asarray(mean, dtype=np.float64),
            np.asarray(scale, dtype=np.float64), np.ascontiguousarray(components, dtype=np.float64),
            np.asarray(feature_of, dtype=np.int64), int(n_features))
    middle = n // 2
    cells = n * max(1, len(mean))
    (sse_a, dist_a), (sse_b, dist_b) = halves(cells, lambda: _sums(*args, 0, middle), lambda: _sums(*args, middle, n))
    return sse_a + sse_b, float(dist_a + dist_b)
