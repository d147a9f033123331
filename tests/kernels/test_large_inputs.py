"""Inputs above the two-thread threshold: the split paths give the reference's numbers.

The hypothesis tests use small samples, which run both halves on one thread; these use
samples past `_parallel.THRESHOLD`, with ties straddling the cut points, NaN, and sizes
far apart, so the partitioned sort, the eight-piece walks and the halved counts run.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as sk

from core.kernels import _sample, _walk, drift, metrics
from core.kernels._parallel import THRESHOLD
from core.kernels.drift import ReferenceProfile

N = THRESHOLD + 50_001


def sample(rng: np.random.Generator, kind: str, n: int = N) -> np.ndarray:
    if kind == "ties":
        return rng.integers(0, 40, n).astype(float)
    if kind == "nan":
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        return values
    return rng.normal(0.05, 1.2, n)


@pytest.mark.parametrize("kind", ["ties", "nan", "normal"])
def test_sort_finite_equals_numpy(kind):
    values = sample(np.random.default_rng(1), kind)
    expected = np.sort(values[~np.isnan(values)])
    assert np.array_equal(_sample.sort_finite(values), expected)


@pytest.mark.parametrize(("ref_kind", "cur_kind"), [("ties", "ties"), ("nan", "normal"), ("normal", "nan")])
def test_ks_and_wasserstein_equal_scipy(ref_kind, cur_kind):
    rng = np.random.default_rng(2)
    reference = sample(rng, ref_kind)
    current = sample(rng, cur_kind, N - 12_345)
    a, b = reference[~np.isnan(reference)], current[~np.isnan(current)]
    profile = ReferenceProfile.numeric(reference)
    expected_d = stats.ks_2samp(a, b).statistic
    assert drift.ks_statistic(reference, current) == expected_d
    assert profile.ks_statistic(current) == expected_d
    expected_w = stats.wasserstein_distance(a, b)
    assert drift.wasserstein(reference, current) == pytest.approx(expected_w, rel=1e-9)
    assert profile.wasserstein(current) == pytest.approx(expected_w, rel=1e-9)


def test_a_few_values_against_many_on_either_side():
    rng = np.random.default_rng(3)
    many = sample(rng, "ties")
    few = np.array([3.0, 3.0, 17.5, 39.0])
    for a, b in ((few, many), (many, few)):
        assert drift.ks_statistic(a, b) == stats.ks_2samp(a, b).statistic
        assert drift.wasserstein(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)


@pytest.mark.parametrize("kind", ["ties", "nan", "normal"])
def test_psi_and_jensen_shannon_counts_equal_numpy(kind):
    rng = np.random.default_rng(4)
    reference = sample(rng, "normal")
    current = sample(rng, kind)
    finite = current[~np.isnan(current)]
    edges = np.quantile(reference, np.arange(1, 10) / 10)
    assert np.array_equal(_sample.quantile_counts(current, edges), np.bincount(np.searchsorted(edges, finite, side="right"), minlength=10))
    lo, hi = min(reference.min(), finite.min()), max(reference.max(), finite.max())
    hist_edges = np.histogram_bin_edges(finite, bins=30, range=(lo, hi))
    assert np.array_equal(_sample.uniform_counts(current, hist_edges), np.histogram(finite, bins=30, range=(lo, hi))[0])
    expected_js = jensenshannon(np.histogram(reference, bins=30, range=(lo, hi))[0], np.histogram(finite, bins=30, range=(lo, hi))[0])
    assert drift.jensen_shannon(reference, current) == pytest.approx(expected_js, rel=1e-9)
    assert ReferenceProfile.numeric(reference).jensen_shannon(current) == pytest.approx(expected_js, rel=1e-9)


def test_min_max_of_halves():
    values = sample(np.random.default_rng(5), "nan")
    finite = values[~np.isnan(values)]
    assert _sample.finite_min_max(values) == (finite.min(), finite.max(), finite.size)


def test_histogram_edges_off_linspace_are_looked_up():
    """Edges that are not linspace's arithmetic take the edge-lookup path, still numpy's counts."""
    values = sample(np.random.default_rng(6), "normal", 10_000)
    edges = np.linspace(values.min(), values.max(), 31)
    edges[7] = np.nextafter(edges[7], np.inf)
    values[:3] = edges[7], np.nextafter(edges[7], -np.inf), edges[12]
    assert np.array_equal(_walk.uniform_bin_counts(values, edges), np.histogram(values, edges)[0])


@pytest.mark.parametrize("labels", ["ints", "shifted", "strings"])
def test_roc_auc_with_ties_equals_sklearn(labels):
    rng = np.random.default_rng(7)
    y = (rng.random(N) < 0.3).astype(np.int64)
    score = (0.2 * y + rng.random(N)).round(2)
    if labels == "shifted":
        y = y * 7 - 3
    elif labels == "strings":
        y = np.array(["no", "yes"])[y]
    assert metrics.roc_auc(y, score) == pytest.approx(sk.roc_auc_score(y, score), rel=1e-12)


def test_large_binary_tables_and_log_loss_equal_sklearn():
    rng = np.random.default_rng(8)
    y = (rng.random(N) < 0.4).astype(np.int64)
    proba = np.clip(0.3 * y + rng.random(N) * 0.7, 0, 1)
    pred = (proba > 0.5).astype(np.int64)
    assert np.array_equal(metrics.confusion_counts(y, pred, 2), sk.confusion_matrix(y, pred))
    assert metrics.f1(y, pred) == pytest.approx(sk.f1_score(y, pred), rel=1e-12)
    assert metrics.log_loss(y, proba) == pytest.approx(sk.log_loss(y, proba), rel=1e-10)
    assert metrics.log_loss(y + 4, proba) == pytest.approx(sk.log_loss(y + 4, proba), rel=1e-10)
    proba[N - 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        metrics.log_loss(y, proba)
    proba[N - 1] = 1.5
    with pytest.raises(ValueError, match="greater than 1"):
        metrics.log_loss(y, proba)


def test_roc_auc_input_errors_on_large_input():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, N)
    score = rng.random(N)
    score[N // 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        metrics.roc_auc(y, score)
    score[N // 2] = 0.5
    y[N - 1] = 2
    with pytest.raises(ValueError, match="3 classes"):
        metrics.roc_auc(y, score)
