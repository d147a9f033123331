"""drift_report chooses Evidently's default tests and reaches the expected verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.data.drift import drift_report
from core.kernels import drift


def frames(n_ref: int, n_cur: int, shift: float, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({
        "income": rng.normal(50, 10, n_ref),
        "debt": rng.normal(20, 5, n_ref),
        "grade": rng.choice(list("ABC"), n_ref, p=[0.5, 0.3, 0.2]),
        "children": rng.integers(0, 3, n_ref).astype(float),
    })
    current = pd.DataFrame({
        "income": rng.normal(50 - 10 * shift, 10, n_cur),
        "debt": rng.normal(20 + 5 * shift, 5, n_cur),
        "grade": rng.choice(list("ABCD"), n_cur, p=[0.5 - 0.3 * shift, 0.3, 0.2, 0.3 * shift]),
        "children": rng.integers(0, 3, n_cur).astype(float),
    })
    return reference, current


def test_small_reference_uses_ks_and_chi2():
    reference, current = frames(800, 500, shift=0.0)
    report = drift_report(reference, current).set_index("column")
    assert report.loc["income", "stattest"] == "ks"
    assert report.loc["grade", "stattest"] == "chi2"
    assert report.loc["children", "stattest"] == "chi2"  # 3 distinct values: tested as categories
    expected = stats.ks_2samp(reference["income"], current["income"], method="asymp").pvalue
    assert report.loc["income", "drift_score"] == pytest.approx(expected, rel=0.01)
    assert not report["drifted"].any()
    assert report.attrs["dataset_drift"] is False


def test_large_reference_uses_normed_wasserstein_and_jensen_shannon():
    reference, current = frames(5000, 3000, shift=1.0)
    report = drift_report(reference, current).set_index("column")
    assert report.loc["income", "stattest"] == "wasserstein"
    assert report.loc["grade", "stattest"] == "jensen_shannon"
    expected = stats.wasserstein_distance(reference["income"], current["income"]) / np.std(reference["income"])
    assert report.loc["income", "drift_score"] == pytest.approx(expected, rel=1e-9)
    assert report.loc[["income", "debt", "grade"], "drifted"].all()
    assert not report.loc["children", "drifted"]
    assert report.attrs == {"dataset_drift": True, "drift_share": 0.75, "n_drifted": 3, "n_columns": 4}
    assert report.loc["income", "psi"] == pytest.approx(drift.psi(reference["income"].to_numpy(), current["income"].to_numpy()))


def test_missing_values_and_infinities_are_reported_not_tested():
    reference, current = frames(2000, 1000, shift=0.0)
    current.loc[:99, "income"] = np.nan
    current.loc[100:149, "income"] = np.inf
    current.loc[:9, "grade"] = None
    report = drift_report(reference, current, columns=["income", "grade"]).set_index("column")
    assert report.loc["income", "current_missing"] == pytest.approx(0.15)
    assert report.loc["grade", "current_missing"] == pytest.approx(0.01)
    assert report.loc["income", "reference_missing"] == 0.0
    finite = current["income"][np.isfinite(current["income"])]
    expected = stats.wasserstein_distance(reference["income"], finite) / np.std(reference["income"])
    assert report.loc["income", "drift_score"] == pytest.approx(expected, rel=1e-9)


def test_bad_columns_are_value_errors():
    reference, current = frames(50, 50, shift=0.0)
    with pytest.raises(ValueError, match="'salary' is not in the reference data"):
        drift_report(reference, current, columns=["salary"])
    reference["when"] = pd.Timestamp("2026-01-01")
    current["when"] = pd.Timestamp("2026-01-02")
    with pytest.raises(ValueError, match="'when': cannot test drift on dtype"):
        drift_report(reference, current)
