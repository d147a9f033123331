"""Rules that must not fire on windows too small to judge."""

from __future__ import annotations

from core.monitoring.alerts import DEFAULTS, evaluate


def _window(n_rows: int) -> dict:
    return {"n_rows": n_rows, "n_labelled": 0, "metrics": {}, "estimated": {"roc_auc": 0.5},
            "drift_share": 1.0, "n_drifted": 11, "n_features": 11, "prediction_psi": 8.0}


def test_estimated_performance_needs_min_rows() -> None:
    reference = {"primary_metric": "roc_auc", "band": {"roc_auc": {"mean": 0.8, "std": 0.02}}}
    rules = dict(DEFAULTS)
    assert not [f for f in evaluate(_window(1), [], reference, rules) if f.rule == "estimated_performance"]
    fired = [f for f in evaluate(_window(rules["min_rows"]), [], reference, rules) if f.rule == "estimated_performance"]
    assert len(fired) == 1 and fired[0].severity == "warning"
