"""Traffic a version served before its alias moved on, reduced after the move.

Windows close after their grace period and labels arrive later, so a window of the old
champion can be written after a promotion. Its alerts are kept for the record but
resolved at once: they describe a model that no longer answers.
"""

from __future__ import annotations

from core.monitoring.ingest import ingest_log
from core.monitoring.status import list_windows
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL, month


def test_traffic_of_a_replaced_version_is_recorded_but_does_not_hold_the_alarm(served, traffic, pitboard):
    from core.monitoring.retraining import on_alerts
    from core.registry.versions import move_alias, register, resolve

    (served.db.parent / "pitboard.toml").write_text(
        '[serving]\nlog_interval = 0.02\n[alerts]\nmax_latency_p99_ms = 600000.0\n'
        '[retraining]\nretrain_on = ["drift", "performance"]\n')
    traffic.predict(month(9).head(400), at=T0 + 3600)  # a deep-recession day, served by v1
    store = served.open(T0 + 7200)
    traffic.settle(store)
    v1 = resolve(store, f"{MODEL}@champion")
    v2 = register(store, v1.run_id, MODEL)
    move_alias(store, MODEL, "champion", v2, action="promote", reason="a fix went out")
    store.clock = lambda: T0 + DAY + 61
    (report,) = ingest_log(store, MODEL)
    (window,) = list_windows(store, MODEL)
    assert window["version"] == 1 and window["drifted_features"]  # the record is kept ...
    alerts = store.rows("SELECT state, resolution FROM alerts WHERE window_id = ?", (window["id"],))
    assert alerts and {a["state"] for a in alerts} == {"resolved"}  # ... but nothing stays open
    assert {a["resolution"] for a in alerts} == {f"{MODEL} v1 no longer serves: champion is v2 now"}
    assert report.alerts == [] and on_alerts(store, MODEL, report.alerts) is None
    assert pitboard("monitor", "status", MODEL).exit_code == 0
