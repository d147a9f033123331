"""Fairness across groups: our kernels per group against fairlearn, and through training.

fairlearn's MetricFrame and its demographic parity / equalized odds functions are the
reference, on constructed data with groups of different sizes and base rates, over
several seeds; the numbers must agree to 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.experiments.fairness import attribute_report, fairness_report
from tests.experiments.helpers import credit_frame, sequential_training, write_spec

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")


def biased(seed: int, n: int = 2000):
    """Groups of unequal size whose predictions favour one of them."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.15, 0.05])
    y = (rng.uniform(size=n) < np.select([groups == "a", groups == "b"], [0.3, 0.4], 0.5)).astype(np.int64)
    favour = np.select([groups == "a", groups == "b", groups == "c"], [0.15, 0.0, -0.1], -0.2)
    score = np.clip(0.55 * y + 0.25 + favour + rng.normal(0, 0.2, n), 0, 1)
    prediction = (score > 0.5).astype(np.int64)
    proba = np.column_stack([1 - score, score])
    return groups, y, prediction, proba


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_group_rates_and_disparities_match_fairlearn(seed) -> None:
    groups, y, prediction, proba = biased(seed)
    report = attribute_report(groups, y, prediction, proba, task="classification", primary_metric="accuracy",
                              min_group_rows=1)
    frame = fairlearn_metrics.MetricFrame(
        metrics={"selection_rate": fairlearn_metrics.selection_rate, "tpr": fairlearn_metrics.true_positive_rate,
                 "fpr": fairlearn_metrics.false_positive_rate, "count": fairlearn_metrics.count},
        y_true=y, y_pred=prediction, sensitive_features=groups)
    for row in report["groups"]:
        want = frame.by_group.loc[row["group"]]
        assert row["rows"] == want["count"]
        for key in ("selection_rate", "tpr", "fpr"):
            assert row[key] == pytest.approx(want[key], abs=1e-9)
    found = report["disparities"]
    assert found["demographic_parity_difference"] == pytest.approx(
        fairlearn_metrics.demographic_parity_difference(y, prediction, sensitive_features=groups), abs=1e-9)
    assert found["demographic_parity_ratio"] == pytest.approx(
        fairlearn_metrics.demographic_parity_ratio(y, prediction, sensitive_features=groups), abs=1e-9)
    assert found["equalized_odds_difference"] == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(y, prediction, sensitive_features=groups), abs=1e-9)
    from sklearn.metrics import accuracy_score

    accuracy = fairlearn_metrics.MetricFrame(metrics=accuracy_score, y_true=y, y_pred=prediction, sensitive_features=groups)
    assert found["primary_metric_gap"] == pytest.approx(accuracy.difference(), abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_small_groups_are_shown_but_not_judged(seed) -> None:
    groups, y, prediction, proba = biased(seed)
    report = attribute_report(groups, y, prediction, proba, task="classification", primary_metric="roc_auc",
                              min_group_rows=200)
    small = [r for r in report["groups"] if not r["judged"]]
    assert [r["group"] for r in small] == ["d"] and small[0]["rows"] < 200 and small[0]["selection_rate"] is not None
    kept = groups != "d"
    assert report["disparities"]["demographic_parity_ratio"] == pytest.approx(
        fairlearn_metrics.demographic_parity_ratio(y[kept], prediction[kept], sensitive_features=groups[kept]), abs=1e-9)
    assert report["disparities"]["equalized_odds_difference"] == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(y[kept], prediction[kept], sensitive_features=groups[kept]), abs=1e-9)
    from sklearn.metrics import roc_auc_score

    auc = fairlearn_metrics.MetricFrame(metrics=roc_auc_score, y_true=y[kept], y_pred=proba[kept, 1],
                                        sensitive_features=groups[kept])
    assert report["disparities"]["primary_metric_gap"] == pytest.approx(auc.difference(), abs=1e-9)
    alone = attribute_report(groups, y, prediction, proba, task="classification", primary_metric="roc_auc",
                             min_group_rows=10_000)
    assert set(alone["disparities"].values()) == {None}  # nothing judged: no disparity claimed


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regression_errors_per_group_match_fairlearn(seed) -> None:
    from sklearn.metrics import mean_absolute_error, root_mean_squared_error

    rng = np.random.default_rng(seed)
    groups = rng.choice(["x", "y", "z"], 900)
    y = rng.normal(10, 3, 900)
    prediction = y + rng.normal(0, 1, 900) * np.where(groups == "z", 3.0, 1.0)
    report = fairness_report({"region": groups}, y, prediction, None, task="regression", primary_metric="rmse",
                             min_group_rows=30)["region"]
    frame = fairlearn_metrics.MetricFrame(metrics={"mae": mean_absolute_error, "rmse": root_mean_squared_error},
                                          y_true=y, y_pred=prediction, sensitive_features=groups)
    for row in report["groups"]:
        assert row["mae"] == pytest.approx(frame.by_group.loc[row["group"], "mae"], abs=1e-9)
        assert row["rmse"] == pytest.approx(frame.by_group.loc[row["group"], "rmse"], abs=1e-9)
    assert report["disparities"]["primary_metric_gap"] == pytest.approx(frame.difference()["rmse"], abs=1e-9)
    assert report["disparities"]["demographic_parity_ratio"] is None


