"""Drift kernels against scipy and numpy on the same samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from core.kernels import drift
from tests.kernels.strategies import finite, samples

# scipy warns when its exact KS method falls back, or n rounds to 0: expected here.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def empty_gives_nan(value: float, *samples: np.ndarray) -> bool:
    """True (after checking the result is NaN) when a sample has no non-NaN value."""
    if any(sample.size == 0 for sample in samples):
        assert math.isnan(value)
        return True
    return False


def numpy_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """The issue's PSI definition written with numpy: quantile edges, open outer bins."""
    edges = np.quantile(reference, np.arange(1, bins) / bins)
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins) / reference.size
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins) / current.size
    r, c = np.maximum(r, 1e-4), np.maximum(c, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def scipy_js(reference: np.ndarray, current: np.ndarray, bins: int = 30) -> float:
    lo, hi = min(reference.min(), current.min()), max(reference.max(), current.max())
    p = np.histogram(reference, bins=bins, range=(lo, hi))[0]
    q = np.histogram(current, bins=bins, range=(lo, hi))[0]
    return float(jensenshannon(p, q))


@given(samples(), samples())
def test_ks_statistic_equals_scipy(reference, current):
    a, b = finite(reference), finite(current)
    d = drift.ks_statistic(reference, current)
    if not empty_gives_nan(d, a, b):
        assert d == stats.ks_2samp(a, b).statistic


@given(samples(), samples())
def test_ks_p_value_agrees_with_scipy_asymptotic(reference, current):
    a, b = finite(reference), finite(current)
    d, p = drift.ks_test(reference, current)
    if empty_gives_nan(d, a, b):
        assert math.isnan(p)
        return
    expected = stats.ks_2samp(a, b, method="asymp")
    assert d == stats.ks_2samp(a, b).statistic
    assert d == pytest.approx(expected.statistic, rel=1e-12)
    if math.isnan(expected.pvalue):
        assert math.isnan(p)
        return
    assert (p < 0.05) == (expected.pvalue < 0.05)
    if expected.pvalue >= 1e-6:
        assert p == pytest.approx(expected.pvalue, rel=0.01)


def test_ks_p_value_on_large_drifted_and_undrifted_samples():
    rng = np.random.default_rng(3)
    reference = rng.normal(size=200_000)
    for shift, drifted in ((0.0, False), (0.004, None), (0.02, True)):
        current = rng.normal(shift, size=150_000)
        d, p = drift.ks_test(reference, current)
        expected = stats.ks_2samp(reference, current, method="asymp")
        assert d == expected.statistic
        assert (p < 0.05) == (expected.pvalue < 0.05)
        if drifted is not None:
            assert (p < 0.05) == drifted
        if expected.pvalue >= 1e-6:
            assert p == pytest.approx(expected.pvalue, rel=0.01)


@given(samples(), samples())
def test_wasserstein_equals_scipy(reference, current):
    a, b = finite(reference), finite(current)
    if empty_gives_nan(drift.wasserstein(reference, current), a, b):
        return
    expected = stats.wasserstein_distance(a, b)
    assert drift.wasserstein(reference, current) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@given(samples(), samples(), st.integers(1, 12))
def test_psi_equals_numpy_definition(reference, current, bins):
    a, b = finite(reference), finite(current)
    if empty_gives_nan(drift.psi(reference, current, bins=bins), a, b):
        return
    expected = numpy_psi(a, b, bins)
    assert drift.psi(reference, current, bins=bins) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(samples(nan=False), samples())
def test_psi_bins_follow_numpy_quantiles(reference, current):
    """An identical batch has PSI 0; bin membership matches numpy's searchsorted exactly."""
    assert drift.psi(reference, reference) == 0.0
    profile = drift.ReferenceProfile.numeric(reference)
    edges = np.quantile(reference, np.arange(1, 10) / 10)
    assert np.array_equal(profile.psi_edges, edges)
    assert np.array_equal(profile.psi_counts, np.bincount(np.searchsorted(edges, reference, side="right"), minlength=10))


@given(samples(), samples(), st.integers(1, 40))
def test_jensen_shannon_equals_scipy(reference, current, bins):
    a, b = finite(reference), finite(current)
    if empty_gives_nan(drift.jensen_shannon(reference, current, bins=bins), a, b):
        return
    expected = scipy_js(a, b, bins)
    assert drift.jensen_shannon(reference, current, bins=bins) == pytest.approx(expected, rel=1e-9, abs=1e-7)


@given(st.lists(st.integers(-1, 5), min_size=1, max_size=80), st.lists(st.integers(-1, 8), min_size=1, max_size=80))
def test_chi2_matches_scipy_chisquare_with_pooled_unseen_cell(reference, current):
    reference, current = np.array(reference), np.array(current)
    n_categories = 6
    statistic, p_value = drift.chi2_test(reference, current, n_categories)
    ref_counts = np.bincount(reference[reference >= 0], minlength=n_categories)
    cur_counts = np.bincount(np.minimum(current[current >= 0], n_categories), minlength=n_categories + 1)
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        assert math.isnan(statistic) and math.isnan(p_value)
        return
    seen = ref_counts > 0
    observed = list(cur_counts[:n_categories][seen])
    shares = list(ref_counts[seen] / ref_counts.sum())
    unseen = cur_counts[:n_categories][~seen].sum() + cur_counts[n_categories]
    if unseen:
        observed.append(unseen)
        shares.append(0.5 / ref_counts.sum())
    shares = np.array(shares) / np.sum(shares)
    if len(observed) == 1:
        assert statistic == pytest.approx(0.0, abs=1e-9) and p_value == 1.0
        return
    expected = stats.chisquare(observed, shares * np.sum(observed))
    assert statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-9)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_chi2_on_twenty_known_categories_is_scipy_chisquare():
    rng = np.random.default_rng(5)
    reference = rng.integers(0, 20, 5000)
    current = rng.integers(0, 20, 4000)
    expected = stats.chisquare(np.bincount(current, minlength=20), np.bincount(reference, minlength=20) / 5000 * 4000)
    statistic, p_value = drift.chi2_test(reference, current, 20)
    assert statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9)


