"""ReferenceProfile gives the functions' numbers, survives bytes, and rejects corrupt bytes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from core.kernels import drift
from core.kernels.drift import ReferenceProfile
from tests.kernels.strategies import samples


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=100)
@given(samples(), samples())
def test_profile_methods_equal_the_functions_after_a_bytes_round_trip(reference, current):
    profile = ReferenceProfile.from_bytes(ReferenceProfile.numeric(reference).to_bytes())
    assert same(profile.ks_statistic(current), drift.ks_statistic(reference, current))
    assert all(same(a, b) for a, b in zip(profile.ks_test(current), drift.ks_test(reference, current)))
    assert same(profile.wasserstein(current), drift.wasserstein(reference, current))
    assert same(profile.psi(current), drift.psi(reference, current))
    assert same(profile.psi(current, bins=4), drift.psi(reference, current, bins=4))
    assert same(profile.jensen_shannon(current), drift.jensen_shannon(reference, current))


def test_profile_summarises_the_reference():
    values = np.array([3.0, np.nan, 1.0, 2.0, 2.0, np.nan])
    profile = ReferenceProfile.numeric(values)
    assert (profile.n, profile.n_missing) == (4, 2)
    assert profile.sorted_values.tolist() == [1.0, 2.0, 2.0, 3.0]
    assert profile.mean == 2.0 and profile.std == pytest.approx(np.std([1, 2, 2, 3]))
    assert profile.psi_counts.sum() == 4


def test_categorical_profile_round_trip_and_tests():
    profile = ReferenceProfile.categorical(np.array([0, 1, 1, 2, -1]), ["a", "b", "c"])
    restored = ReferenceProfile.from_bytes(profile.to_bytes())
    assert restored.categories == ("a", "b", "c")
    assert restored.category_counts.tolist() == [1, 2, 1]
    assert (restored.n, restored.n_missing) == (4, 1)
    current = np.array([0, 1, 2, 3, 3, -1])
    assert restored.chi2_test(current) == drift.chi2_test(np.array([0, 1, 1, 2]), current, 3)
    assert restored.psi(np.array([0, 1, 1, 2])) == 0.0
    assert restored.jensen_shannon(np.array([0, 1, 1, 2])) == 0.0
    assert restored.jensen_shannon(np.array([3, 3])) == pytest.approx(math.sqrt(math.log(2)))


def test_profile_of_an_empty_column_answers_nan():
    profile = ReferenceProfile.from_bytes(ReferenceProfile.numeric(np.full(3, np.nan)).to_bytes())
    assert profile.n == 0 and math.isnan(profile.mean)
    assert math.isnan(profile.wasserstein(np.array([1.0])))
    assert math.isnan(profile.psi(np.array([1.0])))


def test_wrong_kind_of_profile_is_a_value_error():
    with pytest.raises(ValueError, match="categorical reference profile"):
        ReferenceProfile.numeric(np.arange(5.0)).chi2_test(np.array([0]))
    with pytest.raises(ValueError, match="numeric reference profile"):
        ReferenceProfile.categorical(np.array([0]), ["a"]).ks_test(np.array([0.0]))
    with pytest.raises(ValueError, match="outside the 1 categories"):
        ReferenceProfile.categorical(np.array([0, 4]), ["a"])


@pytest.mark.parametrize(
    "data",
    [b"", b"not a profile", ReferenceProfile.numeric(np.arange(10.0)).to_bytes()[:-3], ReferenceProfile.numeric(np.arange(3.0)).to_bytes() + b"x"],
)
def test_corrupt_bytes_are_rejected(data):
    with pytest.raises(ValueError, match="profile"):
        ReferenceProfile.from_bytes(data)
