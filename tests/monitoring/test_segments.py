"""Segments: a shift confined to one slice is found, and noise across many slices is not."""

from __future__ import annotations

import numpy as np
import pytest

from core.kernels.drift import ReferenceProfile
from core.monitoring.references import FeatureReference
from core.monitoring.segments import benjamini_hochberg, fit, judge, merge, window_segments

REGIONS = [f"r{i}" for i in range(10)]


def _features(columns: dict[str, np.ndarray]) -> list[FeatureReference]:
    found = []
    for name, values in columns.items():
        if name == "region":
            found.append(FeatureReference(name, "categorical", None, ReferenceProfile.categorical(values, REGIONS)))
        else:
            found.append(FeatureReference(name, "numeric", None, ReferenceProfile.numeric(values)))
    return found


def _rows(rng: np.random.Generator, n: int, n_features: int) -> dict[str, np.ndarray]:
    columns = {f"x{j:02d}": rng.standard_normal(n) for j in range(n_features)}
    columns["region"] = rng.integers(0, len(REGIONS), n).astype(np.int64)
    return columns


def test_a_shift_confined_to_one_segment_ranks_first():
    rng = np.random.default_rng(31)
    reference_rows = _rows(rng, 20_000, 5)
    features = _features(reference_rows)
    segments = [fit("region", features, reference_rows, bins=4)]
    window = _rows(rng, 5000, 5)
    south = window["region"] == 7
    window["x01"][south] += 0.8  # one region's x01 falls apart; 10% of the rows
    found = judge(segments, window_segments(segments, features, window), min_rows=100, fdr=0.05, min_effect=0.1)
    assert found[0]["segment"] == "r7" and found[0]["flagged"] == ["x01"]
    assert [r["segment"] for r in found if r["flagged"]] == ["r7"]
    assert found[0]["moved"] > 3 * found[1]["moved"]


def test_numeric_segments_are_reference_quantiles_and_small_or_unknown_segments_are_not_judged():
    rng = np.random.default_rng(32)
    reference_rows = _rows(rng, 4000, 2)
    features = _features(reference_rows)
    by_x00 = fit("x00", features, reference_rows, bins=4)
    assert len(by_x00.labels) == 4
    assert sorted(by_x00.counts.values()) == [1000, 1000, 1000, 1000]
    window = _rows(rng, 400, 2)
    window["x00"][:30] = np.nan
    found = judge([by_x00], window_segments([by_x00], features, window), min_rows=50, fdr=0.05, min_effect=0.1)
    missing = [r for r in found if r["segment"] == "(missing)"]
    assert missing[0]["why"] == "not in the reference" and not missing[0]["judged"]
    tiny = judge([by_x00], window_segments([by_x00], features, {k: v[:40] for k, v in window.items()}),
                 min_rows=50, fdr=0.05, min_effect=0.1)
    assert {r["why"] for r in tiny} <= {"too few rows", "not in the reference"}
    assert any(r["why"] == "too few rows" for r in tiny)


def test_a_window_whose_segment_column_is_all_missing_is_one_unjudged_segment():
    rng = np.random.default_rng(33)
    reference_rows = _rows(rng, 2000, 2)
    features = _features(reference_rows)
    segments = [fit("region", features, reference_rows, bins=4)]
    window = _rows(rng, 300, 2)
    window["region"][:] = -1
    (only,) = judge(segments, window_segments(segments, features, window), min_rows=50, fdr=0.05, min_effect=0.1)
    assert (only["segment"], only["rows"], only["judged"], only["why"]) == ("(missing)", 300, False, "not in the reference")


def test_merged_parts_hold_the_histograms_of_the_whole():
    rng = np.random.default_rng(34)
    reference_rows = _rows(rng, 2000, 2)
    features = _features(reference_rows)
    segments = [fit("region", features, reference_rows, bins=4)]
    window = _rows(rng, 600, 2)
    whole = {(s.column, s.segment): s for s in window_segments(segments, features, window)}
    halves = [window_segments(segments, features, {k: v[part] for k, v in window.items()})
              for part in (slice(0, 250), slice(250, 600))]
    for stats in merge(halves):
        assert stats.n_rows == whole[(stats.column, stats.segment)].n_rows
        assert stats.histograms == whole[(stats.column, stats.segment)].histograms


def test_benjamini_hochberg_rejects_the_largest_prefix_under_the_line():
    p = np.array([0.001, 0.04, 0.03, 0.2, 0.008])
    assert benjamini_hochberg(p, 0.05).tolist() == [True, True, True, False, True]  # 0.04 <= 4/5 * 0.05
    assert benjamini_hochberg(p, 0.01).tolist() == [True, False, False, False, False]


@pytest.mark.parametrize("rate", [0.05, 0.2])
def test_pure_noise_over_20_features_and_10_segments_flags_about_the_configured_rate(rate):
    """Every flag on pure noise is a false discovery, so the FDR is the share of windows
    that flag anything: BH keeps it near `rate`, where 200 tests judged alone at 5% flag
    something in nearly every window."""
    windows, flagged_any, alone_any = 150, 0, 0
    features = _features(_rows(np.random.default_rng(999), 8000, 20))  # the bins only: any fixed bins make a valid test
    for seed in range(windows):
        rng = np.random.default_rng(1000 + seed)
        reference_rows = _rows(rng, 8000, 20)
        segments = [fit("region", features, reference_rows, bins=4)]
        found = judge(segments, window_segments(segments, features, _rows(rng, 4000, 20)), min_rows=100, fdr=rate,
                      min_effect=0.0)
        flagged_any += any(r["flagged"] for r in found)
        alone_any += any(f["p_value"] < 0.05 for r in found for f in r["features"].values())
    share = flagged_any / windows
    print(f"fdr {rate}: {share:.3f} of windows flag something; judged alone {alone_any / windows:.3f}")
    assert abs(share - rate) < 0.5 * rate + 0.02, share
    assert alone_any / windows > 0.9
