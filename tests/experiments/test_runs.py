"""Run records: filtering and sorting real runs, compare, delete, gc, point logging."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.experiments.runs import compare_runs, delete_runs, get_run, list_runs, log_points, metric_points, purge_deleted_runs
from core.experiments.specs import parse_spec
from core.experiments.training import train_spec
from core.store.artifacts import collect_garbage
from core.store.clock import fixed_clock
from core.store.database import Store
from core.store.errors import NotFound, PitboardError

from tests.conftest import T0
from tests.experiments.helpers import SMALL_SPEC, add_credit, sequential_training

SPEC = SMALL_SPEC.replace('max_depth = [3]', 'max_depth = [2, 4]')  # 2 logistic + 2 tree runs


@pytest.fixture(scope="module")
def trained_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained database per module; each test gets its own copy."""
    folder = tmp_path_factory.mktemp("trained")
    sequential_training(folder)
    with Store.open(folder / "pitboard.db", clock=fixed_clock(T0)) as store:
        add_credit(store)
        train_spec(store, parse_spec(SPEC, "spec.toml"))
        with store.transaction():
            store.conn.execute("INSERT INTO tags (run_id, key, value) VALUES (1, 'note', 'Baseline model')")
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return folder / "pitboard.db"


@pytest.fixture
def runs_store(trained_db: Path, tmp_path: Path):
    copy = tmp_path / "pitboard.db"
    shutil.copy(trained_db, copy)
    sequential_training(tmp_path)
    with Store.open(copy, clock=fixed_clock(T0)) as store:
        yield store


def ids(rows) -> list[int]:
    return [row["id"] for row in rows]


def test_filters_select_exactly_the_matching_runs(runs_store: Store) -> None:
    runs = {run_id: get_run(runs_store, run_id) for run_id in range(1, 5)}
    auc = sorted(run.metrics["roc_auc"] for run in runs.values())
    threshold = (auc[1] + auc[2]) / 2
    expected = sorted(i for i, r in runs.items() if r.metrics["roc_auc"] > threshold)
    assert sorted(ids(list_runs(runs_store, filter=f"metrics.roc_auc > {threshold}"))) == expected
    assert ids(list_runs(runs_store, filter="params.classifier = 'DecisionTreeClassifier'")) == [4, 3]
    assert ids(list_runs(runs_store, filter="params.classifier = 'DecisionTreeClassifier' and params.classifier__max_depth = '4'")) == [4]
    assert ids(list_runs(runs_store, filter="params.classifier__C = '0.05' or params.classifier__max_depth = '2'")) == [3, 1]
    assert ids(list_runs(runs_store, filter="(params.classifier__C = '0.05' or params.classifier__max_depth = '2') and metrics.roc_auc > 2")) == []
    assert ids(list_runs(runs_store, filter="attributes.status = 'FINISHED'")) == [4, 3, 2, 1]
    assert ids(list_runs(runs_store, filter="attributes.estimator IN ('LogisticRegression') and attributes.experiment = 'credit-risk'")) == [2, 1]
    assert ids(list_runs(runs_store, filter="params.classifier NOT IN ('LogisticRegression')")) == [4, 3]
    assert ids(list_runs(runs_store, filter="metrics.no_such_metric < 100")) == []


def test_like_is_case_sensitive_and_ilike_is_not(runs_store: Store) -> None:
    assert ids(list_runs(runs_store, filter="tags.note LIKE '%Baseline%'")) == [1]
    assert ids(list_runs(runs_store, filter="tags.note LIKE '%baseline%'")) == []
    assert ids(list_runs(runs_store, filter="tags.note ILIKE '%baseline%'")) == [1]
    assert ids(list_runs(runs_store, filter="params.classifier LIKE 'Decision_ree%'")) == [4, 3]


def test_sort_ranks_by_a_metric_and_limit_cuts(runs_store: Store) -> None:
    ranked = list_runs(runs_store, sort="-metrics.roc_auc")
    values = [row["primary_value"] for row in ranked]
    assert values == sorted(values, reverse=True) and len(values) == 4
    assert [row["primary_value"] for row in list_runs(runs_store, sort="metrics.roc_auc")] == sorted(values)
    assert ids(list_runs(runs_store, sort="-metrics.roc_auc", limit=2)) == ids(ranked)[:2]
    assert ids(list_runs(runs_store, sort="attributes.id")) == [1, 2, 3, 4]
    with pytest.raises(NotFound, match="experiment 'nope': no such experiment; known: credit-risk"):
        list_runs(runs_store, experiment="nope")


