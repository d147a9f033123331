"""Prediction PSI is judged above what chance alone reaches at the samples' sizes."""

from __future__ import annotations

import numpy as np
import pytest

from core.kernels.profile import ReferenceProfile
from core.monitoring.alerts import DEFAULTS, evaluate, psi_noise


@pytest.mark.parametrize("n_reference, n_current", [(86, 426), (300, 300), (2000, 1500)])
def test_the_noise_level_is_the_95th_percentile_of_psi_between_same_distribution_samples(n_reference, n_current):
    rng = np.random.default_rng(n_reference)
    found = []
    for _ in range(600):
        profile = ReferenceProfile.numeric(rng.normal(size=n_reference))
        found.append(profile.psi(rng.normal(size=n_current)))
    noise = psi_noise(n_reference, n_current, len(profile.psi_edges) + 1)
    assert np.mean(np.array(found) > noise) == pytest.approx(0.05, abs=0.025)


def window(psi: float, rows: int) -> dict:
    return {"n_rows": rows, "n_labelled": 0, "metrics": {}, "estimated": {}, "drift_share": 0.0, "n_drifted": 0,
            "n_features": 5, "prediction_psi": psi}


def psi_finding(psi: float, rows: int, n_reference: int):
    reference = {"primary_metric": "roc_auc", "band": {}, "prediction_n": n_reference, "prediction_bins": 10}
    return next(f for f in evaluate(window(psi, rows), [], reference, dict(DEFAULTS)) if f.rule == "prediction_psi")


def test_a_small_holdout_does_not_cry_wolf():
    quiet = psi_finding(0.109, 426, 86)
    assert quiet.severity is None and "chance alone reaches 0.236 with 86 reference and 426 rows" in quiet.message
    assert psi_finding(0.30, 426, 86).severity == "critical"


def test_large_samples_keep_the_usual_thresholds():
    assert psi_finding(0.109, 1500, 2000).severity == "warning"
    assert psi_finding(0.21, 1500, 2000).severity == "critical"
    assert psi_finding(0.21, 1500, 2000).message == "prediction PSI 0.210 (warning at 0.1, critical at 0.2)"