def test_new_category_is_drift():
    reference = np.array([0, 1] * 50)
    statistic, p_value = drift.chi2_test(reference, np.array([0, 1, 2, 2] * 25), 2)
    assert p_value < 1e-6


def test_three_values_against_a_million():
    rng = np.random.default_rng(7)
    big = rng.normal(size=1_000_000)
    small = np.array([-0.5, 0.1, 2.0])
    for a, b in ((small, big), (big, small)):
        d, p = drift.ks_test(a, b)
        expected = stats.ks_2samp(a, b, method="asymp")
        assert d == expected.statistic
        assert p == pytest.approx(expected.pvalue, rel=0.01)
        assert drift.wasserstein(a, b) == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
        assert drift.psi(a, b) == pytest.approx(numpy_psi(a, b), rel=1e-9)
        assert drift.jensen_shannon(a, b) == pytest.approx(scipy_js(a, b), rel=1e-9)


def test_integer_arrays_are_accepted():
    reference = np.array([1, 2, 2, 3, 7], dtype=np.int32)
    current = np.array([2, 3, 3, 9], dtype=np.int64)
    assert drift.ks_statistic(reference, current) == stats.ks_2samp(reference, current).statistic
    assert drift.wasserstein(reference, current) == pytest.approx(stats.wasserstein_distance(reference, current))


@pytest.mark.parametrize("function", [drift.ks_statistic, drift.wasserstein, drift.psi, drift.jensen_shannon])
def test_all_nan_or_empty_gives_nan(function):
    values = np.array([1.0, 2.0, 3.0])
    for reference, current in ((np.full(4, np.nan), values), (values, np.full(2, np.nan)), (np.array([]), values)):
        assert math.isnan(function(reference, current))
    assert all(math.isnan(v) for v in drift.ks_test(values, np.array([np.nan])))
    assert all(math.isnan(v) for v in drift.chi2_test(np.array([0, 1]), np.array([-1, -1]), 2))


def test_nan_is_ignored_not_counted():
    values = np.array([0.3, 1.0, 2.5, 4.0])
    with_nan = np.array([np.nan, 0.3, 1.0, np.nan, 2.5, 4.0])
    other = np.array([0.1, 2.0, 3.0])
    assert drift.ks_test(with_nan, other) == drift.ks_test(values, other)
    assert drift.wasserstein(with_nan, other) == drift.wasserstein(values, other)
    assert drift.psi(with_nan, other, bins=3) == drift.psi(values, other, bins=3)


def test_bad_input_is_a_clear_value_error():
    with pytest.raises(ValueError, match="1-D"):
        drift.ks_statistic(np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="numbers"):
        drift.wasserstein(np.array(["a", "b"]), np.zeros(3))
    with pytest.raises(ValueError, match="bins"):
        drift.psi(np.zeros(3), np.zeros(3), bins=0)
    with pytest.raises(ValueError, match="infinite"):
        drift.jensen_shannon(np.array([1.0, np.inf]), np.zeros(3))
    with pytest.raises(ValueError, match="n_categories"):
        drift.chi2_test(np.array([0, 5]), np.array([0]), 3)
