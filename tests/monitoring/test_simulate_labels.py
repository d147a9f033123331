"""The replay ends with every label sent, however long the feedback delay."""

from __future__ import annotations

from core.simulation.simulate import simulate
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL


def test_labels_due_after_the_last_month_are_still_sent_and_scored(served):
    store = served.open()
    (report,) = simulate(store, f"{MODEL}@champion", months=1, rate=1000.0, feedback_delay=3 * DAY, batch=500)
    assert report.labels_sent == report.rows and report.unknown_ids == 0
    (window,) = store.rows("SELECT n_rows, n_labelled, metrics FROM monitor_windows")
    assert window["n_labelled"] == window["n_rows"] == report.rows and "roc_auc" in window["metrics"]
    last_label = store.value("SELECT MAX(ts) FROM feedback")
    assert last_label >= T0 + 3 * DAY  # sent when due, on the virtual clock
