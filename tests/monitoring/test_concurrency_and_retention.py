"""Two ingest processes at once, retention through `pitboard gc`, and retraining failures."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.monitoring.ingest import ingest_log
from core.store.errors import PitboardError
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL, month


def test_two_ingest_processes_at_once_never_double_count(served, traffic, pitboard_process):
    for day in range(4):
        traffic.predict(month(1 + day).head(150), at=T0 + day * DAY + 100)
    store = served.open()
    traffic.settle(store)
    later = {"PITBOARD_NOW": str(T0 + 4 * DAY + 61)}
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: pitboard_process("monitor", "ingest", MODEL, "--json", env=later), range(2)))
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    counted = [sum(i["rows"] for i in json.loads(r.stdout)["ingests"]) for r in runs]
    assert sorted(counted) in ([0, 600], [150, 450], [300, 300], [450, 150]) and sum(counted) == 600
    windows = store.rows("SELECT window_key, n_rows FROM monitor_windows ORDER BY window_key")
    assert [w["n_rows"] for w in windows] == [150, 150, 150, 150]
    assert len({w["window_key"] for w in windows}) == 4


def test_gc_drops_reduced_log_past_retention_and_keeps_windows(served, traffic, pitboard):
    (served.db.parent / "pitboard.toml").write_text("[serving]\nlog_interval = 0.02\n[monitoring]\nretention_days = 1.0\n")
    store = served.open()
    traffic.predict(month(1).head(100), at=T0 - 3 * DAY)
    traffic.settle(store)
    traffic.predict(month(1).tail(50), at=T0 - 10)  # yesterday, within the grace period: not reduced yet
    traffic.settle(store)
    ingest_log(store, MODEL)
    flushed = store.value("SELECT COUNT(*) FROM prediction_batches")
    result = pitboard("gc", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["log_batches_deleted"] >= 1
    remaining = store.rows("SELECT ts_max FROM prediction_batches")
    assert len(remaining) < flushed and all(r["ts_max"] >= T0 - DAY for r in remaining)
    assert store.value("SELECT SUM(n_rows) FROM prediction_batches") == 50
    assert store.value("SELECT n_rows FROM monitor_windows") == 100


def test_a_retrain_without_labelled_windows_fails_and_leaves_the_champion(served, pitboard):
    from core.monitoring.retraining import retrain
    from core.registry.versions import alias_holder

    store = served.open()
    before = alias_holder(store, MODEL, "champion").version
    with pytest.raises(PitboardError, match="needs at least 2 labelled windows"):
        retrain(store, MODEL)
    assert alias_holder(store, MODEL, "champion").version == before
    (attempt,) = store.rows("SELECT state, message FROM retrains")
    assert attempt["state"] == "failed" and "labelled windows" in attempt["message"]
    assert [r["action"] for r in store.rows("SELECT action FROM audit WHERE action LIKE 'retrain.%' ORDER BY id")] == [
        "retrain.start", "retrain.fail"]
    (failed,) = store.rows("SELECT kind, severity, model, subject FROM outbox WHERE kind LIKE 'retrain.%'")
    assert tuple(failed)[:3] == ("retrain.failed", "critical", MODEL) and "labelled windows" in failed["subject"]
    cli = pitboard("retrain", MODEL)
    assert cli.exit_code == 2 and "labelled windows" in cli.stderr


def test_bad_monitoring_settings_name_the_file_and_key(served, pitboard):
    (served.db.parent / "pitboard.toml").write_text('[monitoring]\nwindow = "weekly"\n')
    result = pitboard("monitor", "ingest", MODEL)
    assert result.exit_code == 2 and "window = 'weekly'" in result.stderr and "pitboard.toml" in result.stderr
    (served.db.parent / "pitboard.toml").write_text('[alerts.credit-risk]\ndrift_shar = 0.2\n')
    result = pitboard("monitor", "status", MODEL)
    assert result.exit_code == 3 and "unknown key 'drift_shar'" in result.stderr  # UNKNOWN, never a false CRITICAL
