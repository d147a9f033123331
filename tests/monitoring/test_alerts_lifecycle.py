"""Alerts through the real CLI: raised once per window, acknowledged, resolved, status codes."""

from __future__ import annotations

import json

from core.ingest import ingest_files
from tests.conftest import file_bytes
from tests.monitoring.conftest import MODEL, PRODUCTION

REF = f"{MODEL}@champion"


def _drifted_store(served):
    store = served.open()
    report = ingest_files(store, REF, [str(PRODUCTION / "month_09.csv")])
    assert report.alerts, "a deep-recession month must open an alert"
    return store, report


def test_status_exit_codes_follow_the_alerts(served, pitboard):
    assert pitboard("monitor", "status", MODEL).exit_code == 0  # no windows yet: ok, no data
    store = served.open()
    ingest_files(store, REF, [str(PRODUCTION / "month_01.csv")])
    calm = pitboard("monitor", "status", MODEL, "--json")
    assert calm.exit_code == 0 and json.loads(calm.stdout)["state"] == "ok"
    ingest_files(store, REF, [str(PRODUCTION / "month_09.csv")])
    alarmed = pitboard("monitor", "status", MODEL)
    assert alarmed.exit_code == 2
    assert "ALERT" in alarmed.stdout and "[CRITICAL]" in alarmed.stdout


def test_an_alert_is_never_raised_twice_for_the_same_window(served):
    from core.monitoring import evaluate_window
    from core.references import load_reference

    store, report = _drifted_store(served)
    window_id = report.windows[0]
    version_id = store.value("SELECT version_id FROM monitor_windows WHERE id = ?", (window_id,))
    before = store.value("SELECT COUNT(*) FROM alerts")
    with store.transaction():
        again = evaluate_window(store, store.value("SELECT id FROM models"), MODEL, window_id, load_reference(store, version_id))
    assert again == [] and store.value("SELECT COUNT(*) FROM alerts") == before
    assert store.value("SELECT COUNT(*) FROM alerts WHERE window_id = ? GROUP BY rule ORDER BY 1 DESC LIMIT 1", (window_id,)) == 1


def test_acknowledge_then_resolve_with_audit_and_bad_transitions_refused(served, pitboard):
    store, report = _drifted_store(served)
    alert_id = report.alerts[0]
    listed = json.loads(pitboard("alerts", "list", "--json").stdout)
    assert [a["id"] for a in listed] == sorted(report.alerts, reverse=True)
    acked = pitboard("alerts", "ack", alert_id, "--note", "looking", "--json")
    assert acked.exit_code == 0 and json.loads(acked.stdout)["state"] == "acknowledged"
    assert pitboard("monitor", "status", MODEL).exit_code == 2  # acknowledged still counts
    before = file_bytes(served.db)
    twice = pitboard("alerts", "ack", alert_id)
    assert twice.exit_code == 2 and "only open alerts can be acknowledged" in twice.stderr
    missing = pitboard("alerts", "resolve", 9999)
    assert missing.exit_code == 2 and "alert 9999: no such alert" in missing.stderr
    assert file_bytes(served.db) == before
    for other in report.alerts:
        assert pitboard("alerts", "resolve", other, "--note", "recession known").exit_code == 0
    assert pitboard("monitor", "status", MODEL).exit_code == 0
    assert json.loads(pitboard("alerts", "list", "--json").stdout) == []
    resolved = json.loads(pitboard("alerts", "list", "--all", "--json").stdout)
    assert {a["state"] for a in resolved} == {"resolved"}
    actions = [r["action"] for r in store.rows("SELECT action FROM audit WHERE object = ?", (f"alert {alert_id}",))]
    assert actions == ["alert.open", "alert.ack", "alert.resolve"]


def test_a_calm_window_resolves_open_alerts_of_the_same_rule(served):
    store, report = _drifted_store(served)
    rules = {r["rule"] for r in store.rows("SELECT rule FROM alerts WHERE state = 'open'")}
    later = PRODUCTION / "month_01.csv"
    import shutil

    copy = served.db.parent / "calm.csv"
    shutil.copyfile(later, copy)
    ingest_files(store, REF, [str(copy)])
    still_open = {r["rule"] for r in store.rows("SELECT rule FROM alerts WHERE state = 'open'")}
    assert still_open < rules or not still_open
    resolved = store.rows("SELECT resolution FROM alerts WHERE state = 'resolved'")
    assert resolved and all("passed" in r["resolution"] for r in resolved)
