"""`pitboard train`, `runs ...` and `gc` through the real command, asserting on values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store

from tests.conftest import SAMPLE_DATA, T0, file_bytes
from tests.experiments.helpers import SMALL_SPEC, credit_db, write_spec  # noqa: F401 (credit_db is a fixture)

pytestmark = pytest.mark.slow

SPEC = SMALL_SPEC.replace('max_depth = [3]', 'max_depth = [2, 4]')


def checkpointed(db_path: Path) -> bytes:
    with Store.open(db_path) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return file_bytes(db_path)


def test_train_list_sort_show_compare_delete_gc(pitboard, credit_db: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SPEC)
    trained = pitboard("train", spec, "--json")
    assert trained.exit_code == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert (result["experiment"], result["dataset"], result["failed"], len(result["runs"])) == ("credit-risk", "credit@1", 0, 4)
    assert [r["estimator"] for r in result["runs"]] == ["LogisticRegression"] * 2 + ["DecisionTreeClassifier"] * 2

    ranked = json.loads(pitboard("runs", "list", "--sort", "-metrics.roc_auc", "--json").stdout)
    values = [r["primary_value"] for r in ranked]
    assert values == sorted(values, reverse=True) and len(ranked) == 4
    assert result["best_run_id"] == ranked[0]["id"]
    text = pitboard("runs", "list", "--sort", "-metrics.roc_auc", "-e", "credit-risk").stdout.splitlines()
    assert text[0].split() == ["run", "experiment", "search", "status", "estimator", "metric", "value", "cv_mean", "seconds"]
    assert [int(line.split()[0]) for line in text[2:]] == [r["id"] for r in ranked]

    trees = pitboard("runs", "list", "--filter", "params.classifier = 'DecisionTreeClassifier'", "--json")
    assert [r["id"] for r in json.loads(trees.stdout)] == [4, 3]

    shown = pitboard("runs", "show", "1")
    assert shown.exit_code == 0
    assert "estimator        LogisticRegression" in shown.stdout and "config           C=0.05" in shown.stdout
    assert "permutation importance (holdout):" in shown.stdout and "input signature:" in shown.stdout
    detail = json.loads(pitboard("runs", "show", "1", "--json").stdout)
    assert detail["params"]["classifier__C"] == "0.05" and len(detail["points"]["cv_roc_auc"]) == 3
    assert detail["curves"]["roc"]["x"][0] == 0.0

    top_two = [str(r["id"]) for r in ranked[:2]]
    compared = pitboard("runs", "compare", *top_two)
    assert compared.exit_code == 0
    assert "identical params hidden; --all shows them" in compared.stdout
    assert "preprocess__numeric__impute__strategy" not in compared.stdout
    assert "preprocess__numeric__impute__strategy" in pitboard("runs", "compare", *top_two, "--all").stdout
    first = {r["id"]: r for r in ranked}[int(top_two[0])]["primary_value"]
    second = {r["id"]: r for r in ranked}[int(top_two[1])]["primary_value"]
    roc_line = next(line for line in compared.stdout.splitlines() if line.startswith("roc_auc "))
    assert f"({second - first:.4f}".rstrip("0") in roc_line or f"({second - first:.4g}" in roc_line

    deleted = pitboard("runs", "delete", "1", "2")
    assert deleted.exit_code == 0 and "deleted runs 1, 2" in deleted.stdout
    assert [r["id"] for r in json.loads(pitboard("runs", "list", "--json").stdout)] == [4, 3]
    collected = pitboard("gc", "--json")
    report = json.loads(collected.stdout)
    assert (report["runs_purged"], report["artifacts_deleted"]) == (2, 2)
    assert report["bytes_reclaimed"] == report["bytes_before"] - report["bytes_after"] > 0
    assert "reclaimed" in pitboard("gc").stdout


def test_reproduce_exits_0_when_metrics_match_and_1_when_they_do_not(pitboard, credit_db: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SMALL_SPEC.replace("C = [0.05, 1.0]", "C = [1.0]"))
    assert pitboard("train", spec).exit_code == 0
    same = pitboard("runs", "reproduce", "1")
    assert same.exit_code == 0 and "run 1 reproduced: all 18 metrics match" in same.stdout
    with Store.open(credit_db) as store, store.transaction():
        store.conn.execute("UPDATE metrics SET value = 0.5 WHERE run_id = 1 AND key = 'cv_f1_mean'")
    changed = pitboard("runs", "reproduce", "1")
    assert changed.exit_code == 1
    assert "Error: run 1: reproduced metrics differ: cv_f1_mean" in changed.stderr
    assert "DIFFERENT" in changed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("runs", "list", "--filter", "params.x = 'a' ; DROP TABLE runs --'"), "Error: filter: unexpected character ';' at position 16"),
        (("runs", "list", "--filter", "metrics.roc_auc >"), "Error: filter: expected a number for metrics.roc_auc, got the end at position 18"),
        (("runs", "list", "--sort", "metrics"), "Error: sort: 'metrics' is not a key"),
        (("runs", "show", "99"), "Error: run 99: no such run"),
        (("runs", "delete", "99"), "Error: run 99: no such run; nothing was deleted"),
        (("runs", "compare", "1"), "Error: runs compare: give at least two runs"),
        (("runs", "list", "-e", "nope"), "Error: experiment 'nope': no such experiment"),
    ],
)
def test_bad_queries_fail_cleanly_and_change_nothing(pitboard, credit_db: Path, args, message: str) -> None:
    before = checkpointed(credit_db)
    found = pitboard(*args)
    assert found.exit_code == 2
    assert found.stderr.startswith(message)
    assert "Traceback" not in found.stderr
    assert checkpointed(credit_db) == before


@pytest.mark.parametrize(
    ("spec_text", "message"),
    [
        ("this is [not toml", r"Error: spec\.toml: not valid TOML"),
        (SPEC.replace("max_depth", "max_deep"), r"Error: spec\.toml: \[\[candidates\]\] 2 'DecisionTreeClassifier': unknown parameter 'max_deep'; valid: ccp_alpha"),
        (SPEC.replace('dataset = "credit"', 'dataset = "credit@7"'), r"Error: spec\.toml: dataset: credit@7 not found"),
        (SPEC.replace("seed = 11", 'seed = 11\ntarget = "income"'), r"Error: spec\.toml: target 'income' is continuous"),
    ],
)
def test_bad_specs_exit_2_with_one_line_and_the_database_unchanged(pitboard, credit_db: Path, tmp_path: Path, spec_text: str, message: str) -> None:
    import re

    spec = write_spec(tmp_path, spec_text)
    before = checkpointed(credit_db)
    found = pitboard("train", spec)
    assert found.exit_code == 2 and re.match(message, found.stderr), found.stderr
    assert len(found.stderr.strip().splitlines()) == 1
    assert checkpointed(credit_db) == before


def test_all_runs_failing_exits_1(pitboard, credit_db: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SMALL_SPEC.split("[[candidates]]")[0]
                      + '[[candidates]]\nestimator = "KNeighborsClassifier"\nparams = { n_neighbors = [100000] }\n')
    found = pitboard("train", spec)
    assert found.exit_code == 1
    assert "Error: spec.toml: all 1 runs failed" in found.stderr
    assert "run 1 failed: fold 1/3: ValueError" in found.stdout


def test_the_sample_spec_trains_three_families_on_the_sample_data(pitboard, db_path: Path) -> None:
    from core.data.datasets import add_dataset

    with Store.open(db_path, clock=fixed_clock(T0)) as store:
        add_dataset(store, "credit", SAMPLE_DATA / "credit_train.csv", target="default")
    trained = pitboard("train", SAMPLE_DATA / "credit_spec.toml", "--json")
    assert trained.exit_code == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert result["failed"] == 0
    assert {r["estimator"] for r in result["runs"]} >= {"LogisticRegression", "RandomForestClassifier", "HistGradientBoostingClassifier"}
    ranked = json.loads(pitboard("runs", "list", "--sort", "-metrics.roc_auc", "--json").stdout)
    assert ranked[0]["id"] == result["best_run_id"] and ranked[0]["primary_value"] > 0.7
