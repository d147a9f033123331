"""The CBPE estimate stands in for labels, judged against estimates of the holdout."""

from __future__ import annotations

from core.monitoring.alerts import DEFAULTS, evaluate

REFERENCE = {"primary_metric": "roc_auc", "band": {
    "roc_auc": {"mean": 0.995, "std": 0.002},  # the holdout's real AUC: a well-ranking, under-confident model
    "estimated roc_auc": {"mean": 0.978, "std": 0.004},  # what CBPE makes of the same chunks
}}


def window(estimated: float, labelled: int) -> dict:
    return {"n_rows": 450, "n_labelled": labelled, "metrics": {}, "estimated": {"roc_auc": estimated},
            "drift_share": 0.0, "n_drifted": 0, "n_features": 30, "prediction_psi": 0.0}


def estimated_findings(w: dict, reference: dict = REFERENCE) -> list:
    return [f for f in evaluate(w, [], reference, dict(DEFAULTS)) if f.rule == "estimated_performance"]


def test_an_estimate_like_the_holdouts_own_estimates_passes():
    found = estimated_findings(window(0.978, 0))
    assert len(found) == 1 and found[0].severity is None and found[0].threshold == 0.978 - 3 * 0.004


def test_an_estimate_below_the_estimated_band_warns():
    found = estimated_findings(window(0.95, 0))
    assert found[0].severity == "warning" and "0.950 estimated (CBPE), below limit 0.966" in found[0].message


def test_without_an_estimated_band_the_real_band_judges():
    real_only = {"primary_metric": "roc_auc", "band": {"roc_auc": REFERENCE["band"]["roc_auc"]}}
    assert estimated_findings(window(0.978, 0), real_only)[0].severity == "warning"


def test_once_labels_are_in_the_estimate_is_not_judged():
    assert estimated_findings(window(0.5, DEFAULTS["min_labelled"])) == []
    assert estimated_findings(window(0.5, DEFAULTS["min_labelled"] - 1))[0].severity == "warning"
