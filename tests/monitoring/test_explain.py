"""`monitor explain`: a domain classifier says which features tell a window from the reference."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.monitoring.explain import MIN_ROWS, domain_classifier
from core.monitoring.ingest import ingest_files
from core.store.errors import PitboardError
from tests.monitoring.conftest import MODEL, PRODUCTION

KINDS = {"income": "numeric", "debt": "numeric", "region": "categorical"}


def _rows(rng, n, rho, north_share=0.5):
    income = rng.standard_normal(n)
    debt = rho * income + np.sqrt(1 - rho ** 2) * rng.standard_normal(n)
    return {"income": income, "debt": debt, "region": (rng.random(n) < north_share).astype(np.int64)}


def test_a_relationship_change_is_told_apart_by_the_features_that_carry_it():
    rng = np.random.default_rng(21)
    found = domain_classifier(_rows(rng, 4000, 0.9), _rows(rng, 1500, -0.9), KINDS)
    assert found["auc"] > 0.9
    assert {f["feature"] for f in found["features"][:2]} == {"income", "debt"}
    assert found["features"][2]["importance"] < 0.02  # region did not move


def test_the_same_distribution_cannot_be_told_apart():
    rng = np.random.default_rng(22)
    found = domain_classifier(_rows(rng, 4000, 0.9), _rows(rng, 1500, 0.9), KINDS)
    assert 0.4 < found["auc"] < 0.6


def test_ten_rows_are_too_few_rows():
    rng = np.random.default_rng(23)
    with pytest.raises(PitboardError) as raised:
        domain_classifier(_rows(rng, 4000, 0.9), _rows(rng, 10, 0.9), KINDS)
    assert str(raised.value) == f"window: 10 rows, too few rows to tell it from the reference (at least {MIN_ROWS})"


def test_explain_a_kept_batch_window_through_the_command(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text("[monitoring]\nwindow_rows = 5000\n")
    store = served.open()
    report = ingest_files(store, f"{MODEL}@champion", [str(PRODUCTION / "month_12.csv")], labels="default")
    (window_id,) = report.windows
    result = pitboard("monitor", "explain", MODEL, str(window_id), "--json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["auc"] > 0.7  # the deepest month of the recession
    assert found["features"][0]["feature"] in {"income", "debt_to_income"}
    text = pitboard("monitor", "explain", MODEL, str(window_id))
    assert text.stdout.startswith(f"window {window_id} of {MODEL} v1: domain classifier ROC AUC ")


def test_explain_refuses_unknown_windows_and_batches_without_rows(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text("[monitoring]\nwindow_rows = 5000\n")
    store = served.open()
    (window_id,) = ingest_files(store, f"{MODEL}@champion", [str(PRODUCTION / "month_02.csv")]).windows
    unknown = pitboard("monitor", "explain", MODEL, "999")
    assert unknown.exit_code == 2 and unknown.stderr.strip() == f"Error: window 999: no such window of {MODEL}"
    kept_nothing = pitboard("monitor", "explain", MODEL, str(window_id))
    assert kept_nothing.exit_code == 2
    assert kept_nothing.stderr.strip() == (f"Error: window {window_id}: a batch window keeps no rows unless ingested"
                                           " with --labels; nothing to explain it with")
