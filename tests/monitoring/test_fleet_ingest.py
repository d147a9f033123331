"""Fleet ingest from a local folder: replicas' segments into windows exactly once, equal to local logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.monitoring.fleet import ingest_fleet, list_segments
from core.monitoring.ingest import ingest_log
from core.serving.segments import open_target, parse_name
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL, Traffic, month
from tests.monitoring.fleet_helpers import Replica, export

pytestmark = pytest.mark.slow

WINDOW_FIELDS = ("kind", "window_key", "n_rows", "n_features", "n_drifted", "drift_share", "prediction_test",
                 "prediction_stat", "prediction_drifted", "prediction_psi", "positive_rate", "mean_prediction",
                 "n_labelled", "metrics", "estimated")


def judged(store) -> dict:
    """Windows, their per-feature drift and the alerts, without what differs by construction (ids, latency)."""
    windows = [tuple(_rounded(row[f]) for f in WINDOW_FIELDS) for row in store.rows(
        f"SELECT {', '.join(WINDOW_FIELDS)} FROM monitor_windows ORDER BY window_key")]
    features = [tuple(row) for row in store.rows(
        "SELECT w.window_key, f.feature, f.count, f.missing, f.test, round(f.statistic, 9), round(f.p_value, 9), f.drifted,"
        " round(f.psi, 9), f.histogram FROM monitor_window_features f JOIN monitor_windows w ON w.id = f.window_id"
        " ORDER BY w.window_key, f.feature")]
    alerts = [tuple(row) for row in store.rows(
        "SELECT rule, kind, severity, state, round(value, 9), threshold FROM alerts ORDER BY rule, kind")]
    return {"windows": windows, "features": features, "alerts": alerts}


def _rounded(value):
    """Metrics JSON with numbers to 9 places: sums over rows in another order differ in the last bit."""
    if isinstance(value, str) and value.startswith("{"):
        return {key: round(number, 9) for key, number in json.loads(value).items()}
    return round(value, 9) if isinstance(value, float) else value


def send(replicas: list[Replica], frame, labels, at: float) -> list[tuple[Replica, str, int]]:
    """Rows spread round robin over the replicas in blocks of 50; (replica, id, label) per row."""
    sent = []
    for n, first in enumerate(range(0, len(frame), 50)):
        replica = replicas[n % len(replicas)]
        ids = replica.predict(frame.iloc[first:first + 50], at)
        sent += [(replica, i, int(v)) for i, v in zip(ids, labels[first:first + 50])]
    return sent


@pytest.fixture
def bundle(served, tmp_path: Path) -> Path:
    return export(served, tmp_path / "bundle")


def test_replicas_segments_become_the_windows_local_logs_give(served, bundle, tmp_path: Path):
    local_db = tmp_path / "local" / "pitboard.db"  # the same database, for the same traffic logged locally
    local_db.parent.mkdir()
    local_db.write_bytes(served.db.read_bytes())
    data = month(9).head(600)  # deep in the recession: drift and performance alerts
    labels = data["default"].to_numpy()
    logs = tmp_path / "logs"
    replicas = [Replica(bundle, str(logs)) for _ in range(3)]
    sent = send(replicas, data, labels, T0 + 3600)
    # every label goes to the NEXT replica, never the one that answered: feedback crosses replicas
    for k, replica in enumerate(replicas):
        mine = [(i, v) for r, i, v in sent if r is replicas[(k - 1) % 3]][:150]
        assert replica.feedback([i for i, _ in mine], [v for _, v in mine]) == {"accepted": 150, "unknown_ids": []}
    for replica in replicas:
        replica.close()
    names = [name for _, name in list_segments(*open_target(str(logs), create=False))]
    assert {name.replica for name in names} == {r.service.log.name.replica for r in replicas}
    assert {name.kind for name in names} == {"pred", "fb"}
    assert not [p for p in os.listdir(logs) if parse_name(p) is None]  # no temporary file left behind

    store = served.open(T0 + DAY + 61)
    first = ingest_fleet(store, MODEL, str(logs))
    assert first.rows == 600 and first.labels == 450 and first.unknown_feedback == 0
    assert first.corrupt == [] and first.duplicates == [] and len(first.replicas) == 3
    assert sum(w.rows for w in first.windows) == 600
    assert store.value("SELECT SUM(n_rows) FROM monitor_windows") == 600
    assert store.value("SELECT SUM(n_labelled) FROM monitor_windows") == 450
    again = ingest_fleet(store, MODEL, str(logs))
    assert (again.segments, again.rows, again.labels) == (0, 0, 0)
    assert sum(w.rows for w in again.windows) == 0
    assert store.value("SELECT SUM(n_rows) FROM monitor_windows") == 600
    fleet = judged(store)
    assert fleet["alerts"], "the traffic should raise alerts, to compare them"
    store.close()

    # the same traffic, labels and clock through one local deployment's database log
    local = Traffic(local_db)
    ids = local.predict(data, T0 + 3600, batch=50)
    by_id = dict(zip([i for _, i, _ in sent], ids))
    chosen = []
    for k in range(3):
        mine = [(by_id[i], v) for r, i, v in sent if r is replicas[(k - 1) % 3]][:150]
        chosen += mine
    local.feedback([i for i, _ in chosen], [v for _, v in chosen])
    local.close()
    from core.store.clock import fixed_clock
    from core.store.database import Store

    with Store.open(local_db, clock=fixed_clock(T0 + DAY + 61)) as store:
        assert sum(r.rows for r in ingest_log(store, MODEL)) == 600
        assert judged(store) == fleet


def test_bad_segments_are_skipped_named_and_counted_and_duplicates_recognised(served, bundle, tmp_path: Path):
    logs = tmp_path / "logs"
    replica = Replica(bundle, str(logs))
    data = month(2).head(100)
    ids = replica.predict(data, T0 + 3600)
    replica.feedback(ids[:10], data["default"].to_numpy()[:10])
    replica.close()
    pred = sorted(p for p in os.listdir(logs) if p.startswith("pred_"))
    assert len(pred) >= 1
    # a truncated copy under another replica-seq name, and the same bytes uploaded twice
    whole = (logs / pred[0]).read_bytes()
    name = parse_name(pred[0])
    truncated = str(name).replace(f"_{name.seq:09d}", f"_{900000001:09d}")
    (logs / truncated).write_bytes(whole[: len(whole) // 2])
    copy = str(name).replace(f"_{name.seq:09d}", f"_{900000002:09d}")
    (logs / copy).write_bytes(whole)
    # labels for a prediction no replica logged
    (logs / str(name).replace("pred_", "fb_").replace(f"_{name.seq:09d}", f"_{900000003:09d}")).write_bytes(
        _feedback_segment(name, replica.service.live.version.model_sha256, [(name.key, 10_000, 1)]))

    store = served.open(T0 + DAY + 61)
    report = ingest_fleet(store, MODEL, str(logs))
    assert report.rows == 100 and report.labels == 10
    assert [c.split(":")[0] for c in report.corrupt] == [truncated]
    assert "not a readable segment" in report.corrupt[0]
    assert report.duplicates == [copy]
    assert report.unknown_feedback == 1
    assert store.value("SELECT SUM(n_rows) FROM monitor_windows") == 100
    statuses = {row["name"]: row["status"] for row in store.rows("SELECT name, status FROM fleet_segments")}
    assert statuses[truncated] == "corrupt" and statuses[copy] == "duplicate"
    again = ingest_fleet(store, MODEL, str(logs))
    assert again.corrupt == [] and again.duplicates == [] and again.unknown_feedback == 1  # still waiting, reported
    store.close()


def _feedback_segment(name, sha: str, rows: list[tuple[int, int, int]]) -> bytes:
    """A well-formed feedback segment, as a replica of `name` would write it."""
    from core.serving.predictlog import encode
    from core.serving.segments import feedback_columns, replica_metadata

    columns = feedback_columns([(key, seq, label, float(T0)) for key, seq, label in rows])
    return encode(columns, replica_metadata(name, {"model": MODEL, "version": 1, "model_sha256": sha}))


def test_a_missing_folder_and_an_unknown_model_are_one_line(served, pitboard, tmp_path: Path):
    result = pitboard("monitor", "ingest", MODEL, "--from", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and result.stderr.strip() == f"Error: file://{tmp_path / 'nowhere'}: no such folder"
    (tmp_path / "empty").mkdir()
    result = pitboard("monitor", "ingest", "nobody", "--from", str(tmp_path / "empty"))
    assert result.exit_code == 2 and "nobody" in result.stderr and len(result.stderr.strip().splitlines()) == 1
