"""A `pitboard serve` killed mid-traffic: everything it flushed is reduced, nothing more."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest

from core.monitoring.ingest import ingest_log
from core.serving.predict import frame_columns
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL, month

pytestmark = pytest.mark.slow


def _flushed(store, deployment: int) -> int:
    return int(store.value("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches WHERE deployment_id = ?", (deployment,)))


def test_a_killed_service_loses_at_most_its_last_flush_and_ingest_counts_the_rest(served):
    (served.db.parent / "pitboard.toml").write_text("[serving]\nlog_interval = 0.3\n")
    exe = shutil.which("pitboard", path=str(os.path.dirname(sys.executable)))
    process = subprocess.Popen([exe, "--db", str(served.db), "serve", f"{MODEL}@champion", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PITBOARD_NOW": str(T0 + 3600)})
    line = process.stdout.readline()
    assert line.startswith("serving"), line + process.stderr.read()
    url, deployment = line.split(" on ")[1].split()[0], int(line.split("deployment ")[1])
    store = served.open(T0 + DAY + 61)
    data = month(2)
    answered = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        names = [entry["name"] for entry in http.get("/metadata").json()["signature"]]
        for first in range(0, 400, 50):
            response = http.post("/predict", json={"columns": frame_columns(data[names].iloc[first:first + 50])})
            assert response.status_code == 200
            answered += 50
        deadline = time.monotonic() + 20
        while _flushed(store, deployment) < answered:  # the first 400 are committed
            assert time.monotonic() < deadline
            time.sleep(0.02)
        for first in range(400, 600, 50):  # answered, then the process dies before its next flush
            assert http.post("/predict", json={"columns": frame_columns(data[names].iloc[first:first + 50])}).status_code == 200
            answered += 50
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    flushed = _flushed(store, deployment)
    assert 400 <= flushed <= answered  # lost: at most what was answered within one flush interval
    (report,) = ingest_log(store, MODEL)
    assert report.rows == flushed
    assert store.value("SELECT SUM(n_rows) FROM monitor_windows") == flushed
    assert store.value("SELECT next_seq FROM monitor_cursors WHERE deployment_id = ?", (deployment,)) == flushed + 1
    assert store.value("SELECT ended_at FROM deployments WHERE id = ?", (deployment,)) is None


def test_simulate_over_http_against_a_running_service(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text(
        '[serving]\nlog_interval = 0.05\n[monitoring]\nwindow = "rows"\nwindow_rows = 500\n')
    exe = shutil.which("pitboard", path=str(os.path.dirname(sys.executable)))
    process = subprocess.Popen([exe, "--db", str(served.db), "serve", f"{MODEL}@champion", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PITBOARD_NOW": str(T0)})
    line = process.stdout.readline()
    assert line.startswith("serving"), line + process.stderr.read()
    url = line.split(" on ")[1].split()[0]
    try:
        result = pitboard("simulate", f"{MODEL}@champion", "--url", url, "--months", "1", "--rate", "20000",
                          "--feedback-delay", "0", "--batch", "250", "--json")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert result.exit_code == 0, result.stderr
    (report,) = json.loads(result.stdout)
    assert report["rows"] == report["labels_sent"] == len(month(1)) and report["unknown_ids"] == 0
    assert len(report["windows"]) == len(month(1)) // 500
    store = served.open()
    assert store.value("SELECT SUM(n_labelled) FROM monitor_windows") == 500 * len(report["windows"])
