"""The fleet against a real S3 API on loopback (moto's server mode): three `pitboard serve BUNDLE
--log-to s3://...` processes, one killed with SIGKILL midway, then `monitor ingest --from` twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.serving.predict import frame_columns
from tests.conftest import T0, wait_for
from tests.monitoring.conftest import DAY, MODEL, Traffic, month
from tests.monitoring.fleet_helpers import export, s3_server
from tests.monitoring.test_fleet_ingest import judged

pytestmark = pytest.mark.slow

BUCKET = "fleet-logs"
URL = f"s3://{BUCKET}/credit-risk"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    import s3fs

    with s3_server(monkeypatch) as endpoint:
        s3fs.S3FileSystem.clear_instance_cache()
        s3fs.S3FileSystem().mkdir(BUCKET)
        yield endpoint
    s3fs.S3FileSystem.clear_instance_cache()


class ReplicaProcess:
    """`pitboard serve BUNDLE --log-to URL` as a real process; its config folder has no database."""

    def __init__(self, bundle: Path, folder: Path, toml: str) -> None:
        folder.mkdir()
        (folder / "pitboard.toml").write_text(toml)
        self.db = folder / "pitboard.db"
        exe = shutil.which("pitboard", path=str(Path(sys.executable).parent))
        self.process = subprocess.Popen(
            [exe, "--db", str(self.db), "serve", str(bundle), "--port", "0", "--log-to", URL],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PITBOARD_NOW": str(T0 + 3600)})  # credentials: inherited from the environment only
        line = self.process.stdout.readline()
        assert line.startswith("serving"), line + self.process.stderr.read()
        self.url = line.split(" on ")[1].split()[0]
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.answered: list[tuple[str, int]] = []  # (prediction id, true label)
        self.rows: list[int] = []  # the position in the month of each answered row

    def predict(self, data, first: int) -> None:
        frame = data.iloc[first:first + 50]
        names = [entry["name"] for entry in self.http.get("/metadata").json()["signature"]]
        response = self.http.post("/predict", json={"columns": frame_columns(frame[names])})
        assert response.status_code == 200, response.text
        self.answered += [(p["id"], int(v)) for p, v in zip(response.json()["predictions"], frame["default"])]
        self.rows += range(first, first + len(frame))

    @property
    def key(self) -> str:
        return self.answered[0][0].split("-")[0]

    def feedback(self, pairs: list[tuple[str, int]]) -> None:
        response = self.http.post("/feedback", json={"labels": [{"id": i, "label": v} for i, v in pairs]})
        assert response.status_code == 200 and response.json()["accepted"] == len(pairs), response.text

    def stop(self, sig: int) -> None:
        self.http.close()
        self.process.send_signal(sig)
        self.process.wait(timeout=60)
        self.process.stdout.close()
        self.process.stderr.close()


def _flushed_rows(replica: ReplicaProcess) -> int:
    import pyarrow as pa
    import s3fs

    fs = s3fs.S3FileSystem()
    key = replica.answered[0][0].split("-")[0]
    rows = 0
    for path in fs.ls(f"{BUCKET}/credit-risk", detail=False, refresh=True):
        if path.rsplit("/", 1)[-1].startswith("pred_") and f"_{key}_" in path:
            rows += pa.ipc.open_stream(fs.cat_file(path)).read_all().num_rows
    return rows


def test_three_replicas_on_s3_one_killed_ingested_twice_equal_local_logs(served, s3, pitboard, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    local_db = tmp_path / "local" / "pitboard.db"
    local_db.parent.mkdir()
    local_db.write_bytes(served.db.read_bytes())
    bundle = export(served, tmp_path / "bundle")
    steady = "[serving]\nlog_interval = 0.05\n"
    # the replica to be killed flushes only on 100 waiting rows (or after 600 s): what it
    # answers after its last full 100 is exactly its unflushed interval when SIGKILL comes
    doomed = "[serving]\nlog_interval = 600.0\nlog_max_rows = 100\n"
    replicas = [ReplicaProcess(bundle, tmp_path / "a", steady), ReplicaProcess(bundle, tmp_path / "b", steady),
                ReplicaProcess(bundle, tmp_path / "c", doomed)]
    data = month(9).head(900)
    for n, first in enumerate(range(0, 600, 50)):  # 200 rows each
        replicas[n % 3].predict(data, first)
    killed = replicas[2]
    wait_for(lambda: _flushed_rows(killed) == 200, what="the doomed replica's two full flushes")
    killed.predict(data, 600)  # answered, never flushed
    killed.stop(signal.SIGKILL)
    lost = {i for i, _ in killed.answered[200:]}
    for first in range(650, 900, 50):
        replicas[first // 50 % 2].predict(data, first)
    answered = [pair for r in replicas for pair in r.answered]
    assert len(answered) == 900
    # labels for every third prediction, each sent to a replica that did not answer it
    labelled = answered[::3]
    replicas[0].feedback([p for p in labelled if not p[0].startswith(replicas[0].key + "-")])
    replicas[1].feedback([p for p in labelled if p[0].startswith(replicas[0].key + "-")])
    for replica in replicas[:2]:
        replica.stop(signal.SIGTERM)  # graceful: their last flush is written
    assert not any(r.db.exists() for r in replicas)  # served from the bundle with no database at all

    monkeypatch.setenv("PITBOARD_NOW", str(T0 + DAY + 61))
    first = pitboard("monitor", "ingest", MODEL, "--from", URL, "--json")
    assert first.exit_code == 0, first.stderr
    report = json.loads(first.stdout)
    counted = 900 - len(lost)
    assert len(lost) == 50 and report["rows"] == counted and report["corrupt"] == []
    assert sum(w["rows"] for w in report["windows"]) == counted
    assert report["labels"] == sum(1 for i, _ in labelled if i not in lost)
    assert report["unknown_feedback"] == sum(1 for i, _ in labelled if i in lost)  # labels of predictions never logged
    assert len(report["replicas"]) == 3
    second = pitboard("monitor", "ingest", MODEL, "--from", URL, "--json")
    assert second.exit_code == 0, second.stderr
    again = json.loads(second.stdout)
    assert (again["segments"], again["rows"], again["labels"]) == (0, 0, 0)
    assert sum(w["rows"] for w in again["windows"]) == 0
    text = pitboard("monitor", "ingest", MODEL, "--from", URL)
    assert "0 new segments" in text.stdout and "testing" not in text.stdout + text.stderr  # no credential echoed
    with served.open(T0 + DAY + 61) as store:
        assert store.value("SELECT SUM(n_rows) FROM monitor_windows") == counted
        fleet = judged(store)
    assert fleet["alerts"]

    # the same answered-and-flushed traffic and labels, at the same time, through one local deployment's log
    kept = [(i, row) for r in replicas for (i, _), row in zip(r.answered, r.rows) if i not in lost]
    local = Traffic(local_db)
    ids = local.predict(data.iloc[[row for _, row in kept]], T0 + 3600, batch=50)
    to_local = dict(zip([i for i, _ in kept], ids))
    labels = [(to_local[i], v) for i, v in labelled if i not in lost]
    local.feedback([i for i, _ in labels], [v for _, v in labels])
    local.close()
    from core.monitoring.ingest import ingest_log
    from core.store.clock import fixed_clock
    from core.store.database import Store

    with Store.open(local_db, clock=fixed_clock(T0 + DAY + 61)) as store:
        assert sum(r.rows for r in ingest_log(store, MODEL)) == counted
        assert judged(store) == fleet


def test_a_missing_bucket_is_one_line_for_serve_and_ingest(served, s3, pitboard, tmp_path: Path):
    bundle = export(served, tmp_path / "bundle")
    result = pitboard("serve", str(bundle), "--port", "0", "--log-to", "s3://no-such-bucket/logs")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: s3://no-such-bucket/logs: the bucket or folder does not exist"
    result = pitboard("monitor", "ingest", MODEL, "--from", "s3://no-such-bucket/logs")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: s3://no-such-bucket/logs: the bucket or folder does not exist"
