"""`min_effect`: on large windows a significance test also needs an effect worth reporting."""

from __future__ import annotations

import numpy as np

from core.kernels.drift import ReferenceProfile
from core.monitoring.drift_tests import default_test


def test_a_negligible_but_significant_numeric_shift_is_not_drift():
    rng = np.random.default_rng(3)
    profile = ReferenceProfile.numeric(rng.normal(0.0, 1.0, 1000))  # small reference: KS with a p-value
    current = rng.normal(0.12, 1.0, 200_000)  # a shift of 0.12 std: D about 0.06
    plain = default_test(profile, current)
    assert plain.test == "ks" and plain.p_value < 0.05 and plain.drifted
    judged = default_test(profile, current, min_effect=0.1)
    assert judged.statistic < 0.1 and not judged.drifted
    real = default_test(profile, rng.normal(0.6, 1.0, 200_000), min_effect=0.1)
    assert real.statistic > 0.2 and real.drifted


def test_a_negligible_but_significant_categorical_shift_is_not_drift():
    rng = np.random.default_rng(4)
    profile = ReferenceProfile.categorical(rng.choice(3, 1000, p=[0.5, 0.3, 0.2]).astype(np.int64), ["a", "b", "c"])
    current = rng.choice(3, 200_000, p=[0.45, 0.33, 0.22]).astype(np.int64)
    plain = default_test(profile, current)
    assert plain.test == "chi2" and plain.p_value < 0.05 and plain.drifted
    cramers_v = np.sqrt(plain.statistic / (1000 + 200_000))
    assert cramers_v < 0.1
    assert not default_test(profile, current, min_effect=0.1).drifted
    moved = rng.choice(3, 200_000, p=[0.2, 0.3, 0.5]).astype(np.int64)
    assert default_test(profile, moved, min_effect=0.1).drifted
