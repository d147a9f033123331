"""Alerts through the real CLI: raised once per window, acknowledged, resolved, status codes."""

from __future__ import annotations

import json

from core.monitoring.ingest import ingest_files
from tests.conftest import file_bytes
from tests.monitoring.conftest import MODEL, PRODUCTION

REF = f"{MODEL}@champion"


def _drifted_store(served):
    store = served.open()
    report = ingest_files(store, REF, [str(PRODUCTION / "month_09.csv")])
    assert report.alerts, "a deep-recession month must open an alert"
    return store, report


def test_status_exit_codes_follow_the_monitoring_plugin_convention(served, pitboard):
    unknown = pitboard("monitor", "status", MODEL)
    assert unknown.exit_code == 3 and unknown.stdout.startswith(f"{MODEL}: UNKNOWN")  # no windows yet: nothing to judge
    assert "no windows yet" in unknown.stdout
    store = served.open()
    ingest_files(store, REF, [str(PRODUCTION / "month_01.csv")])
    calm = pitboard("monitor", "status", MODEL, "--json")
    assert calm.exit_code == 0 and json.loads(calm.stdout)["state"] == "ok"
    ingest_files(store, REF, [str(PRODUCTION / "month_09.csv")])
    alarmed = pitboard("monitor", "status", MODEL)
    assert alarmed.exit_code == 2
    assert "ALERT" in alarmed.stdout and "[CRITICAL]" in alarmed.stdout


def test_an_alert_is_never_raised_twice_for_the_same_window(served):
    from core.monitoring.references import load_reference
    from core.monitoring.status import evaluate_window

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
    events = [tuple(r) for r in store.rows("SELECT kind, severity, model FROM outbox WHERE kind LIKE 'alert.%' ORDER BY id")]
    opened = store.value("SELECT COUNT(*) FROM alerts")
    assert [e[0] for e in events[:opened]] == ["alert.opened"] * opened  # one event per alert
    assert ("alert.resolved", "info", MODEL) in events[opened:]


def test_a_persisting_condition_is_one_alert_that_counts_its_windows(served, pitboard):
    store, first = _drifted_store(served)
    rules = dict(store.rows("SELECT rule, id FROM alerts"))
    second = ingest_files(store, REF, [str(PRODUCTION / "month_10.csv")])
    assert second.windows and second.alerts
    assert dict(store.rows("SELECT rule, id FROM alerts")) == rules  # the same alerts, no new ones
    assert set(second.alerts) <= set(rules.values())
    for alert in store.rows("SELECT * FROM alerts WHERE id IN (%s)" % ",".join("?" * len(second.alerts)), second.alerts):
        windows = [r[0] for r in store.rows("SELECT window_id FROM alert_windows WHERE alert_id = ? ORDER BY window_id",
                                            (alert["id"],))]
        assert set(windows) <= set(first.windows + second.windows) and len(windows) >= 2
        assert set(windows) & set(first.windows) and set(windows) & set(second.windows)
        assert (alert["window_id"], alert["last_window_id"]) == (windows[0], windows[-1])  # windows come in time order
        latest = store.row("SELECT severity, message FROM alert_windows WHERE alert_id = ? AND window_id = ?",
                           (alert["id"], windows[-1]))
        assert (alert["severity"], alert["message"]) == tuple(latest)  # the alert says what its latest window says
    listed = {a["id"]: a for a in json.loads(pitboard("alerts", "list", "--json").stdout)}
    shown = pitboard("alerts", "list").stdout
    for alert_id in second.alerts:
        alert = listed[alert_id]
        assert alert["windows"] >= 2
        assert f"#{alert['window_id']}..#{alert['last_window_id']} ({alert['windows']})" in shown
    status = pitboard("monitor", "status", MODEL).stdout
    for alert_id in second.alerts:
        assert f"alert {alert_id} (open, {listed[alert_id]['windows']} windows)" in status
    opened = store.value("SELECT COUNT(*) FROM audit WHERE action = 'alert.open'")
    assert opened == len(rules)