FAIR_SPEC = '''
experiment = "credit-fair"
dataset = "fair"
target = "default"
seed = 11

[search]
cv = 3

[fairness]
attributes = ["gender"]
min_group_rows = 20

[[candidates]]
estimator = "LogisticRegression"
params = { C = [1.0] }
'''


def fair_csv(tmp_path: Path) -> Path:
    frame = credit_frame(600, seed=3).drop(columns=["applicant_id"])
    rng = np.random.default_rng(3)
    poorer = frame["income"] < frame["income"].median()  # a group over-represented among lower incomes
    frame["gender"] = np.where(rng.uniform(size=len(frame)) < np.where(poorer, 0.8, 0.3), "f", "m")
    frame.loc[:9, "gender"] = "x"  # a group too small to judge
    path = tmp_path / "fair.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_training_records_fairness_and_runs_show_includes_it(pitboard, db_path, tmp_path) -> None:
    sequential_training(tmp_path)
    assert pitboard("data", "add", "fair", fair_csv(tmp_path), "--target", "default").exit_code == 0
    trained = pitboard("train", write_spec(tmp_path, FAIR_SPEC))
    assert trained.exit_code == 0, trained.stderr
    shown = json.loads(pitboard("runs", "show", "1", "--json").stdout)
    assert "gender" not in {f["name"] for f in shown["signature"]}  # an attribute, not a feature
    report = shown["fairness"]["gender"]
    by_group = {g["group"]: g for g in report["groups"]}
    assert set(by_group) <= {"f", "m", "x"} and by_group["f"]["judged"] and by_group["m"]["judged"]
    assert sum(g["rows"] for g in report["groups"]) == shown["holdout_size"]
    if "x" in by_group:
        assert not by_group["x"]["judged"]
    rates = [by_group[g]["selection_rate"] for g in ("f", "m")]
    assert report["disparities"]["demographic_parity_difference"] == pytest.approx(max(rates) - min(rates), abs=1e-12)
    text = pitboard("runs", "show", "1").stdout
    assert "fairness by gender" in text and "demographic_parity_ratio" in text

    # the promotion gate: refused over the threshold with the number shown, passed under it
    ratio = report["disparities"]["demographic_parity_ratio"]
    assert ratio < 0.9
    assert pitboard("model", "register", "1", "--name", "fair").exit_code == 0
    settings = tmp_path / "pitboard.toml"
    base = settings.read_text() + "[models]\nrequire_validation = false\n"
    settings.write_text(base + "max_disparity = { demographic_parity_ratio = 0.9, equalized_odds_difference = 1.0 }\n")
    refused = pitboard("model", "promote", "fair@1", "--to", "champion", "--json")
    assert refused.exit_code == 1
    gates = {g["name"]: g for g in json.loads(refused.stdout)["gates"]}
    gate = gates["min demographic_parity_ratio"]
    assert (gate["value"], gate["threshold"], gate["verdict"]) == (round(ratio, 6), ">= 0.9", "FAIL")
    assert gate["message"].startswith("worst attribute gender on the holdout; selection rates ")
    assert gates["max equalized_odds_difference"]["verdict"] == "PASS"
    settings.write_text(base + "max_disparity = { demographic_parity_ratio = 0.1 }\n")
    assert pitboard("model", "promote", "fair@1", "--to", "champion").exit_code == 0
    settings.write_text(base + "max_disparity = { parity = 0.1 }\n")
    typo = pitboard("model", "promote", "fair@1", "--to", "challenger")
    assert typo.exit_code == 2 and "unknown disparity 'parity'" in typo.stderr


def test_an_attribute_not_in_the_data_is_refused_by_name(pitboard, db_path, tmp_path) -> None:
    sequential_training(tmp_path)
    assert pitboard("data", "add", "fair", fair_csv(tmp_path), "--target", "default").exit_code == 0
    spec = write_spec(tmp_path, FAIR_SPEC.replace('["gender"]', '["sex"]'))
    refused = pitboard("train", spec)
    assert refused.exit_code == 2
    assert "[fairness] attributes: 'sex' is not a column of fair@1" in refused.stderr
    assert json.loads(pitboard("runs", "list", "--json").stdout) == []
    bad = pitboard("train", write_spec(tmp_path, FAIR_SPEC.replace("min_group_rows = 20", "min_group_rows = 0"), "b.toml"))
    assert bad.exit_code == 2 and "min_group_rows = 0" in bad.stderr
