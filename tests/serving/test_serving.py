"""The prediction service in-process (TestClient runs the real app and its lifespan)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from core.registry.versions import move_alias, resolve
from core.serving.predictlog import read_log
from core.serving.service import Service, create_app
from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0

ROW = {"income": 41.5, "debt_ratio": 0.62, "purpose": "car"}


@pytest.fixture
def client(served, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    service = Service(served["db"], "scoring@champion")
    with TestClient(create_app(service)) as http:
        yield http, service


def _logged(db: Path):
    with Store.open(db, clock=fixed_clock(T0)) as store:
        return read_log(store)


def test_predict_answers_like_the_pipeline_and_logs_every_row(served, client) -> None:
    http, service = client
    rows = [ROW, {"income": None, "debt_ratio": 0.05, "purpose": "home"}]
    answer = http.post("/predict", json={"records": rows})
    assert answer.status_code == 200
    body = answer.json()
    expected = served["pipe1"].predict_proba(pd.DataFrame(rows).astype({"income": float}))
    got = np.array([[p["probabilities"]["0"], p["probabilities"]["1"]] for p in body["predictions"]])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert [p["label"] for p in body["predictions"]] == list(expected.argmax(axis=1))
    assert body["version"] == 1 and body["model"] == "scoring"
    ids = [p["id"] for p in body["predictions"]]
    assert ids == [f"{service.deployment_id}-1", f"{service.deployment_id}-2"]

    columns = http.post("/predict", json={"columns": {k: [v] for k, v in ROW.items()}}).json()
    assert columns["predictions"][0]["probabilities"] == body["predictions"][0]["probabilities"]
    service.close()  # what the lifespan runs at shutdown: flush the log, end the deployment
    service_db = served["db"]
    table = _logged(service_db)
    assert table.num_rows == 3
    assert table.column("meta.seq").to_pylist() == [1, 2, 3]
    assert table.column("feature.purpose").to_pylist() == ["car", "home", "car"]
    income = table.column("feature.income").to_numpy(zero_copy_only=False)
    assert income[0] == 41.5 and math.isnan(income[1])
    np.testing.assert_allclose(table.column("output.proba_1").to_numpy()[:2], expected[:, 1])
    with Store.open(service_db) as store:
        ended = store.value("SELECT ended_at FROM deployments WHERE id = ?", (service.deployment_id,))
        actions = [r["action"] for r in store.rows("SELECT action FROM audit ORDER BY id")]
    assert ended == T0
    assert actions[-2:] == ["serve.start", "serve.stop"]


@pytest.mark.parametrize(
    ("payload", "loc", "kind"),
    [
        ({"records": [{**ROW, "zip": "10115"}]}, ["body", "records", 0, "zip"], "extra_forbidden"),
        ({"records": [{"income": 3.0, "purpose": "car"}]}, ["body", "records", 0, "debt_ratio"], "missing"),
        ({"records": [{**ROW, "debt_ratio": "high"}]}, ["body", "records", 0, "debt_ratio"], "float_type"),
        ({"records": [{**ROW, "debt_ratio": True}]}, ["body", "records", 0, "debt_ratio"], "float_type"),
        ({"records": [{**ROW, "debt_ratio": 10**400}]}, ["body", "records", 0, "debt_ratio"], "float_type"),
        ({"records": [{**ROW, "debt_ratio": None}]}, ["body", "records", 0, "debt_ratio"], "null_not_allowed"),
        ({"records": [{**ROW, "purpose": 3}]}, ["body", "records", 0, "purpose"], "string_type"),
        ({"columns": {"income": [1.0, 2.0], "debt_ratio": [0.1], "purpose": ["car"]}}, ["body", "columns"], "value_error"),
        ({"records": []}, ["body", "records"], "list_type"),
        ({"rows": [ROW]}, ["body"], "value_error"),
        ([ROW], ["body"], "value_error"),
    ],
    ids=["extra", "missing", "wrong-type", "bool-for-number", "too-large-for-a-float", "null", "number-for-category", "ragged", "empty", "wrong-key", "bare-list"],
)
def test_bad_requests_get_a_422_naming_the_field_and_log_nothing(client, served, payload, loc, kind) -> None:
    http, service = client
    answer = http.post("/predict", json=payload)
    assert answer.status_code == 422
    assert {"loc": loc, "type": kind} == {k: answer.json()["detail"][0][k] for k in ("loc", "type")}
    service.close()
    assert _logged(served["db"]).num_rows == 0


def test_nan_in_json_is_refused_where_the_signature_says_not_nullable(client) -> None:
    http, _ = client
    body = json.dumps({"records": [{**ROW, "debt_ratio": float("nan")}]})  # Python writes the NaN literal
    answer = http.post("/predict", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "null_not_allowed"


def test_malformed_json_and_oversized_batches_and_bodies(client, served, monkeypatch) -> None:
    http, service = client
    bad = http.post("/predict", content=b'{"records": [', headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "json_invalid"
    too_many = http.post("/predict", json={"records": [ROW] * 1001})
    assert too_many.status_code == 422
    assert "batch limit of 1000" in too_many.json()["detail"][0]["msg"]
    huge = b'{"records": [' + b" " * 11_000_000 + b"]}"
    assert http.post("/predict", content=huge, headers={"content-type": "application/json"}).status_code == 413
    streamed = iter([b'{"records": [', b" " * 6_000_000, b" " * 6_000_000, b"]}"])  # chunked: no length up front
    refused = http.post("/predict", content=streamed, headers={"content-type": "application/json"})
    assert refused.status_code == 413 and "larger than 10000000 bytes" in refused.json()["detail"]


def test_unknown_category_is_scored_as_the_encoder_says_and_reported(client, served) -> None:
    http, _ = client
    answer = http.post("/predict", json={"records": [ROW, {**ROW, "purpose": "yacht"}]})
    assert answer.status_code == 200
    body = answer.json()
    assert body["unknown_categories"] == [
        {"row": 1, "field": "purpose", "value": "yacht", "handling": "ignored: encoded as all zeros"}
    ]
    expected = served["pipe1"].predict_proba(pd.DataFrame([{**ROW, "purpose": "yacht"}]))[0, 1]
    assert body["predictions"][1]["probabilities"]["1"] == pytest.approx(expected, rel=1e-12)


def test_feedback_accepts_known_ids_and_reports_unknown_ones(client, served) -> None:
    http, service = client
    ids = [p["id"] for p in http.post("/predict", json={"records": [ROW, ROW]}).json()["predictions"]]
    answer = http.post("/feedback", json={"labels": [{"id": ids[0], "label": 1}, {"id": "999-1", "label": 0}, {"id": "x", "label": 0}]})
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 1, "unknown_ids": ["999-1", "x"]}
    wrong = http.post("/feedback", json={"labels": [{"id": ids[1], "label": 7}]})
    assert wrong.status_code == 422 and "not one of the model's classes" in wrong.json()["detail"][0]["msg"]
    service.close()
    with Store.open(served["db"]) as store:
        assert [tuple(r) for r in store.rows("SELECT deployment_id, seq, label FROM feedback")] == [(service.deployment_id, 1, 1)]


def test_feedback_ids_with_digits_other_than_ascii_are_unknown_not_a_crash(client) -> None:
    http, service = client
    ids = [p["id"] for p in http.post("/predict", json={"records": [ROW]}).json()["predictions"]]
    deployment, seq = ids[0].split("-")
    odd = [f"{deployment}-\u00b2", f"\u00b2-{seq}", f"{deployment}-\u0661", "\u0661-1"]  # superscript two, Arabic-Indic one
    answer = http.post("/feedback", json={"labels": [{"id": text, "label": 1} for text in odd]})
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 0, "unknown_ids": odd}


def test_health_metadata_and_openapi(client) -> None:
    http, service = client
    assert http.get("/health").json() == {"status": "ok", "model": "scoring", "version": 1, "deployment": service.deployment_id}
    meta = http.get("/metadata").json()
    assert [f["name"] for f in meta["signature"]] == ["income", "debt_ratio", "purpose"]
    assert meta["outputs"] == ["label", "proba_0", "proba_1"]
    assert meta["unknown_category_handling"] == {"purpose": "ignore"}
    assert meta["preprocessing"].startswith("compiled"), "the test pipeline is one core.serving.fastpath translates"
    document = http.get("/openapi.json").json()
    paths = document["paths"]
    assert {"/predict", "/feedback", "/health", "/metadata"} <= set(paths)
    assert "records" in json.dumps(paths["/predict"]["post"]["requestBody"])
    answer = paths["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][answer.rsplit("/", 1)[1]]
    assert {"request_id", "model", "version", "predictions", "unknown_categories"} <= set(schema["properties"])
    assert "Prediction" in document["components"]["schemas"]
    assert {"401", "413", "422"} <= set(paths["/predict"]["post"]["responses"])


def test_predict_takes_only_post_and_answers_in_json(client) -> None:
    http, _ = client
    wrong = http.get("/predict")
    assert (wrong.status_code, wrong.headers["allow"], wrong.json()) == (405, "POST", {"detail": "Method Not Allowed"})
    answer = http.post("/predict", json={"records": [ROW]})
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.content)


def test_bearer_token_is_required_when_set(served, monkeypatch) -> None:
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    service = Service(served["db"], "scoring@champion", token="s3cret")
    with TestClient(create_app(service)) as http:
        refused = http.post("/predict", json={"records": [ROW]})
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
        assert refused.json() == {"detail": "missing or wrong bearer token"}
        assert http.post("/predict", json={"records": [ROW]}, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert http.get("/metadata").status_code == 401
        ok = http.post("/predict", json={"records": [ROW]}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
    assert _logged(served["db"]).num_rows == 1, "leaving the app's lifespan flushed the log"
    with Store.open(served["db"]) as store:
        assert store.value("SELECT ended_at FROM deployments WHERE id = ?", (service.deployment_id,)) == T0


def test_the_service_follows_the_alias_without_failing_a_request(client, served) -> None:
    http, service = client
    before = http.post("/predict", json={"records": [ROW]}).json()
    with Store.open(served["db"], clock=fixed_clock(T0)) as store:
        move_alias(store, "scoring", "champion", resolve(store, "scoring@2"), action="set", reason="test")
        assert service.check_alias(store) is True
        assert service.check_alias(store) is False
    after = http.post("/predict", json={"records": [ROW]}).json()
    assert (before["version"], after["version"]) == (1, 2)
    expected = served["pipe2"].predict_proba(pd.DataFrame([ROW]))[0, 1]
    assert after["predictions"][0]["probabilities"]["1"] == pytest.approx(expected, rel=1e-12)
    service.close()
    table = _logged(served["db"])
    with Store.open(served["db"]) as store:
        versions = [r[0] for r in store.rows("SELECT version_id FROM prediction_batches ORDER BY first_seq")]
    assert versions == [served["v1"].id, served["v2"].id]
    assert table.num_rows == 2


def test_concurrent_requests_are_batched_and_each_gets_its_own_rows(served, monkeypatch) -> None:
    import asyncio

    import httpx

    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    service = Service(served["db"], "scoring@champion")
    app = create_app(service)
    rows = [{**ROW, "debt_ratio": i / 100} for i in range(40)]

    async def run() -> list[dict]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answers = await asyncio.gather(*[http.post("/predict", json={"records": [row]}) for row in rows])
        return [a.json() for a in answers]

    bodies = asyncio.run(run())
    service.close()
    expected = served["pipe1"].predict_proba(pd.DataFrame(rows))[:, 1]
    got = [b["predictions"][0]["probabilities"]["1"] for b in bodies]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert service.batcher.rows == 40 and service.batcher.batches < 40
    table = _logged(served["db"])
    by_id = dict(zip(table.column("meta.seq").to_pylist(), table.column("feature.debt_ratio").to_pylist()))
    for body, row in zip(bodies, rows):
        seq = int(body["predictions"][0]["id"].split("-")[1])
        assert by_id[seq] == row["debt_ratio"]