def test_injection_attempts_are_refused_or_literal_and_the_database_is_intact(runs_store: Store) -> None:
    with pytest.raises(PitboardError, match="unexpected character ';' at position 16"):
        list_runs(runs_store, filter="params.x = 'a' ; DROP TABLE runs --'")
    assert list_runs(runs_store, filter="params.classifier = 'x'' OR 1=1 --'") == []
    assert list_runs(runs_store, filter="attributes.status = 'FINISHED'' ; DROP TABLE runs; --'") == []
    with pytest.raises(PitboardError):
        list_runs(runs_store, sort="metrics.x); DROP TABLE runs; --")
    assert runs_store.value("SELECT count(*) FROM runs") == 4
    assert runs_store.value("PRAGMA integrity_check") == "ok"


def test_compare_shows_differing_params_first_and_deltas_against_the_first(runs_store: Store) -> None:
    found = compare_runs(runs_store, [3, 4])
    assert [p["key"] for p in found["params"]] == ["classifier__max_depth"]
    assert found["params"][0]["values"] == ["2", "4"]
    assert found["hidden_identical_params"] > 20
    everything = compare_runs(runs_store, [3, 4], all_params=True)
    assert everything["params"][0]["key"] == "classifier__max_depth" and len(everything["params"]) == 1 + found["hidden_identical_params"]
    a, b = get_run(runs_store, 3), get_run(runs_store, 4)
    roc = next(m for m in found["metrics"] if m["key"] == "roc_auc")
    assert roc["values"] == [a.metrics["roc_auc"], b.metrics["roc_auc"]]
    assert roc["deltas"] == [0.0, pytest.approx(b.metrics["roc_auc"] - a.metrics["roc_auc"])]
    assert next(m for m in found["metrics"] if m["key"] == "log_loss")["lower_is_better"]
    mixed = compare_runs(runs_store, [1, 3])
    assert {"classifier", "classifier__C", "classifier__max_depth"} <= {p["key"] for p in mixed["params"]}
    with pytest.raises(PitboardError, match="at least two runs"):
        compare_runs(runs_store, [1])
    with pytest.raises(NotFound, match="run 99: no such run"):
        compare_runs(runs_store, [1, 99])


def test_delete_hides_runs_and_gc_purges_them_and_their_unreferenced_blobs(runs_store: Store) -> None:
    with pytest.raises(NotFound, match="run 42: no such run; nothing was deleted"):
        delete_runs(runs_store, [1, 42])
    assert runs_store.value("SELECT count(*) FROM runs WHERE deleted_at IS NOT NULL") == 0
    blob_1 = get_run(runs_store, 1).model_sha256
    assert delete_runs(runs_store, [1, 2]) == [1, 2]
    assert ids(list_runs(runs_store)) == [4, 3]
    assert ids(list_runs(runs_store, include_deleted=True)) == [4, 3, 2, 1]
    assert get_run(runs_store, 1).deleted_at == T0
    # Something else (as a registered model version would) references run 2 and its blob.
    with runs_store.transaction():
        runs_store.conn.execute("CREATE TABLE holder (run_id INTEGER REFERENCES runs (id), sha TEXT REFERENCES artifacts (sha256))")
        runs_store.conn.execute("INSERT INTO holder SELECT id, model_sha256 FROM runs WHERE id = 2")
    assert purge_deleted_runs(runs_store) == {"runs_purged": 1, "runs_kept_referenced": 1}
    assert runs_store.value("SELECT count(*) FROM params WHERE run_id = 1") == 0
    assert runs_store.value("SELECT count(*) FROM metric_points WHERE run_id = 1") == 0
    assert runs_store.value("SELECT count(*) FROM runs") == 3
    found = collect_garbage(runs_store)
    assert found["artifacts_deleted"] == 1 and found["artifact_bytes"] > 1000
    assert runs_store.value("SELECT count(*) FROM artifacts WHERE sha256 = ?", (blob_1,)) == 0
    assert runs_store.value("SELECT count(*) FROM artifacts") == 3
    assert collect_garbage(runs_store) == {"artifacts_deleted": 0, "artifact_bytes": 0}


def test_log_points_writes_batches_and_replaces_a_repeated_step(runs_store: Store) -> None:
    assert log_points(runs_store, 1, [("loss", step, 1.0 / (step + 1)) for step in range(5000)]) == 5000
    log_points(runs_store, 1, [("loss", 0, 0.5)])
    series = metric_points(runs_store, 1)["loss"]
    assert len(series) == 5000 and series[0] == (0, 0.5) and series[-1] == (4999, 1 / 5000)
