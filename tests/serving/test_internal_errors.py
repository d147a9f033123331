"""A fault inside the service: the client gets 500 with a request id, never a traceback,
and the service's log has the traceback under that id. The fault is injected in-process."""

from __future__ import annotations

import re

ROW = {"income": 41.5, "debt_ratio": 0.62, "purpose": "car"}


def test_a_fault_inside_predict_is_a_500_with_a_request_id_and_a_logged_traceback(client, monkeypatch, capfd) -> None:
    http, service = client

    async def broken(payload, started):
        raise ZeroDivisionError("injected fault")

    monkeypatch.setattr(service, "predict", broken)
    answer = http.post("/predict", json={"records": [ROW]})
    assert answer.status_code == 500
    request_id = answer.json()["request_id"]
    assert answer.json() == {"detail": "internal error; the service logged it under this request id", "request_id": request_id}
    assert re.fullmatch(rf"{service.deployment_id}-e[0-9a-f]{{12}}", request_id)
    log = capfd.readouterr().err
    assert f"serve: internal error, request {request_id}: POST /predict\nTraceback (most recent call last):" in log
    assert log.rstrip().endswith("ZeroDivisionError: injected fault") and log.count("Traceback") == 1
    assert http.post("/predict", json={"records": [ROW]}).status_code == 500  # still serving
    monkeypatch.undo()
    assert http.post("/predict", json={"records": [ROW]}).status_code == 200


def test_a_fault_inside_a_fastapi_route_answers_the_same_way(client, monkeypatch, capfd) -> None:
    http, service = client
    monkeypatch.setattr(service, "metadata", lambda: {}["missing"])
    answer = http.get("/metadata")
    assert answer.status_code == 500 and answer.json()["detail"].startswith("internal error")
    request_id = answer.json()["request_id"]
    log = capfd.readouterr().err
    assert f"serve: internal error, request {request_id}: GET /metadata\nTraceback" in log
    assert log.rstrip().endswith("KeyError: 'missing'") and log.count("Traceback") == 1
    assert http.get("/health").status_code == 200