def test_a_window_joins_its_alert_once_however_often_it_is_evaluated(served):
    from core.monitoring.references import load_reference
    from core.monitoring.status import evaluate_window

    store, report = _drifted_store(served)
    second = ingest_files(store, REF, [str(PRODUCTION / "month_10.csv")])
    window_id = second.windows[-1]
    version_id = store.value("SELECT version_id FROM monitor_windows WHERE id = ?", (window_id,))
    before = store.rows("SELECT * FROM alert_windows ORDER BY alert_id, window_id")
    with store.transaction():
        again = evaluate_window(store, store.value("SELECT id FROM models"), MODEL, window_id,
                                load_reference(store, version_id))
    assert again == []  # the window raised its alerts once, when it was written
    assert [tuple(r)[:5] for r in store.rows("SELECT * FROM alert_windows ORDER BY alert_id, window_id")] == \
        [tuple(r)[:5] for r in before]


def test_after_a_passing_window_the_condition_opens_a_new_alert(served):
    import shutil

    store, first = _drifted_store(served)
    calm = served.db.parent / "calm.csv"
    shutil.copyfile(PRODUCTION / "month_01.csv", calm)
    ingest_files(store, REF, [str(calm)])
    resolved = {r["rule"]: r["id"] for r in store.rows("SELECT rule, id FROM alerts WHERE state = 'resolved'")}
    assert resolved
    again = ingest_files(store, REF, [str(PRODUCTION / "month_10.csv")])
    reopened = {r["rule"]: r["id"] for r in store.rows(
        "SELECT rule, id FROM alerts WHERE state = 'open' AND id IN (%s)" % ",".join("?" * len(again.alerts)),
        again.alerts)}
    for rule, old in resolved.items():
        if rule in reopened:
            assert reopened[rule] != old
    assert set(reopened) & set(resolved)


def test_an_alert_takes_the_severity_of_its_latest_window_with_an_audit_row(served):
    store = served.open()
    for month in ("05", "06"):  # the output shift grows from moderate to significant
        ingest_files(store, REF, [str(PRODUCTION / f"month_{month}.csv")])
    alert = store.row("SELECT * FROM alerts WHERE rule = 'prediction_psi'")
    seen = [r[0] for r in store.rows("SELECT severity FROM alert_windows WHERE alert_id = ? ORDER BY window_id",
                                     (alert["id"],))]
    assert seen[0] == "warning" and seen[-1] == "critical" and alert["severity"] == "critical"
    assert store.value("SELECT COUNT(*) FROM alerts WHERE rule = 'prediction_psi'") == 1
    change = store.row("SELECT details FROM audit WHERE action = 'alert.severity' AND object = ?", (f"alert {alert['id']}",))
    assert json.loads(change["details"])["from"] == "warning" and json.loads(change["details"])["to"] == "critical"
    escalated = store.row("SELECT * FROM outbox WHERE kind = 'alert.escalated'")
    assert (escalated["severity"], escalated["model"]) == ("critical", MODEL)
    assert escalated["subject"].startswith(f"{MODEL}: alert {alert['id']} warning -> critical: ")


def test_migration_0009_gives_each_existing_alert_its_one_window(served):
    from core.store.database import migration_scripts, split_statements

    store, report = _drifted_store(served)
    ingest_files(store, REF, [str(PRODUCTION / "month_10.csv")])
    before = [tuple(r) for r in store.rows("SELECT id, window_id FROM alerts ORDER BY id")]
    with store.transaction():  # the alerts as a database before 0009 held them: no windows listed
        store.conn.execute("DELETE FROM alert_windows")
        store.conn.execute("UPDATE alerts SET last_window_id = NULL")
        script = next(script for number, _, script in migration_scripts() if number == 9)
        for statement in split_statements(script):
            if statement.startswith(("INSERT", "UPDATE")):  # the backfill, after the schema changes
                store.conn.execute(statement)
    listed = [tuple(r) for r in store.rows("SELECT alert_id, window_id FROM alert_windows ORDER BY alert_id")]
    assert listed == before
    assert store.value("SELECT COUNT(*) FROM alerts WHERE last_window_id IS NOT window_id") == 0
