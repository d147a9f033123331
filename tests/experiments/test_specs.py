"""Experiment specs: what parses, and every kind of mistake named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.experiments.specs import Distribution, load_spec, parse_spec
from core.store.errors import PitboardError

from tests.conftest import SAMPLE_DATA

BASE = '''
experiment = "credit-risk"
dataset = "credit@2"
seed = 7

[[candidates]]
estimator = "LogisticRegression"
params = { C = [0.1, 1.0], max_iter = 500 }

[[candidates]]
estimator = "RandomForestClassifier"
params = { n_estimators = [50], max_depth = [4, "None"] }
'''


def test_minimal_spec_gets_documented_defaults() -> None:
    spec = parse_spec(BASE, "credit_spec.toml")
    assert (spec.experiment, spec.dataset, spec.seed, spec.task, spec.primary_metric) == (
        "credit-risk", "credit@2", 7, "classification", "roc_auc")
    assert spec.target is None and spec.features is None and spec.exclude == ()
    assert (spec.split.method, spec.split.test_size) == ("random", 0.2)
    assert (spec.search.method, spec.search.cv) == ("grid", 5)
    assert spec.preprocessing.encoding == "onehot" and spec.preprocessing.scale == "standard"
    assert [c.estimator for c in spec.candidates] == ["LogisticRegression", "RandomForestClassifier"]
    assert spec.candidates[0].params == {"C": [0.1, 1.0], "max_iter": [500]}
    assert spec.candidates[1].params["max_depth"] == [4, None]  # "None" is Python's None
    assert spec.text == BASE
    assert spec.with_dataset("credit@5").dataset == "credit@5"


def test_regression_task_and_metric_follow_the_candidates() -> None:
    spec = parse_spec('experiment = "x"\ndataset = "d"\n[[candidates]]\nestimator = "Ridge"\nparams = { alpha = [1.0] }\n')
    assert (spec.task, spec.primary_metric) == ("regression", "rmse")


def test_random_search_with_distributions() -> None:
    spec = parse_spec(BASE.replace('C = [0.1, 1.0]', 'C = { dist = "loguniform", low = 0.01, high = 10 }')
                      + '\n[search]\nmethod = "random"\nn_iter = 4\ncv = 3\n')
    assert spec.candidates[0].params["C"] == Distribution("loguniform", 0.01, 10.0)
    assert (spec.search.method, spec.search.n_iter, spec.search.cv) == ("random", 4, 3)


def test_sample_spec_parses() -> None:
    spec = load_spec(SAMPLE_DATA / "credit_spec.toml")
    assert spec.task == "classification"
    assert len({c.estimator for c in spec.candidates}) >= 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("n_estimators", "n_estimator"),
         r"^credit_spec\.toml: \[\[candidates\]\] 2 'RandomForestClassifier': unknown parameter 'n_estimator'; valid: bootstrap, .*n_estimators"),
        (lambda t: t.replace("max_depth = [4,", "max_depth = [-4,"),
         r"^credit_spec\.toml: \[\[candidates\]\] 2 'RandomForestClassifier': parameter 'max_depth' = -4: The 'max_depth' parameter of RandomForestClassifier must be an int in the range \[1, inf\)"),
        (lambda t: t.replace("C = [0.1, 1.0]", 'C = ["big"]'),
         r"\[\[candidates\]\] 1 'LogisticRegression': parameter 'C' = 'big'"),
        (lambda t: t.replace('"RandomForestClassifier"', '"RandomForest"'),
         r"\[\[candidates\]\] 2: unknown estimator 'RandomForest'; valid: .*RandomForestClassifier"),
        (lambda t: t.replace('"RandomForestClassifier"', '"SVC"'), r"unknown estimator 'SVC'"),
        (lambda t: t.replace("seed = 7", "seed = 7\nsplitt = 3"), r"^credit_spec\.toml: unknown key 'splitt'; valid keys: experiment, dataset"),
        (lambda t: t + '\n[split]\ntest_size = 1.5\n', r"\[split\]: test_size = 1.5 must be between 0 and 1"),
        (lambda t: t + '\n[split]\nmethd = "time"\n', r"\[split\]: unknown key 'methd'; valid keys: method, test_size, column"),
        (lambda t: t + '\n[preprocessing]\nscale = "zscore"\n', r"\[preprocessing\]: scale = 'zscore' is not valid; choose one of: standard, minmax, robust, none"),
        (lambda t: t + '\n[search]\ncv = 1\n', r"\[search\]: cv = 1 must be at least 2"),
        (lambda t: t + '\n[search]\nn_iter = 5\n', r"n_iter is only used with method = \"random\""),
        (lambda t: t.replace("C = [0.1, 1.0]", "C = []"), r"parameter 'C' = \[\] gives the grid zero candidates"),
        (lambda t: t.replace("C = [0.1, 1.0]", 'C = { dist = "loguniform", low = 0.1, high = 1 }'), r"is a distribution; it needs \[search\] method = \"random\""),
        (lambda t: t.replace("seed = 7", 'seed = 7\ntask = "regression"'), r"\[\[candidates\]\] 1 'LogisticRegression': is a classification estimator but task = 'regression'"),
        (lambda t: t + '\n[[candidates]]\nestimator = "Ridge"\n', r"mixes classification and regression"),
        (lambda t: t.replace("seed = 7", 'seed = 7\nprimary_metric = "rmse"'), r"primary_metric = 'rmse' is not valid; choose one of: roc_auc, accuracy"),
        (lambda t: t.replace("seed = 7", 'seed = "seven"'), r"seed: seed = 'seven' should be int"),
        (lambda t: t.replace('dataset = "credit@2"', 'dataset = "credit@"'), r"nothing after '@'"),
        (lambda t: t.replace('experiment = "credit-risk"', ""), r"missing required key 'experiment'"),
        (lambda t: t.replace('experiment = "credit-risk"', 'experiment = "credit risk"'), r"invalid experiment name 'credit risk'"),
        (lambda t: t + "\n[[candidates]]\nparams = {}\n", r"\[\[candidates\]\] 3: missing key 'estimator'"),
        (lambda t: t + "\nthis is = not toml [", r"^credit_spec\.toml: not valid TOML"),
        (lambda t: t + '\n[features]\ninclude = []\n', r"include = \[\] selects no feature"),
    ],
)
def test_bad_specs_name_the_key_and_the_choices(change, message: str) -> None:
    with pytest.raises(PitboardError, match=message) as caught:
        parse_spec(change(BASE), "credit_spec.toml")
    assert "\n" not in str(caught.value)


def test_unreadable_spec_file(tmp_path: Path) -> None:
    with pytest.raises(PitboardError, match=r"missing\.toml: cannot read spec"):
        load_spec(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PitboardError, match=r"binary\.toml: not a UTF-8 text file"):
        load_spec(binary)
