"""Training: specs become recorded runs whose numbers, models and provenance check out."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from core.experiments.modelio import UntrustedModelError, dump_model, load_model
from core.experiments.runs import get_run, metric_points, run_curves
from core.experiments.specs import ESTIMATORS, estimator_class, parse_spec
from core.experiments.training import configurations, holdout, reproduce_run, train_spec
from core.store.artifacts import get_blob, put_blob
from core.store.database import Store
from core.store.errors import NotFound, PitboardError

from tests.conftest import file_bytes
from tests.experiments.helpers import SMALL_SPEC, add_credit, credit_frame, sequential_training

pytestmark = pytest.mark.slow


@pytest.fixture
def trained(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    sequential_training(tmp_path)
    monkeypatch.chdir(tmp_path)  # not a git checkout
    dv = add_credit(store)
    result = train_spec(store, parse_spec(SMALL_SPEC, "spec.toml"))
    return store, dv, result


def test_one_finished_run_per_configuration_with_everything_recorded(trained) -> None:
    store, dv, result = trained
    assert (result.experiment, result.dataset, result.failed) == ("credit-risk", dv.ref, 0)
    runs = [get_run(store, run_id) for run_id in result.run_ids]
    assert [(r.estimator, r.config) for r in runs] == [
        ("LogisticRegression", {"C": 0.05}), ("LogisticRegression", {"C": 1.0}), ("DecisionTreeClassifier", {"max_depth": 3})]
    for run in runs:
        assert (run.status, run.task, run.primary_metric, run.seed, run.search_id) == (
            "FINISHED", "classification", "roc_auc", 11, result.search_id)
        assert run.dataset_version_id == dv.id and run.spec_text == SMALL_SPEC
        assert run.holdout_size == 72  # 20% of 360
        assert run.classes == [0, 1]
        assert set(run.metrics) == {"roc_auc", "accuracy", "precision", "recall", "f1", "log_loss",
                                    *(f"cv_{m}_{s}" for m in ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss")
                                      for s in ("mean", "std"))}
        assert 0.75 < run.metrics["roc_auc"] <= 1.0
        assert run.params["classifier"] == run.estimator
        assert run.params["classifier__random_state"] == "11"  # the spec seed reaches the estimator
        assert run.params["preprocess__categorical__encode"] == "OneHotEncoder"
        assert run.git_commit is None and run.git_dirty is None
        assert run.env["packages"]["scikit-learn"] and run.env["python"].count(".") == 2
        assert run.duration > 0 and run.error is None
        points = metric_points(store, run.id)
        folds = [value for _, value in points["cv_roc_auc"]]
        assert len(folds) == 3 and run.metrics["cv_roc_auc_mean"] == pytest.approx(np.mean(folds))
        assert run.metrics["cv_roc_auc_std"] == pytest.approx(np.std(folds))
    best = max(runs, key=lambda r: r.metrics["roc_auc"])
    assert result.best_run_id == best.id


def test_holdout_metrics_match_scikit_learn_on_the_stored_model(trained) -> None:
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

    store, _, result = trained
    for run_id in result.run_ids:
        run = get_run(store, run_id)
        model = load_model(get_blob(store, run.model_sha256))
        X, y = holdout(store, run)
        assert len(X) == run.holdout_size and list(X.columns) == [f["name"] for f in run.signature]
        proba = model.predict_proba(X)[:, 1]
        assert run.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba), abs=1e-12)
        assert run.metrics["log_loss"] == pytest.approx(log_loss(y, proba), abs=1e-9)
        assert run.metrics["accuracy"] == pytest.approx(accuracy_score(y, model.predict(X)))
        assert run.metrics["f1"] == pytest.approx(f1_score(y, model.predict(X)))


def test_signature_importance_and_curves(trained) -> None:
    store, _, result = trained
    run = get_run(store, result.run_ids[1])
    assert run.signature == [
        {"name": "income", "dtype": "float64", "role": "numeric", "categories": None, "nullable": False},
        {"name": "debt_ratio", "dtype": "float64", "role": "numeric", "categories": None, "nullable": False},
        {"name": "age", "dtype": "float64", "role": "numeric", "categories": None, "nullable": True},
        {"name": "grade", "dtype": "str", "role": "categorical", "categories": ["A", "B", "C", "D"], "nullable": False},
    ]  # applicant_id (the id column) and default (the target) are not features
    assert [f["feature"] for f in run.feature_importance][0] == "income"
    assert run.feature_importance[0]["mean"] > 0.1 > abs(run.feature_importance[-1]["mean"])
    curves = run_curves(store, run.id)
    roc, pr = curves["roc"], curves["pr"]
    assert (roc["x"][0], roc["y"][0], roc["x"][-1], roc["y"][-1]) == (0.0, 0.0, 1.0, 1.0)
    assert len(roc["x"]) <= 101 and roc["x"] == sorted(roc["x"])
    assert pr["x"][0] == 0.0 and pr["x"][-1] == 1.0


def test_boosting_logs_a_training_curve(store: Store, tmp_path: Path) -> None:
    sequential_training(tmp_path)
    add_credit(store)
    spec = parse_spec(SMALL_SPEC.split("[[candidates]]")[0]
                      + '[[candidates]]\nestimator = "GradientBoostingClassifier"\nparams = { n_estimators = [40], max_depth = [2] }\n')
    run_id, = train_spec(store, spec).run_ids
    series = metric_points(store, run_id)
    assert [step for step, _ in series["holdout_log_loss"]] == list(range(1, 41))
    assert [step for step, _ in series["train_loss"]] == list(range(1, 41))
    train_loss = [value for _, value in series["train_loss"]]
    assert train_loss == sorted(train_loss, reverse=True)  # boosting only ever lowers the training loss
    assert series["holdout_log_loss"][-1][1] < series["holdout_log_loss"][0][1]


def test_a_candidate_that_fails_to_fit_is_recorded_failed_and_the_others_go_on(store: Store, tmp_path: Path) -> None:
    sequential_training(tmp_path)
    add_credit(store)
    spec = parse_spec(SMALL_SPEC + '\n[[candidates]]\nestimator = "KNeighborsClassifier"\nparams = { n_neighbors = [5, 100000] }\n')
    result = train_spec(store, spec)
    runs = [get_run(store, run_id) for run_id in result.run_ids]
    assert [r.status for r in runs] == ["FINISHED"] * 4 + ["FAILED"]
    assert result.failed == 1
    failed = runs[-1]
    assert re.match(r"fold 1/3: ValueError: .*n_neighbors", failed.error)
    assert failed.model_sha256 is None and failed.metrics == {} and failed.params["classifier__n_neighbors"] == "100000"


def test_git_commit_and_dirty_flag_are_recorded_inside_a_checkout(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    repo = tmp_path / "project"
    repo.mkdir()
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    (repo / "train.py").write_text("print(2)\n")
    monkeypatch.chdir(repo)
    sequential_training(tmp_path)
    add_credit(store)
    spec = parse_spec(SMALL_SPEC.replace("C = [0.05, 1.0]", "C = [1.0]").split("[[candidates]]\nestimator = \"Decision")[0])
    run = get_run(store, train_spec(store, spec).run_ids[0])
    assert (run.git_commit, run.git_dirty) == (commit, True)


def test_random_search_draws_n_iter_seeded_configurations() -> None:
    text = SMALL_SPEC.replace("C = [0.05, 1.0]", 'C = { dist = "loguniform", low = 0.001, high = 10 }').replace(
        "[search]\ncv = 3", '[search]\nmethod = "random"\nn_iter = 4\ncv = 3')
    spec = parse_spec(text)
    configs = configurations(spec)
    assert len(configs) == 5  # 4 draws of LogisticRegression, 1 of the fixed tree
    drawn = [config["C"] for candidate, config in configs if candidate.estimator == "LogisticRegression"]
    assert all(0.001 <= c <= 10 and isinstance(c, float) for c in drawn) and len(set(drawn)) == 4
    assert configurations(parse_spec(text)) == configs


def test_time_split_holds_out_the_latest_rows(store: Store, tmp_path: Path) -> None:
    import pandas as pd

    from core.data.datasets import add_frame

    sequential_training(tmp_path)
    frame = credit_frame(200)
    frame["applied_at"] = pd.date_range("2025-01-01", periods=200, freq="D")[::-1]  # newest first
    add_frame(store, "credit", frame, source="tests", target="default", id_column="applicant_id", time_column="applied_at")
    spec = parse_spec(SMALL_SPEC.replace("seed = 11", 'seed = 11\n[split]\nmethod = "time"\ntest_size = 0.25'))
    run = get_run(store, train_spec(store, spec).run_ids[0])
    X, _ = holdout(store, run)
    assert sorted(X.index) == list(range(50))  # the first 50 rows are the 50 latest applications
    assert "applied_at" not in X.columns


@pytest.mark.parametrize(
    ("frame_change", "spec_change", "message"),
    [
        (None, lambda t: t.replace('dataset = "credit"', 'dataset = "credit@9"'), r"spec\.toml: dataset: credit@9 not found; credit has versions 1"),
        (None, lambda t: t.replace('dataset = "credit"', 'dataset = "loans"'), r"dataset 'loans' not found"),
        (None, lambda t: t.replace("seed = 11", 'seed = 11\ntarget = "defaulted"'), r"spec\.toml: target 'defaulted' is not a column of credit@1; columns: applicant_id, income"),
        (lambda f: f.assign(default=1), None, r"spec\.toml: target 'default' is constant in credit@1"),
        (None, lambda t: t.replace("seed = 11", 'seed = 11\ntarget = "income"'), r"target 'income' is continuous \(3.. distinct values: a regression target\) but the candidates are classifiers"),
        (None, lambda t: t + '\n[features]\ninclude = ["income", "salary"]\n', r"\[features\] include: unknown column 'salary'"),
        (None, lambda t: t.replace("cv = 3", "cv = 400"), r"\[search\] cv = 400"),
    ],
)
def test_bad_data_or_spec_fails_before_anything_is_written(store: Store, tmp_path: Path, db_path: Path,
                                                           frame_change, spec_change, message: str) -> None:
    from core.data.datasets import add_frame

    sequential_training(tmp_path)
    frame = credit_frame()
    add_frame(store, "credit", frame_change(frame) if frame_change else frame, source="tests", target="default",
              id_column="applicant_id")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = file_bytes(db_path)
    text = spec_change(SMALL_SPEC) if spec_change else SMALL_SPEC
    with pytest.raises(PitboardError, match=message):
        train_spec(store, parse_spec(text, "spec.toml"))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert file_bytes(db_path) == before
    assert store.value("SELECT count(*) FROM runs") == 0


def test_reproduce_matches_and_detects_a_changed_metric(trained) -> None:
    store, _, result = trained
    run_id = result.run_ids[0]
    found = reproduce_run(store, run_id)
    assert found["match"] and len(found["metrics"]) == 18
    with store.transaction():
        store.conn.execute("UPDATE metrics SET value = value + 0.01 WHERE run_id = ? AND key = 'roc_auc'", (run_id,))
    again = reproduce_run(store, run_id)
    assert not again["match"]
    assert [m["metric"] for m in again["metrics"] if not m["match"]] == ["roc_auc"]


def test_artifacts_deduplicate_and_refuse_altered_bytes(store: Store) -> None:
    first = put_blob(store, b"model bytes")
    assert put_blob(store, b"model bytes") == first
    assert store.value("SELECT count(*) FROM artifacts") == 1
    assert get_blob(store, first) == b"model bytes"
    with store.transaction():
        store.conn.execute("UPDATE artifacts SET data = ? WHERE sha256 = ?", (b"evil bytes!", first))
    with pytest.raises(PitboardError, match=f"artifact {first}: content hashes to .*altered"):
        get_blob(store, first)
    with pytest.raises(NotFound, match="artifact 00: not in the database"):
        get_blob(store, "00")


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_allowed_estimator_round_trips_through_the_trusted_loader(name: str) -> None:
    from core.experiments.pipeline_builder import build_pipeline

    frame = credit_frame(80)
    task = ESTIMATORS[name][1]
    spec = parse_spec(f'experiment = "e"\ndataset = "d"\n[preprocessing]\nencoding = "ordinal"\n[[candidates]]\nestimator = "{name}"\n')
    X = frame[["income", "debt_ratio", "age", "grade"]]
    y = frame["default"] if task == "classification" else frame["income"]
    params = {"n_neighbors": 3} if "KNeighbors" in name else {}
    pipeline = build_pipeline(spec, spec.candidates[0], params, ["income", "debt_ratio", "age"], ["grade"])
    pipeline.fit(X, y)
    loaded = load_model(dump_model(pipeline))
    assert type(loaded[-1]) is estimator_class(name)
    assert np.array_equal(loaded.predict(X), pipeline.predict(X))


def test_a_model_file_with_an_untrusted_type_is_refused() -> None:
    import os

    from sklearn.preprocessing import FunctionTransformer

    hostile = dump_model(FunctionTransformer(func=os.system))
    with pytest.raises(UntrustedModelError, match=r"refusing to load untrusted type \w*\.system"):
        load_model(hostile)
    with pytest.raises(PitboardError, match="not a readable skops file"):
        load_model(b"not a zip file")


def test_regression_runs_score_with_rmse_and_the_best_is_the_lowest(store: Store, tmp_path: Path) -> None:
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    from core.data.datasets import add_frame

    sequential_training(tmp_path)
    add_frame(store, "incomes", credit_frame().drop(columns="default"), source="tests", target="income", id_column="applicant_id")
    spec = parse_spec('experiment = "incomes"\ndataset = "incomes"\n[search]\ncv = 3\n'
                      '[[candidates]]\nestimator = "Ridge"\nparams = { alpha = [1.0, 1000.0] }\n'
                      '[[candidates]]\nestimator = "HistGradientBoostingRegressor"\nparams = { max_iter = [20] }\n')
    result = train_spec(store, spec)
    runs = [get_run(store, run_id) for run_id in result.run_ids]
    assert [(r.status, r.task, r.primary_metric, r.classes) for r in runs] == [("FINISHED", "regression", "rmse", None)] * 3
    assert result.best_run_id == min(runs, key=lambda r: r.metrics["rmse"]).id
    for run in runs:
        X, y = holdout(store, run)
        predicted = load_model(get_blob(store, run.model_sha256)).predict(X)
        assert run.metrics["rmse"] == pytest.approx(root_mean_squared_error(y, predicted))
        assert run.metrics["mae"] == pytest.approx(mean_absolute_error(y, predicted))
        assert run.metrics["r2"] == pytest.approx(r2_score(y, predicted))
        assert run_curves(store, run.id) == {}
    assert len(metric_points(store, runs[2].id)["holdout_rmse"]) == 20


def test_multiclass_runs_get_macro_averages_equal_to_scikit_learn(store: Store, tmp_path: Path) -> None:
    from sklearn.metrics import f1_score, log_loss, roc_auc_score

    from core.data.datasets import add_frame

    sequential_training(tmp_path)
    add_frame(store, "grades", credit_frame(), source="tests", target="grade", id_column="applicant_id")
    spec = parse_spec('experiment = "grades"\ndataset = "grades"\nprimary_metric = "f1"\n[search]\ncv = 3\n'
                      '[[candidates]]\nestimator = "LogisticRegression"\n')
    run = get_run(store, train_spec(store, spec).run_ids[0])
    assert run.classes == ["A", "B", "C", "D"] and run.status == "FINISHED"
    model = load_model(get_blob(store, run.model_sha256))
    X, y = holdout(store, run)
    proba = model.predict_proba(X)
    assert run.metrics["f1"] == pytest.approx(f1_score(y, model.predict(X), average="macro"))
    assert run.metrics["log_loss"] == pytest.approx(log_loss(y, proba))
    assert run.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    assert run_curves(store, run.id) == {}  # ROC/PR curves are drawn for binary problems only
