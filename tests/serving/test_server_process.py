"""`pitboard serve` as a real process on a free loopback port: shutdown, crash, alias moves."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from core.registry.versions import move_alias, resolve
from core.serving.predictlog import read_log
from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0

ROW = {"income": 41.5, "debt_ratio": 0.62, "purpose": "car"}
pytestmark = pytest.mark.slow


class Server:
    """A `pitboard serve` subprocess and the URL it listens on."""

    def __init__(self, db: Path, ref: str, *args: str) -> None:
        exe = shutil.which("pitboard", path=str(Path(sys.executable).parent))
        env = {**os.environ, "PITBOARD_NOW": str(T0)}
        self.process = subprocess.Popen([exe, "--db", str(db), "serve", ref, "--port", "0", *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.process.stdout.readline()
        assert line.startswith("serving"), line + self.process.stderr.read()
        self.url = line.split(" on ")[1].split()[0]
        assert self.url.startswith("http://127.0.0.1:"), "loopback by default"
        self.deployment = int(line.split("deployment ")[1])

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=60)


def _rows(db: Path, deployment: int) -> int:
    with Store.open(db) as store:
        return int(store.value("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches WHERE deployment_id = ?", (deployment,)))


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_sigterm_flushes_every_answered_row_and_ends_the_deployment(served) -> None:
    server = Server(served["db"], "scoring@champion")
    answered = 0
    with httpx.Client(base_url=server.url) as http:
        for size in (1, 5, 20):
            answer = http.post("/predict", json={"records": [ROW] * size})
            assert answer.status_code == 200
            answered += len(answer.json()["predictions"])
        assert http.post("/predict", json={"records": [{"income": "x"}]}).status_code == 422
    assert server.stop() == 0
    assert _rows(served["db"], server.deployment) == answered == 26
    with Store.open(served["db"]) as store:
        assert store.value("SELECT ended_at FROM deployments WHERE id = ?", (server.deployment,)) == T0


def test_a_crash_loses_at_most_the_last_flush_interval(served) -> None:
    (served["db"].parent / "pitboard.toml").write_text("[serving]\nlog_interval = 0.2\n")
    server = Server(served["db"], "scoring@champion")
    with httpx.Client(base_url=server.url) as http:
        for _ in range(10):
            assert http.post("/predict", json={"records": [ROW] * 3}).status_code == 200
        _wait_for(lambda: _rows(served["db"], server.deployment) == 30)  # flushed within the interval
        for _ in range(5):
            assert http.post("/predict", json={"records": [ROW]}).status_code == 200
    server.stop(signal.SIGKILL)
    logged = _rows(served["db"], server.deployment)
    assert 30 <= logged <= 35, "everything older than the last interval survived the crash"
    with Store.open(served["db"]) as store:
        assert store.value("PRAGMA integrity_check") == "ok"
        assert store.value("SELECT ended_at FROM deployments WHERE id = ?", (server.deployment,)) is None
        table = read_log(store, deployment_id=server.deployment)
    assert table.num_rows == logged, "no flush is ever half written"


def test_the_served_alias_moves_without_a_failed_request(served) -> None:
    (served["db"].parent / "pitboard.toml").write_text("[serving]\nfollow_interval = 0.2\n")
    server = Server(served["db"], "scoring@champion", "--token", "t0ken")
    headers = {"Authorization": "Bearer t0ken"}
    statuses: list[int] = []
    versions: list[int] = []
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=server.url, headers=headers) as http:
            while not stop.is_set():
                answer = http.post("/predict", json={"records": [ROW]})
                statuses.append(answer.status_code)
                versions.append(answer.json().get("version"))

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        _wait_for(lambda: len(statuses) >= 5)
        with Store.open(served["db"], clock=fixed_clock(T0)) as store:
            move_alias(store, "scoring", "champion", resolve(store, "scoring@2"), action="set", reason="test")
        _wait_for(lambda: versions and versions[-1] == 2, timeout=10)
        assert httpx.get(f"{server.url}/health").json()["version"] == 2
        assert httpx.post(f"{server.url}/predict", json={"records": [ROW]}).status_code == 401
    finally:
        stop.set()
        worker.join()
        assert server.stop() == 0
    assert set(statuses) == {200}
    assert versions[0] == 1 and versions[-1] == 2
    assert versions == sorted(versions), "once switched, never back"
    assert _rows(served["db"], server.deployment) == len(statuses)


def test_a_100_mb_body_is_refused_from_its_length_before_it_is_read(served) -> None:
    server = Server(served["db"], "scoring@champion")
    host, port = server.url.removeprefix("http://").split(":")
    head = (f"POST /predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000000\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + b'{"records": [')  # 100 MB announced, a few bytes sent
        response = b""
        while b"larger than" not in response:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {response!r}"
            response += chunk
    assert response.startswith(b"HTTP/1.1 413 ")
    assert b"request body larger than 10000000 bytes" in response
    with httpx.Client(base_url=server.url) as http:  # the service is unharmed
        assert http.post("/predict", json={"records": [ROW]}).status_code == 200
    assert server.stop() == 0
    assert _rows(served["db"], server.deployment) == 1


def test_serve_a_bundle_path_imports_it_and_serves_it(served, tmp_path: Path) -> None:
    from core.registry.packaging import export_bundle

    bundle = tmp_path / "scoring.tar.gz"
    with Store.open(served["db"], clock=fixed_clock(T0)) as store:
        export_bundle(store, "scoring@1", bundle)
    fresh = tmp_path / "elsewhere" / "pitboard.db"  # another machine's database: no scoring model yet
    fresh.parent.mkdir()
    server = Server(fresh, str(bundle))
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/health").json()["model"] == "scoring"
        answer = http.post("/predict", json={"records": [ROW]})
    assert answer.status_code == 200
    expected = served["pipe1"].predict_proba(pd.DataFrame([ROW]))[0, 1]
    assert answer.json()["predictions"][0]["probabilities"]["1"] == pytest.approx(expected, rel=1e-12)
    assert server.stop() == 0
    with Store.open(fresh) as store:
        versions = store.rows("SELECT v.version, v.source FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = 'scoring'")
        assert [tuple(v) for v in versions] == [(1, "bundle scoring@1")]
        served_version = store.value("SELECT version_id FROM deployments WHERE id = ?", (server.deployment,))
        assert served_version == store.value("SELECT id FROM model_versions")
    assert _rows(fresh, server.deployment) == 1


def test_serve_delivers_notifications_and_refuses_a_missing_secret_at_start(served, tmp_path: Path) -> None:
    """The delivery worker runs inside `serve`: a promotion made elsewhere reaches the exec target."""
    seen = tmp_path / "event.json"
    script = f"import sys; open({str(seen)!r}, 'wb').write(sys.stdin.buffer.read())"
    config = served["db"].parent / "pitboard.toml"
    config.write_text(f'[notify]\npoll_seconds = 0.1\n[notify.targets.local]\ntype = "exec"\n'
                      f'command = ["{sys.executable}", "-c", "{script}"]\n')
    server = Server(served["db"], "scoring@champion")
    with Store.open(served["db"], clock=fixed_clock(T0)) as store:
        move_alias(store, "scoring", "champion", resolve(store, "scoring@2"), action="promote")
    _wait_for(lambda: seen.exists() and seen.stat().st_size > 0)
    assert server.stop() == 0
    assert json.loads(seen.read_text())["subject"] == "scoring@champion promoted to v2 (was v1)"
    config.write_text('[notify.targets.ops]\ntype = "webhook"\nurl = "http://127.0.0.1:9/x"\nsecret_env = "PB_UNSET_SECRET"\n')
    exe = shutil.which("pitboard", path=str(Path(sys.executable).parent))
    env = {k: v for k, v in os.environ.items() if k != "PB_UNSET_SECRET"}
    refused = subprocess.run([exe, "--db", str(served["db"]), "serve", "scoring@champion", "--port", "0"],
                             capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [f"Error: {config}: [notify.targets.ops] secret_env: $PB_UNSET_SECRET is not set;"
                                           " export the signing secret or remove secret_env"]
