"""Alert rules are pure functions of a window's aggregates and the reference."""

from __future__ import annotations

from core.monitoring.alerts import DEFAULTS, evaluate


def _window(**changes):
    window = {"id": 1, "version_id": 1, "end": 0.0, "n_rows": 1000, "drift_share": 0.0, "n_drifted": 0, "n_features": 10,
              "prediction_psi": 0.01, "latency_p99": None, "metrics": {}, "estimated": {}, "n_labelled": 0}
    window.update(changes)
    return window


REFERENCE = {"importance": {"income": 0.3, "debt_to_income": 0.2, "utilization": 0.1, "region": 0.01},
             "band": {"roc_auc": {"mean": 0.8, "std": 0.02}}, "primary_metric": "roc_auc"}


def _features(*drifted):
    return [{"feature": name, "drifted": name in drifted} for name in ("income", "debt_to_income", "utilization", "region")]


def _by_rule(findings):
    return {f.rule: f for f in findings}


def test_a_quiet_window_passes_every_rule():
    found = _by_rule(evaluate(_window(), _features(), REFERENCE, DEFAULTS))
    assert set(found) == {"drift_share", "top_features", "prediction_psi"}
    assert all(f.severity is None for f in found.values())


def test_an_important_feature_drifting_is_critical_before_half_the_columns_drift():
    found = _by_rule(evaluate(_window(drift_share=0.1, n_drifted=1), _features("income"), REFERENCE, DEFAULTS))
    assert found["top_features"].severity == "critical"
    assert "income" in found["top_features"].message
    assert found["drift_share"].severity is None
    unimportant = _by_rule(evaluate(_window(drift_share=0.1, n_drifted=1), _features("region"), REFERENCE, DEFAULTS))
    assert unimportant["top_features"].severity is None


def test_drift_share_and_prediction_psi_are_graded():
    found = _by_rule(evaluate(_window(drift_share=0.3, n_drifted=3, prediction_psi=0.15), _features(), REFERENCE, DEFAULTS))
    assert found["drift_share"].severity == "warning"
    assert found["prediction_psi"].severity == "warning"
    found = _by_rule(evaluate(_window(drift_share=0.5, n_drifted=5, prediction_psi=0.25), _features(), REFERENCE, DEFAULTS))
    assert found["drift_share"].severity == "critical"
    assert found["prediction_psi"].severity == "critical"
    assert found["prediction_psi"].threshold == 0.2


def test_measured_performance_below_the_reference_band_needs_enough_labels():
    low = {"roc_auc": 0.70}
    few = _by_rule(evaluate(_window(metrics=low, n_labelled=50), _features(), REFERENCE, DEFAULTS))
    assert "performance" not in few
    found = _by_rule(evaluate(_window(metrics=low, n_labelled=500), _features(), REFERENCE, DEFAULTS))
    assert found["performance"].severity == "critical"
    assert abs(found["performance"].threshold - (0.8 - 3 * 0.02)) < 1e-12
    fine = _by_rule(evaluate(_window(metrics={"roc_auc": 0.75}, n_labelled=500), _features(), REFERENCE, DEFAULTS))
    assert fine["performance"].severity is None


def test_an_absolute_minimum_tightens_the_band_and_estimates_only_warn():
    rules = {**DEFAULTS, "min_metric": 0.78}
    found = _by_rule(evaluate(_window(metrics={"roc_auc": 0.77}, n_labelled=500, estimated={"roc_auc": 0.7}),
                              _features(), REFERENCE, rules))
    assert found["performance"].severity == "critical"
    assert found["performance"].threshold == 0.78
    assert "estimated_performance" not in found  # labels are in: the measured metric judges
    unlabelled = _by_rule(evaluate(_window(n_labelled=0, estimated={"roc_auc": 0.7}), _features(), REFERENCE, rules))
    assert unlabelled["estimated_performance"].severity == "warning"


def test_small_windows_are_not_judged_for_drift():
    found = _by_rule(evaluate(_window(n_rows=50, drift_share=0.9, n_drifted=9, prediction_psi=0.5), _features("income"),
                              REFERENCE, DEFAULTS))
    assert set(found) == set()


def test_latency_and_lower_is_better_metrics():
    slow = _by_rule(evaluate(_window(latency_p99=400.0), _features(), REFERENCE, DEFAULTS))
    assert slow["latency_p99"].severity == "warning"
    regression = {"importance": {}, "band": {"rmse": {"mean": 10.0, "std": 1.0}}, "primary_metric": "rmse"}
    worse = _by_rule(evaluate(_window(metrics={"rmse": 14.0}, n_labelled=500), [], regression, DEFAULTS))
    assert worse["performance"].severity == "critical"
    assert worse["performance"].threshold == 13.0
    better = _by_rule(evaluate(_window(metrics={"rmse": 9.0}, n_labelled=500), [], regression, DEFAULTS))
    assert better["performance"].severity is None
