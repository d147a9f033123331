"""numba kernels for drift statistics (`drift`), model metrics (`metrics`) and the
multivariate drift detector's reconstruction errors (`reconstruction`).

Pure functions on numpy arrays: no I/O, no SQLite, no pandas (tables are the data
stage's: `core.data.drift.drift_report` runs these kernels column by column). Importing
this package compiles nothing; kernels compile on first call into numba's on-disk cache, and `warmup()` (run by `pitboard warmup` at install)
makes that first call for every signature the engine uses, so no interactive command
ever waits for the JIT. It compiles the drift kernels first: `make demo` runs it beside
the demo's build, which compiles the metric kernels it needs itself, while the replay
that follows needs the drift ones.
"""

from __future__ import annotations

import time


def warmup() -> float:
    """Compile (or load from the on-disk cache) every kernel; returns the seconds it took.

    Calls each public function once on tiny arrays, covering every path that selects a
    different kernel: numeric and categorical drift, the drift report, integer and
    string labels, binary and multi-class probabilities.
    """
    started = time.perf_counter()
    import numpy as np

    from core.kernels import _kolmogorov, drift, metrics, reconstruction
    from core.kernels.profile import sorted_finite

    ref = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan])
    cur = np.array([0.5, 1.5, 2.5, 3.5, 9.0, np.nan])
    drift.ks_test(ref, cur)
    drift.wasserstein(ref, cur)
    drift.psi(ref, cur)
    drift.jensen_shannon(ref, cur)
    drift.chi2_test(np.array([0, 1, 1, 2]), np.array([0, 1, 3, -1]), 3)
    for n, d in ((10, 0.05), (10, 0.2), (10, 0.5), (10, 0.95), (100, 0.3), (500, 0.01), (500, 0.1), (200_000, 0.005)):
        _kolmogorov.kolmogorov_sf(n, d)
    profile = drift.ReferenceProfile.from_bytes(drift.ReferenceProfile.numeric(ref).to_bytes())
    profile.ks_test(cur)
    profile.wasserstein(cur)
    profile.psi(cur)
    profile.psi(cur, bins=4)
    profile.jensen_shannon(cur)
    # The paths of the drift report: a sorted numeric reference against a sorted current
    # sample, and category codes against small and large categorical references.
    ordered = sorted_finite(ref, "reference")
    frozen = ref.copy()
    frozen.flags.writeable = False  # columns of pandas frames arrive as read-only views
    sorted_finite(frozen, "reference")
    for reference in (ordered, np.tile(ordered, 200)):
        numeric = drift.ReferenceProfile.from_sorted(np.sort(reference))
        numeric.ks_test_sorted(ordered[:5])
        numeric.wasserstein_sorted(ordered[:5])
        numeric.psi_sorted(ordered[:5])
        codes = np.searchsorted(ordered[:3], reference)
        categorical = drift.ReferenceProfile.categorical(codes, ["a", "b", "c", "d"])
        categorical.chi2_test(codes[::-1].copy())
        categorical.jensen_shannon(codes[:5])
        categorical.psi(codes[:5])
    reconstruction.reconstruction_sums(np.column_stack([ref, ref]), np.zeros((len(ref), 1), dtype=np.int64),
                                       np.array([2, 4]), np.zeros(4), np.ones(4), np.eye(4)[:2], np.array([0, 1, 2, 2]), 3)

    labels = np.array([0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.8, 0.6, 0.4, 0.6])
    words = np.array(["a", "b", "b", "a", "c"])
    metrics.roc_auc(labels, scores)
    metrics.confusion_counts(labels, labels[::-1].copy(), 2)
    metrics.accuracy(labels, labels[::-1].copy())
    metrics.accuracy(words, words[::-1].copy())
    metrics.f1(labels, labels[::-1].copy())
    metrics.f1(labels + 5000, labels + 2, average="macro")
    metrics.f1(words, words[::-1].copy(), average="macro")
    metrics.log_loss(labels, scores)
    metrics.log_loss(words[:4], scores[:4])
    metrics.log_loss(np.array([0, 1, 2, 1]), np.full((4, 3), 1 / 3))
    metrics.rmse(scores, scores[::-1].copy())
    metrics.mae(scores, scores[::-1].copy())
    metrics.r2(scores, scores[::-1].copy())
    _warm_treeshap()
    return time.perf_counter() - started


def _warm_treeshap() -> None:
    """One stump through TreeSHAP and its expected value."""
    import numpy as np

    from core.kernels import treeshap

    left, right = np.array([1, -1, -1]), np.array([2, -1, -1])
    values, cover = np.array([[0.0], [1.0], [2.0]]), np.array([2.0, 1.0, 1.0])
    roots = np.array([0])
    treeshap.tree_shap(np.array([[0.5]]), roots, 1, left, right, np.array([0, -2, -2]), np.array([0.0, 0.0, 0.0]),
                       np.zeros(3, dtype=bool), values, cover)
    treeshap.expected_value(roots, left, right, values, cover)
