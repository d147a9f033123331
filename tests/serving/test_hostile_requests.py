"""Requests built to break the service: JSON nested thousands deep, values that are whole
structures or megabytes long. Every one gets a 422 naming the field, never a 500."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

ROW = {"income": 41.5, "debt_ratio": 0.62, "purpose": "car"}
TOO_DEEP = {"detail": [{"loc": ["body"], "msg": "malformed JSON: nested too deeply", "type": "json_invalid"}]}


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def post(http: TestClient, path: str, body: str):
    return http.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("path", ["/predict", "/feedback"])
@pytest.mark.parametrize("depth", [1_030, 5_000])
def test_json_nested_thousands_deep_is_malformed_json(client, path: str, depth: int) -> None:
    http, _ = client
    answer = post(http, path, nested(depth))  # 5,000 deep is 10 KB
    assert (answer.status_code, answer.json()) == (422, TOO_DEEP)


@pytest.mark.parametrize(("field", "expected", "kind"), [
    ("income", "expected a finite number, got [[[...]]]", "float_type"),
    ("purpose", "expected a string category, got [[[...]]]", "string_type"),
])
def test_a_value_nested_a_thousand_deep_is_quoted_shallowly(client, field: str, expected: str, kind: str) -> None:
    http, _ = client
    record = json.dumps({**ROW, field: "@"}).replace('"@"', nested(1_000))
    answer = post(http, "/predict", '{"records": [%s]}' % record)  # within orjson's 1,024 levels: parsed, then refused
    assert (answer.status_code, answer.json()["detail"]) == (422, [{"loc": ["body", "records", 0, field], "msg": expected, "type": kind}])


def test_feedback_ids_and_labels_nested_deep_are_refused_by_field(client) -> None:
    http, _ = client
    answer = post(http, "/feedback", '{"labels": [{"id": "1-1", "label": %s}, {"id": %s, "label": 1}]}'
                  % (nested(1_000), nested(1_000)))
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"loc": ["body", "labels", 0, "label"], "msg": "[[[...]]] is not one of the model's classes [0, 1]", "type": "value_error"},
        {"loc": ["body", "labels", 1, "id"], "msg": "expected a prediction id such as '3-17', got [[[...]]]", "type": "string_type"},
    ]


def test_a_long_value_is_quoted_in_part(client) -> None:
    http, _ = client
    answer = http.post("/predict", json={"records": [{**ROW, "income": "9" * 100_000}]})
    message = answer.json()["detail"][0]["msg"]
    assert answer.status_code == 422 and len(message) < 120 and message.startswith("expected a finite number, got '9999")
