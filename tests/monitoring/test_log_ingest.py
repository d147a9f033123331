"""The prediction log into windows: closing, exactly-once, late and future rows, labels."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from core.monitoring.ingest import ingest_log
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL, month


def _windows(store):
    return store.rows("SELECT * FROM monitor_windows ORDER BY window_key")


def test_a_day_window_closes_after_its_grace_period_and_is_counted_once(served, traffic):
    data = month(1).head(300)
    traffic.predict(data.head(200), at=T0 + 3600)
    traffic.predict(data.tail(100), at=T0 + DAY + 600)  # the next day: stays open
    store = served.open(T0 + DAY + 30)
    traffic.settle(store)
    (report,) = ingest_log(store, MODEL)
    assert report.windows == [] and report.waiting_rows == 300  # day 1 is within its grace period
    assert report.waiting_for.startswith("their daily window, which closes at 2026-01-02 00:01:00 UTC;")
    assert 'window = "rows" makes windows by volume' in report.waiting_for
    store.clock = lambda: T0 + DAY + 61
    (report,) = ingest_log(store, MODEL)
    assert report.rows == 200 and len(report.windows) == 1 and report.waiting_rows == 100
    (window,) = _windows(store)
    assert (window["start"], window["end"], window["n_rows"], window["kind"]) == (T0, T0 + DAY, 200, "daily")
    assert (window["seq_lo"], window["seq_hi"]) == (1, 200)
    features = {r["feature"]: r for r in store.rows("SELECT * FROM monitor_window_features WHERE window_id = ?", (window["id"],))}
    income = data.head(200)["income"]
    assert features["income"]["count"] == int(income.notna().sum())
    assert features["income"]["missing"] == int(income.isna().sum())
    assert sum(json.loads(features["income"]["histogram"])) == features["income"]["count"]
    assert window["latency_p50"] is not None and window["positive_rate"] is not None
    (again,) = ingest_log(store, MODEL)  # nothing new: nothing written, nothing counted twice
    assert again.windows == [] and len(_windows(store)) == 1


def test_rows_windows_close_when_full(served, traffic):
    (served.db.parent / "pitboard.toml").write_text('[serving]\nlog_interval = 0.02\n[monitoring]\nwindow = "rows"\nwindow_rows = 120\n')
    traffic.predict(month(1).head(300), at=T0 + 60)
    store = served.open(T0 + 120)
    traffic.settle(store)
    (report,) = ingest_log(store, MODEL)
    assert [w["n_rows"] for w in _windows(store)] == [120, 120]
    assert report.waiting_rows == 60 and report.waiting_for == "a full window of 120 rows (60 so far)"
    assert store.value("SELECT next_seq FROM monitor_cursors") == 241


def test_late_rows_are_counted_not_added_to_a_closed_window(served, traffic):
    traffic.predict(month(1).head(50), at=T0 + 100)
    store = served.open(T0 + DAY + 61)
    traffic.settle(store)
    ingest_log(store, MODEL)
    traffic.predict(month(1).tail(30), at=T0 + 200)  # stamped in day 1, flushed after it closed
    traffic.settle(store)
    (report,) = ingest_log(store, MODEL)
    assert report.late_rows == 30 and report.windows == []
    assert [w["n_rows"] for w in _windows(store)] == [50]
    assert store.value("SELECT late_rows FROM monitor_cursors") == 30


def test_predictions_from_the_future_wait_for_their_window_and_are_reported(served, traffic):
    traffic.predict(month(1).head(40), at=T0 + 5 * DAY + 10)  # the service clock runs days ahead
    store = served.open(T0 + 3600)
    traffic.settle(store)
    (report,) = ingest_log(store, MODEL)
    assert (report.windows, report.waiting_rows, report.future_rows) == ([], 40, 40)
    store.clock = lambda: T0 + 6 * DAY + 61
    (report,) = ingest_log(store, MODEL)
    (window,) = _windows(store)
    assert (window["start"], window["n_rows"], report.future_rows) == (T0 + 5 * DAY, 40, 0)


def test_labels_from_feedback_give_the_real_metrics(served, traffic):
    data = month(2).head(400)
    ids = traffic.predict(data, at=T0 + 100)
    store = served.open(T0 + DAY + 61)
    traffic.settle(store)
    ingest_log(store, MODEL)
    (window,) = _windows(store)
    assert window["n_labelled"] == 0 and json.loads(window["metrics"]) == {}
    estimated = json.loads(window["estimated"])
    assert 0.5 < estimated["roc_auc"] < 1.0 and 0.5 < estimated["accuracy"] <= 1.0
    half = len(ids) // 2
    answer = traffic.feedback(ids[:half] + ["999-1", "nonsense"], list(data["default"][:half]) + [0, 1])
    assert answer["unknown_ids"] == ["999-1", "nonsense"]
    traffic.settle(store)
    ingest_log(store, MODEL)
    (window,) = _windows(store)
    metrics = json.loads(window["metrics"])
    outputs = store.row("SELECT * FROM monitor_window_outputs WHERE window_id = ?", (window["id"],))
    scores = np.frombuffer(outputs["scores"], dtype=np.float64)[:half]
    y = data["default"].to_numpy()[:half]
    assert window["n_labelled"] == half
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert metrics["accuracy"] == pytest.approx(accuracy_score(y, scores > 0.5), abs=1e-12)
    traffic.feedback(ids[half:], list(data["default"][half:]))  # the rest arrive: metrics recomputed over all
    traffic.settle(store)
    ingest_log(store, MODEL)
    (window,) = _windows(store)
    all_scores = np.frombuffer(outputs["scores"], dtype=np.float64)
    assert window["n_labelled"] == len(ids)
    assert json.loads(window["metrics"])["roc_auc"] == pytest.approx(roc_auc_score(data["default"], all_scores), abs=1e-12)


def test_status_reads_only_window_aggregates(served, traffic, pitboard):
    traffic.predict(month(1).head(1000), at=T0 + 100)
    store = served.open(T0 + DAY + 61)
    traffic.settle(store)
    ingest_log(store, MODEL)
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    from core.monitoring.status import list_windows, status

    found = status(store, MODEL)
    list_windows(store, MODEL)
    store.conn.set_trace_callback(None)
    assert found["state"] == "ok" and found["latest_window"]["rows"] == 1000
    assert statements, "the trace saw no SQL"
    raw = [s for s in statements if re.search(r"\b(prediction_batches|feedback|monitor_window_outputs)\b", s)]
    assert raw == []


def test_labels_that_arrive_late_can_open_a_performance_alert(served, traffic):
    data = month(3).head(600)
    ids = traffic.predict(data, at=T0 + 100)
    store = served.open(T0 + DAY + 61)
    traffic.settle(store)
    ingest_log(store, MODEL)
    traffic.feedback(ids, list(1 - data["default"]))  # the model is now wrong about everyone
    traffic.settle(store)
    reports = ingest_log(store, MODEL)
    (labels,) = [r for r in reports if r.relabelled]
    (alert,) = store.rows("SELECT * FROM alerts WHERE id IN (%s)" % ", ".join(map(str, labels.alerts)))
    assert (alert["rule"], alert["kind"], alert["severity"]) == ("performance", "performance", "critical")
    assert alert["value"] < 0.5 < alert["threshold"]
