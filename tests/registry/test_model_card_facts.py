"""Model cards and gate messages say only the model's own facts, for any task.

A regression and a multiclass model from scikit-learn's bundled data sets (data nobody
here wrote) go through the real CLI: train, register, promote twice, package. Their cards
must not borrow the credit demo's words, must not print a missing value as "None", and
must rank features as `runs show` does.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from sklearn import datasets

from tests.experiments.helpers import sequential_training

pytestmark = pytest.mark.slow

CASES = {
    "diabetes": (datasets.load_diabetes, "Ridge", "alpha = [0.1, 10.0]", "rmse"),
    "wine": (datasets.load_wine, "LogisticRegression", "C = [0.0005, 10.0], max_iter = 2000", "f1"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_card_and_gates_describe_this_model_only(name: str, pitboard, tmp_path: Path) -> None:
    load, estimator, grid, primary = CASES[name]
    bunch = load(as_frame=True)
    source = tmp_path / f"{name}.csv"
    bunch.frame.to_csv(source, index=False)
    sequential_training(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(f'experiment = "{name}"\ndataset = "{name}"\ntarget = "target"\nprimary_metric = "{primary}"\nseed = 3\n'
                    f'[search]\ncv = 3\n[[candidates]]\nestimator = "{estimator}"\nparams = {{ {grid} }}\n')
    assert pitboard("data", "add", name, source, "--target", "target").exit_code == 0
    assert pitboard("data", "validate", f"{name}@1").exit_code == 0
    trained = pitboard("train", spec)
    assert trained.exit_code == 0, trained.stderr
    runs = json.loads(pitboard("runs", "list", "--json").stdout)
    best, other = sorted(runs, key=lambda r: r["metrics"][primary], reverse=primary != "rmse")[:2]
    for run in (other, best):
        assert pitboard("model", "register", run["id"], "--name", name).exit_code == 0
    assert pitboard("model", "promote", f"{name}@1", "--to", "champion").exit_code == 0
    promoted = pitboard("model", "promote", f"{name}@2", "--to", "champion")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
    assert f"beats champion on holdout {primary}" in promoted.stdout
    card, first_card = (package_card(pitboard, f"{name}@{v}", tmp_path / f"v{v}.tar.gz") for v in (2, 1))
    assert "None" not in card and "recession" not in card and "income" not in card
    assert f"primary metric: {primary}" in card
    shown = json.loads(pitboard("runs", "show", best["id"], "--json").stdout)["feature_importance"]
    table = card.split("## Most important features")[1].split("\n## ")[0]
    ranked = [line.split("|")[1].strip() for line in table.splitlines()
              if line.startswith("| ") and not line.startswith(("| feature", "| ---"))]
    assert ranked == [f["feature"] for f in shown][: len(ranked)] and len(ranked) == min(10, len(bunch.feature_names))
    drives = card.split("## What drives single predictions")[1].split("\n## ")[0]  # mean |contribution|, exact here
    top = max(shown, key=lambda f: f["contribution"])
    assert all(f["contribution"] >= 0 for f in shown) and top["contribution"] > 0
    assert drives.splitlines()[6] == f"| {top['feature']} | {top['contribution']:.4f} |"
    leaders = [f["feature"] for f in shown if f["mean"] > 0][:2]
    assert f"(for example a shift in {' or '.join(leaders)})" in card
    free = next(line for line in first_card.splitlines() if "is free" in line)
    assert free.strip() == f"- beats champion on {primary}: PASS; {name}@champion is free: nothing to beat"
    beaten = next(line for line in card.splitlines() if "beats champion" in line)
    assert beaten.startswith(f"  - beats champion on holdout {primary}: ") and "(threshold " in beaten
    assert f"{name}@1 scores" in beaten and "None" not in first_card


def package_card(pitboard, ref: str, bundle: Path) -> str:
    assert pitboard("model", "package", ref, "-o", bundle).exit_code == 0
    with tarfile.open(bundle) as tar:
        return tar.extractfile("MODEL_CARD.md").read().decode()
