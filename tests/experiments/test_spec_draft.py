"""`pitboard spec options` and `pitboard spec init`: writing a spec without guessing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

from core.experiments.specs import ESTIMATORS, METRICS
from tests.experiments.helpers import sequential_training


def test_options_list_every_choice_the_parser_accepts(pitboard):
    found = json.loads(pitboard("spec", "options", "--json").stdout)
    for task in ("classification", "regression"):
        assert found["estimators"][task] == sorted(n for n, (_, t) in ESTIMATORS.items() if t == task)
        assert found["metrics"][task] == list(METRICS[task])
    assert found["lower_is_better"] == ["log_loss", "mae", "rmse"]
    text = pitboard("spec", "options").stdout
    assert "rmse (lower is better)" in text and "encoding = onehot | ordinal" in text


@pytest.mark.parametrize("load, task, primary, described", [
    (datasets.load_breast_cancer, "classification", "roc_auc", "two classes"),
    (datasets.load_wine, "classification", "f1", "3 classes"),
    (datasets.load_diabetes, "regression", "rmse", "a number"),
])
def test_init_infers_the_task_from_the_target(load, task, primary, described, pitboard, tmp_path: Path):
    source = tmp_path / "data.csv"
    frame = load(as_frame=True).frame
    frame.to_csv(source, index=False)
    assert pitboard("data", "add", "real", source, "--target", "target").exit_code == 0
    drafted = pitboard("spec", "init", "real")
    assert drafted.exit_code == 0, drafted.stderr
    spec = tomllib.loads(drafted.stdout)
    assert (spec["task"], spec["primary_metric"], spec["dataset"], spec["target"]) == (task, primary, "real@1", "target")
    assert f"# {described}: {task}" in drafted.stdout
    assert {ESTIMATORS[c["estimator"]][1] for c in spec["candidates"]} == {task}
    assert spec["search"]["cv"] == (3 if len(frame) < 500 else 5)  # small data: folds that keep enough rows


def test_a_drafted_spec_on_awkward_data_trains_as_written(pitboard, tmp_path: Path):
    rng = np.random.default_rng(7)
    n = 300
    frame = pd.DataFrame({
        "annual income ($)": rng.normal(50, 10, n).round(2),
        "größe.cm": rng.normal(170, 8, n).round(1),
        "is_member": rng.random(n) < 0.3,
        "signup": pd.date_range("2025-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "comment": [f"free text number {i}" for i in range(n)],
        "nothing": [None] * n,
        "always": ["same"] * n,
        "tier": rng.choice(["gold", "silver", "bronze"], n),
    })
    frame["churned"] = np.where(frame["annual income ($)"] + rng.normal(0, 5, n) > 52, "yes", "no")
    source = tmp_path / "awkward.csv"
    frame.to_csv(source, index=False)
    sequential_training(tmp_path)
    assert pitboard("data", "add", "awkward", source).exit_code == 0
    out = tmp_path / "spec.toml"
    drafted = pitboard("spec", "init", "awkward", "--target", "churned", "-o", out)
    assert drafted.exit_code == 0, drafted.stderr
    spec = tomllib.loads(out.read_text())
    assert spec["features"]["exclude"] == ["nothing", "always"]
    assert "#   nothing: every value is missing" in out.read_text()
    trained = pitboard("train", out, "--json")
    assert trained.exit_code == 0, trained.stderr
    runs = json.loads(pitboard("runs", "list", "--json").stdout)
    assert len(runs) == 6 and {r["status"] for r in runs} == {"FINISHED"}
    again = pitboard("spec", "init", "awkward", "--target", "churned", "-o", out)
    assert again.exit_code == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("args, message", [
    (("spec", "init", "plain"), "plain@1: has no target column; name one with --target COLUMN (columns: x_id, amount, when)"),
    (("spec", "init", "plain", "--target", "nope"), "--target 'nope': not a column of plain@1; columns: x_id, amount, when"),
    (("spec", "init", "plain", "--target", "x_id"), "--target 'x_id': is the id column of plain@1, not something to predict"),
    (("spec", "init", "plain", "--target", "when"), "--target 'when': is the time column of plain@1, not something to predict"),
    (("spec", "init", "missing"), "dataset 'missing' not found"),
])
def test_init_refuses_what_cannot_be_a_target(args, message, pitboard, tmp_path: Path):
    source = tmp_path / "plain.csv"
    pd.DataFrame({"x_id": range(20), "amount": np.arange(20) * 1.5,
                  "when": pd.date_range("2025-01-01", periods=20).strftime("%Y-%m-%d")}).to_csv(source, index=False)
    assert pitboard("data", "add", "plain", source).exit_code == 0
    refused = pitboard(*args)
    assert refused.exit_code == 2
    assert refused.stderr.strip().startswith(f"Error: {message}")
