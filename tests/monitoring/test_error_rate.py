"""Failed prediction requests: counted by the service, windowed by ingest, alerted on.

A real service (its ASGI app, in-process) gets good and bad requests; the failures reach
the database through the prediction log's flushes, ingest puts them into the windows of
their time (or seq block), and the `error_rate` rule opens an alert once per window.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.monitoring.alerts import DEFAULTS as ALERT_DEFAULTS
from core.monitoring.alerts import evaluate
from core.monitoring.ingest import ingest_files, ingest_log
from core.monitoring.references import load_reference
from core.monitoring.status import drop_old_log, evaluate_window, list_windows, status
from tests.conftest import T0, wait_for
from tests.monitoring.conftest import DAY, MODEL, PRODUCTION, month

TOKEN = "s3cret"
CONFIG = """
[serving]
log_interval = 0.02
max_body_bytes = 4000

# Latency is wall-clock time on a shared machine; these tests are about errors.
[alerts]
max_latency_p99_ms = 600000.0
min_rows = 100000  # nor about drift: no window here is big enough to judge it
"""


class Client:
    """An in-process service with a token; a 500 comes back as a response, not an exception."""

    def __init__(self, db: Path) -> None:
        from fastapi.testclient import TestClient

        from core.serving.service import Service, create_app

        self.now = T0
        self.service = Service(db, f"{MODEL}@champion", token=TOKEN)
        self.service.store.clock = lambda: self.now
        self.client = TestClient(create_app(self.service), raise_server_exceptions=False)
        self.client.__enter__()
        self.auth = {"Authorization": f"Bearer {TOKEN}"}
        self.names = [f["name"] for f in self.client.get("/metadata", headers=self.auth).json()["signature"]]
        self.rows = month(1)
        self.sent_rows = 0
        self.failed = 0

    def good(self, n_rows: int = 5) -> None:
        from core.serving.predict import frame_columns

        chunk = self.rows.iloc[self.sent_rows:self.sent_rows + n_rows]
        response = self.client.post("/predict", json={"columns": frame_columns(chunk[self.names])}, headers=self.auth)
        assert response.status_code == 200, response.text
        self.sent_rows += n_rows

    def bad(self, expected: int, **request) -> None:
        """Send a failing request; every status but 401 is a counted error."""
        response = self.client.post("/predict", headers=request.pop("headers", self.auth), **request)
        assert response.status_code == expected, response.text
        self.failed += expected != 401

    def invalid(self) -> None:
        self.bad(422, json={"records": [{"income": 1.0}]})  # most features missing

    def settle(self, store) -> None:
        """Wait until the log writer committed every row and every counted error."""
        def written() -> tuple[int, int]:
            rows = store.value("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches")
            return rows, store.value("SELECT COALESCE(SUM(n_client + n_server), 0) FROM request_errors")

        def seen() -> str:
            rows, errors = written()
            return f"the log: it wrote {rows}/{self.sent_rows} rows, {errors}/{self.failed} errors"

        wait_for(lambda: (counts := written())[0] >= self.sent_rows and counts[1] >= self.failed,
                 what=seen, timeout=30.0, interval=0.005)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def client(served) -> Iterator[Client]:
    (served.db.parent / "pitboard.toml").write_text(CONFIG)
    source = Client(served.db)
    yield source
    source.close()


def _boom(*args, **kwargs):
    raise RuntimeError("the scorer fell over")


def test_every_kind_of_failure_is_counted_except_auth_and_the_rate_is_exact(served, client, monkeypatch, pitboard):
    for i in range(40):
        client.now = T0 + 3600 + i
        client.good()
    client.invalid()
    client.invalid()
    client.bad(422, content=b"{not json", headers={**client.auth, "content-type": "application/json"})
    client.bad(413, json={"records": [{"income": float(i)} for i in range(400)]})
    with monkeypatch.context() as patch:
        patch.setattr(client.service, "answer", _boom)
        client.bad(500, json={"columns": _one_row(client)})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        client.bad(401, json={"records": []}, headers=headers)
    assert client.client.post("/feedback", json={"nope": 1}, headers=client.auth).status_code == 422  # not /predict
    store = served.open(T0 + DAY + 61)
    client.settle(store)
    assert store.value("SELECT SUM(n_client) FROM request_errors") == 4
    assert store.value("SELECT SUM(n_server) FROM request_errors") == 1

    (report,) = ingest_log(store, MODEL)
    assert report.errors == 5 and len(report.windows) == 1
    (window,) = list_windows(store, MODEL)
    assert (window["n_rows"], window["n_requests"], window["n_errors"], window["n_server_errors"]) == (200, 40, 5, 1)
    assert window["error_rate"] == 5 / 45
    (alert,) = [a for a in report.alerts if store.value("SELECT rule FROM alerts WHERE id = ?", (a,)) == "error_rate"]
    opened = store.row("SELECT * FROM alerts WHERE id = ?", (alert,))
    assert (opened["kind"], opened["severity"], opened["value"], opened["threshold"]) == ("service", "critical", 5 / 45, 0.05)
    assert opened["message"].startswith("5 of 45 requests failed (1 with 5xx): error rate 0.111")

    with store.transaction():  # judging the window again never raises its alert twice
        again = evaluate_window(store, window["model_id"], MODEL, window["id"], load_reference(store, window["version_id"]))
    assert again == [] and store.value("SELECT COUNT(*) FROM alerts WHERE rule = 'error_rate'") == 1
    (again_report,) = ingest_log(store, MODEL)
    assert again_report.windows == [] and again_report.errors == 0  # nothing counted twice

    during = pitboard("monitor", "status", MODEL, "--json")
    assert during.exit_code == 2
    shown = json.loads(during.stdout)
    assert {a["rule"] for a in shown["alerts"]} == {"error_rate"}
    assert shown["latest_window"]["error_rate"] == 5 / 45 and shown["latest_window"]["errors"] == 5
    assert "200 rows, 5 errors (11.1%)" in pitboard("monitor", "status", MODEL).stdout
    assert "11.1%" in pitboard("monitor", "windows", MODEL).stdout

    for i in range(25):  # the next day is clean: its window passes the rule and resolves the alert
        client.now = T0 + DAY + 3600 + i
        client.good()
    store.clock = lambda: T0 + 2 * DAY + 61
    client.settle(store)
    ingest_log(store, MODEL)
    latest = list_windows(store, MODEL, limit=1)[0]
    assert (latest["n_requests"], latest["n_errors"], latest["error_rate"]) == (25, 0, 0.0)
    assert store.value("SELECT state FROM alerts WHERE id = ?", (alert,)) == "resolved"
    assert pitboard("monitor", "status", MODEL).exit_code == 0


def _one_row(client: Client) -> dict:
    from core.serving.predict import frame_columns

    return frame_columns(client.rows[client.names].head(1))


def test_a_window_whose_requests_all_failed_is_written_with_no_rows(served, client):
    client.now = T0 + 7200
    for _ in range(25):
        client.invalid()
    store = served.open(T0 + DAY + 61)
    client.settle(store)
    (report,) = ingest_log(store, MODEL)
    (window,) = list_windows(store, MODEL)
    assert (window["n_rows"], window["n_requests"], window["n_errors"], window["error_rate"]) == (0, 0, 25, 1.0)
    assert (window["start"], window["end"], window["drift_share"]) == (T0, T0 + DAY, 0.0)
    features = store.rows("SELECT count, missing, drifted, test FROM monitor_window_features WHERE window_id = ?",
                          (window["id"],))
    assert features and all(tuple(f) == (0, 0, 0, None) for f in features)
    rules = {r["rule"]: r["severity"] for r in store.rows("SELECT rule, severity FROM alerts")}
    assert rules == {"error_rate": "critical"}  # nothing else is judged on a window without rows
    assert status(store, MODEL)["exit_code"] == 2


def test_row_windows_place_each_error_between_the_predictions_around_it(served):
    (served.db.parent / "pitboard.toml").write_text(CONFIG + '\n[monitoring]\nwindow = "rows"\nwindow_rows = 10\n')
    client = Client(served.db)
    try:
        for step in ("good", "good",  # seqs 1-10: block 0
                     "invalid",  # before seq 11: block 1
                     "good", "invalid", "good",  # seqs 11-20, an error between them: block 1
                     "good",  # seqs 21-25: block 2 is still filling
                     "invalid"):  # before seq 26: block 2
            getattr(client, step)()
        store = served.open(T0 + 60)
        client.settle(store)
        ingest_log(store, MODEL)
        counted = [(w["window_key"], w["n_requests"], w["n_errors"]) for w in reversed(list_windows(store, MODEL))]
        assert counted == [(0, 2, 0), (1, 2, 2)]
        assert store.value("SELECT error_seq FROM monitor_cursors") == 21
    finally:
        client.close()  # the deployment ends: its last, partial block is complete now
    store.clock = lambda: T0 + 120
    ingest_log(store, MODEL)
    counted = [(w["window_key"], w["n_rows"], w["n_requests"], w["n_errors"]) for w in reversed(list_windows(store, MODEL))]
    assert counted == [(0, 10, 2, 0), (1, 10, 2, 2), (2, 5, 1, 1)]
    assert store.value("SELECT SUM(n_errors) FROM monitor_windows") == client.failed == 3


def test_error_flushes_outlive_nothing_they_were_not_counted_in(served, client):
    client.now = T0 + 100
    client.good()
    client.invalid()
    store = served.open(T0 + DAY + 61)
    client.settle(store)
    store.clock = lambda: T0 + 40 * DAY
    assert drop_old_log(store)["error_flushes_deleted"] == 0  # not ingested yet: kept
    ingest_log(store, MODEL)
    assert drop_old_log(store)["error_flushes_deleted"] == 1
    assert store.value("SELECT COUNT(*) FROM request_errors") == 0
    assert list_windows(store, MODEL)[0]["n_errors"] == 1  # the window keeps its count


def test_an_error_flushed_after_its_window_closed_is_counted_late_not_lost(served, client):
    client.now = T0 + 100
    for _ in range(3):
        client.good()
    client.invalid()
    store = served.open(T0 + DAY + 61)
    client.settle(store)
    ingest_log(store, MODEL)
    (window,) = list_windows(store, MODEL)
    assert (window["n_requests"], window["n_errors"]) == (3, 1)
    client.now = T0 + 200  # stamped in the closed day, flushed only now: the writer stalled past the grace period
    client.invalid()
    client.invalid()
    client.settle(store)
    (report,) = ingest_log(store, MODEL)
    assert (report.late_errors, report.errors, report.windows) == (2, 0, [])
    assert list_windows(store, MODEL)[0]["n_errors"] == 1  # a closed window is never changed
    assert tuple(store.row("SELECT late_errors, late_rows FROM monitor_cursors")) == (2, 0)
    (again,) = ingest_log(store, MODEL)
    assert again.late_errors == 0  # counted once
    assert store.value("SELECT late_errors FROM monitor_cursors") == 2
    audit = json.loads(store.value("SELECT details FROM audit WHERE action = 'monitor.ingest' ORDER BY id DESC LIMIT 1"))
    assert audit["late_errors"] == 2


def test_batch_files_have_no_error_rate(served):
    store = served.open()
    ingest_files(store, f"{MODEL}@champion", [str(PRODUCTION / "month_01.csv")])
    windows = list_windows(store, MODEL)
    assert windows and {(w["n_errors"], w["error_rate"], w["n_requests"]) for w in windows} == {(0, None, None)}


@pytest.mark.parametrize(("errors", "requests", "severity", "threshold"), [
    (6, 94, "critical", 0.05),   # 0.06
    (5, 95, "warning", 0.01),    # exactly the maximum is allowed: 0.05 only warns
    (2, 98, "warning", 0.01),    # 0.02
    (1, 99, None, 0.05),         # 0.01: at the warning level, not above it
    (0, 100, None, 0.05),
])
def test_the_rule_grades_the_rate_strictly_above_its_limits(errors, requests, severity, threshold):
    window = {"n_rows": 0, "drift_share": 0.0, "n_drifted": 0, "n_features": 0, "metrics": {}, "estimated": {},
              "n_labelled": 0, "n_requests": requests, "n_errors": errors, "n_server_errors": 0,
              "error_rate": errors / (requests + errors)}
    (finding,) = evaluate(window, [], {}, ALERT_DEFAULTS)
    assert (finding.rule, finding.kind, finding.severity, finding.threshold) == ("error_rate", "service", severity, threshold)


def test_too_few_requests_are_not_judged():
    window = {"n_rows": 0, "drift_share": 0.0, "n_drifted": 0, "n_features": 0, "metrics": {}, "estimated": {},
              "n_labelled": 0, "n_requests": 9, "n_errors": 10, "n_server_errors": 0, "error_rate": 10 / 19}
    assert evaluate(window, [], {}, ALERT_DEFAULTS) == []
    assert evaluate({**window, "n_requests": 10}, [], {}, ALERT_DEFAULTS)[0].severity == "critical"

