"""POST /explain and `pitboard explain` on versions trained by the real engine.

The contributions must add up to the model's own output for the row (its decision
function for a linear model, its trees' probability for a tree), the method must be named
(an estimate says so and carries errors), and limits and faults are clear 413/422s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from core.registry.versions import load_estimator, move_alias, register, resolve
from core.serving.service import Service, create_app
from tests.conftest import SAMPLE_DATA, T0

KNN_SPEC = """
experiment = "credit-knn"
dataset = "credit"
target = "default"
primary_metric = "roc_auc"
seed = 11

[split]
test_size = 0.25

[search]
cv = 2

[[candidates]]
estimator = "KNeighborsClassifier"
params = { n_neighbors = [15] }
"""


def _rows(n: int) -> list[dict]:
    frame = pd.read_csv(SAMPLE_DATA / "credit_train.csv").iloc[500:500 + n]
    frame = frame.drop(columns=["default", "application_date", "applicant_id"]).astype(object)
    return frame.where(frame.notna(), None).to_dict(orient="records")


@pytest.fixture
def credit(trained):
    """credit-risk v1 (LogisticRegression, champion) and v2 (a depth-1 tree), from real runs."""
    store = trained.open()
    v1 = register(store, trained.good_run, "credit-risk")
    v2 = register(store, trained.weak_run, "credit-risk")
    move_alias(store, "credit-risk", "champion", v1, action="set")
    store.close()
    return trained


def _client(db, ref, monkeypatch):
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    service = Service(db, ref)
    return TestClient(create_app(service)), service


def _pipeline_output(db, ref, rows, method):
    from core.store.database import Store

    with Store.open(db) as store:
        mv = resolve(store, ref)
        pipeline = load_estimator(store, mv)
    frame = pd.DataFrame(rows)[[f["name"] for f in mv.info["signature"]]]
    if method == "linear":
        return pipeline.decision_function(frame)
    return pipeline.predict_proba(frame)[:, 1]


@pytest.mark.parametrize(("ref", "method"), [("credit-risk@1", "linear"), ("credit-risk@2", "tree")])
def test_explain_adds_up_to_the_models_output(credit, monkeypatch, ref, method) -> None:
    rows = _rows(25)
    http, _ = _client(credit.db, ref, monkeypatch)
    with http:
        answer = http.post("/explain", json={"records": rows})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["method"] == method and body["exact"] is True
    assert body["output"] == ("log-odds of 1" if method == "linear" else "probability of 1")
    want = _pipeline_output(credit.db, ref, rows, method)
    for row, expected_out in zip(body["explanations"], want):
        total = sum(entry["contribution"] for entry in row["contributions"]) + row["expected"]
        assert row["prediction"] == pytest.approx(expected_out, abs=1e-9)
        assert total == pytest.approx(expected_out, abs=1e-9)
        assert {entry["feature"] for entry in row["contributions"]} == set(rows[0])
        assert all("error" not in entry for entry in row["contributions"])
    # largest first
    sizes = [abs(e["contribution"]) for e in body["explanations"][0]["contributions"]]
    assert sizes == sorted(sizes, reverse=True)


def test_a_model_without_an_exact_method_is_estimated_and_says_so(credit, monkeypatch) -> None:
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec

    store = credit.open()
    run = train_spec(store, parse_spec(KNN_SPEC, source="knn spec")).best_run_id
    register(store, run, "credit-knn")
    store.close()
    rows = _rows(3)
    http, _ = _client(credit.db, "credit-knn@1", monkeypatch)
    with http:
        answer = http.post("/explain", json={"records": rows})
        too_many = http.post("/explain", json={"records": _rows(21)})
    body = answer.json()
    assert answer.status_code == 200 and body["method"] == "sampling" and body["exact"] is False
    assert body["about"].startswith("estimate")
    want = _pipeline_output(credit.db, "credit-knn@1", rows, "sampling")
    for row, expected_out in zip(body["explanations"], want):
        assert all(entry["error"] >= 0 for entry in row["contributions"])
        total = sum(entry["contribution"] for entry in row["contributions"]) + row["expected"]
        assert total == pytest.approx(expected_out, abs=1e-9)
    assert too_many.status_code == 422
    assert "21 rows is more than the batch limit of 20 rows to explain (estimated (sampling)" in too_many.json()["detail"][0]["msg"]


def test_limits_and_faults_are_clear_413s_and_422s(credit, served, monkeypatch) -> None:
    http, _ = _client(credit.db, "credit-risk@champion", monkeypatch)
    with http:
        too_many = http.post("/explain", json={"records": _rows(1) * 1001})
        huge = http.post("/explain", content=b'{"records": [' + b" " * 11_000_000 + b"]}",
                         headers={"content-type": "application/json"})
        missing = http.post("/explain", json={"records": [{"income": 1.0}]})
        malformed = http.post("/explain", content=b"{", headers={"content-type": "application/json"})
        predict = http.post("/predict", json={"records": _rows(2)})  # the fast path still answers
    assert too_many.status_code == 422 and "max_explain_rows" in too_many.json()["detail"][0]["msg"]
    assert huge.status_code == 413
    assert missing.status_code == 422 and missing.json()["detail"][0]["type"] == "missing"
    assert malformed.status_code == 422 and malformed.json()["detail"][0]["type"] == "json_invalid"
    assert predict.status_code == 200 and len(predict.json()["predictions"]) == 2
    # a linear model whose training data is not in this database: said, not guessed
    other, _ = _client(served["db"], "scoring@champion", monkeypatch)
    with other:
        refused = other.post("/explain", json={"records": [{"income": 41.5, "debt_ratio": 0.6, "purpose": "car"}]})
    assert refused.status_code == 422
    assert "training data is not in this database" in refused.json()["detail"][0]["msg"]


def test_pitboard_explain_writes_a_csv_that_adds_up(credit, pitboard, tmp_path) -> None:
    frame = pd.DataFrame(_rows(30))
    source = tmp_path / "rows.csv"
    frame.to_csv(source, index=False)
    out = tmp_path / "explained.csv"
    done = pitboard("--db", str(credit.db), "explain", "credit-risk@champion", str(source), "-o", str(out))
    assert done.exit_code == 0, done.stderr
    assert "exact" in done.stdout and "log-odds" in done.stdout
    written = pd.read_csv(out)
    contributions = written[[c for c in written.columns if c.startswith("contribution_")]]
    assert len(contributions.columns) == len(frame.columns)
    want = _pipeline_output(credit.db, "credit-risk@1", frame.to_dict(orient="records"), "linear")
    np.testing.assert_allclose(contributions.sum(axis=1) + written["expected"], want, atol=1e-9)
    printed = pitboard("--db", str(credit.db), "explain", "credit-risk@2", str(source))
    assert printed.exit_code == 0 and printed.stdout.count("\nrow ") == 30
    again = pitboard("--db", str(credit.db), "explain", "credit-risk@champion", str(source), "-o", str(out))
    assert again.exit_code == 2 and "already exists" in again.stderr
    bad = tmp_path / "bad.csv"
    frame.assign(income="lots").to_csv(bad, index=False)
    refused = pitboard("--db", str(credit.db), "explain", "credit-risk@champion", str(bad))
    assert refused.exit_code == 2 and "line 2" in refused.stderr and "income" in refused.stderr
