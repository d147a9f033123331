"""Multivariate drift: a change in how features move together that no single column shows."""

from __future__ import annotations

import numpy as np
import pytest

from core.kernels.drift import ReferenceProfile, ks_test
from core.monitoring.multivariate import MultivariateReference, fit, verdict
from core.monitoring.references import FeatureReference, Reference
from core.monitoring.windows import Traffic, merge, reduce

NAMES = ("income", "debt", "age")


def _rows(rng: np.random.Generator, n: int, rho: float) -> dict[str, np.ndarray]:
    """Three standard normal columns; income and debt correlated by `rho`, age independent."""
    income = rng.standard_normal(n)
    debt = rho * income + np.sqrt(1.0 - rho ** 2) * rng.standard_normal(n)
    return {"income": income, "debt": debt, "age": rng.standard_normal(n)}


def _reference(columns: dict[str, np.ndarray], variance: float = 0.65) -> Reference:
    features = [FeatureReference(name, "numeric", None, ReferenceProfile.numeric(columns[name])) for name in NAMES]
    multivariate = fit(columns, dict.fromkeys(NAMES, "numeric"), {}, variance=variance, chunk_rows=250)
    assert isinstance(multivariate, MultivariateReference)
    return Reference(version_id=1, task="regression", classes=None, primary_metric="rmse", n_rows=len(columns["income"]),
                     features=features, prediction=None, performance={}, band={}, multivariate=multivariate)


def _traffic(columns: dict[str, np.ndarray]) -> Traffic:
    n = len(columns["income"])
    return Traffic(ts=np.zeros(n), features=columns, scores=np.full(n, np.nan))


def test_a_correlation_change_with_unchanged_marginals_is_caught_only_by_the_multivariate_detector():
    rng = np.random.default_rng(11)
    reference_rows = _rows(rng, 5000, rho=0.9)
    reference = _reference(reference_rows)
    assert reference.multivariate.components.shape[0] == 2  # income+debt, and age: 0.65 of the variance
    calm = reduce(reference, _traffic(_rows(rng, 1500, rho=0.9)), kind="rows", key=0, start=0.0, end=0.0)
    broken_rows = _rows(rng, 1500, rho=-0.9)  # the same marginals, the opposite relationship
    broken = reduce(reference, _traffic(broken_rows), kind="rows", key=1, start=0.0, end=0.0)

    for stats in (calm, broken):  # every per-feature test is blind to it
        assert [f.drifted for f in stats.features] == [False] * 3
        assert all(f.psi < 0.1 for f in stats.features)
    for name in NAMES:  # the significance test too, at any reference size
        assert ks_test(reference_rows[name], broken_rows[name])[1] > 0.05

    assert not verdict(reference.multivariate, calm.multivariate)["drifted"]
    judged = verdict(reference.multivariate, broken.multivariate)
    assert judged["drifted"] and judged["error"] > 2 * judged["upper"]
    assert {name for name, _ in judged["top"][:2]} == {"income", "debt"}  # the pair that broke, not age


def test_merged_windows_have_exactly_the_error_of_their_rows():
    rng = np.random.default_rng(12)
    reference = _reference(_rows(rng, 3000, rho=0.8))
    rows = _rows(rng, 900, rho=0.2)
    whole = reduce(reference, _traffic(rows), kind="rows", key=0, start=0.0, end=0.0)
    parts = [reduce(reference, _traffic({k: v[part] for k, v in rows.items()}), kind="rows", key=0, start=0.0, end=0.0)
             for part in (slice(0, 200), slice(200, 900))]
    together = merge(reference, parts)
    assert together.multivariate.n_rows == 900
    assert together.multivariate.error == pytest.approx(whole.multivariate.error, rel=1e-12)
    assert together.multivariate.sse == pytest.approx(whole.multivariate.sse, rel=1e-12)


def test_the_kernel_matches_a_numpy_reconstruction_with_missing_values_and_categories():
    rng = np.random.default_rng(13)
    n = 400
    columns = {"x": rng.standard_normal(n), "y": rng.standard_normal(n), "c": rng.integers(0, 3, n).astype(np.int64)}
    columns["x"][::7] = np.nan
    columns["c"][::11] = -1
    model = fit(columns, {"x": "numeric", "y": "numeric", "c": "categorical"}, {"c": 3}, variance=0.5, chunk_rows=100)
    current = {"x": rng.standard_normal(50), "y": rng.standard_normal(50), "c": np.array([0, 1, 2, 3, -1] * 10)}
    current["y"][3] = np.nan
    sse, error_sum = model.sums(current, 50)
    design = np.column_stack([current["x"], current["y"], *[(current["c"] == k).astype(float) for k in range(3)]])
    z = (design - model.mean) / model.scale
    z[np.isnan(design)] = 0.0
    z[current["c"] < 0, 2:] = 0.0  # a missing category is imputed: no error from it
    residual = z - z @ model.components.T @ model.components
    assert error_sum == pytest.approx(np.sqrt((residual ** 2).sum(axis=1)).sum(), rel=1e-10)
    assert sse == pytest.approx([(residual[:, 0] ** 2).sum(), (residual[:, 1] ** 2).sum(), (residual[:, 2:] ** 2).sum()],
                                rel=1e-10)


@pytest.mark.parametrize("columns, said", [
    ({"x": np.ones(100), "y": np.full(100, np.nan)}, "fewer than two usable columns for a PCA (x, y constant or all missing)"),
    ({"x": np.arange(100.0), "y": np.ones(100)}, "fewer than two usable columns for a PCA (y constant or all missing)"),
])
def test_constant_or_all_missing_columns_leave_no_pca_and_say_why(columns, said):
    assert fit(columns, dict.fromkeys(columns, "numeric"), {}, variance=0.65, chunk_rows=25) == said


def test_constant_columns_are_dropped_and_named():
    rng = np.random.default_rng(14)
    columns = {"x": rng.standard_normal(300), "y": rng.standard_normal(300), "flat": np.full(300, 2.0)}
    model = fit(columns, dict.fromkeys(columns, "numeric"), {}, variance=0.65, chunk_rows=100)
    assert model.features == ["x", "y"] and model.dropped == ["flat"]
