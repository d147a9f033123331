"""A distance test judges a window only on enough values; p-value tests need no floor."""

from __future__ import annotations

import numpy as np

from core.kernels.profile import ReferenceProfile
from core.monitoring.drift_tests import MIN_JUDGED_VALUES, default_test, merged_numeric_verdict


def test_one_far_row_has_a_distance_but_no_verdict():
    profile = ReferenceProfile.numeric(np.random.default_rng(3).normal(size=5000))
    lone = default_test(profile, np.array([10.0]))
    assert lone.test == "wasserstein" and lone.statistic > 5 and not lone.drifted
    crowd = default_test(profile, np.full(MIN_JUDGED_VALUES, 10.0))
    assert crowd.statistic > 5 and crowd.drifted


def test_unseen_categories_on_one_row_are_not_drift_but_on_many_are():
    codes = np.random.default_rng(4).integers(0, 3, 5000)
    profile = ReferenceProfile.categorical(codes, ["a", "b", "c"])
    lone = default_test(profile, np.array([3]))
    assert lone.test == "jensen_shannon" and lone.statistic > 0.5 and not lone.drifted
    assert default_test(profile, np.full(MIN_JUDGED_VALUES, 3)).drifted


def test_small_reference_tests_keep_their_p_values():
    profile = ReferenceProfile.numeric(np.random.default_rng(5).normal(size=200))
    result = default_test(profile, np.full(10, 10.0))
    assert result.test == "ks" and result.p_value < 0.05 and result.drifted


def test_a_merged_distance_is_judged_on_the_merged_count():
    assert not merged_numeric_verdict("wasserstein", 0.5, MIN_JUDGED_VALUES - 1, [False, False])
    assert merged_numeric_verdict("wasserstein", 0.5, MIN_JUDGED_VALUES, [False, False])
