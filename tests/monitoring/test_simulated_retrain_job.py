"""A retrain job started by the simulation: real job times, one virtual timeline for the rest.

The replay runs on a virtual clock (a month per virtual day, starting at the store's T0),
but the retrain runs in a real worker process. The job's own row must carry real times
(its duration is read in the Jobs pane), while the retrain's records and every audit
row stay on the virtual timeline, which never goes back.
"""

from __future__ import annotations

import time

import pytest

from core.simulation.simulate import simulate
from tests.conftest import T0
from tests.monitoring.conftest import DAY, MODEL

pytestmark = pytest.mark.slow

POLICY = """
[serving]
log_interval = 0.02

[alerts]
max_latency_p99_ms = 600000.0  # wall-clock latency on a shared machine is not this test's subject

[retraining]
retrain_on = ["drift"]
auto_promote = true
"""
GRACE = 60.0  # [monitoring] grace_seconds default


def test_job_times_are_real_and_the_retrains_records_follow_the_virtual_clock(served):
    (served.db.parent / "pitboard.toml").write_text(POLICY)
    store = served.open()
    before = time.time()
    reports = simulate(store, f"{MODEL}@champion", months=4, rate=500.0, feedback_delay=3600.0, batch=250,
                       retrain_inline=False)
    after = time.time()

    job_id = reports[-1].retrain  # the recession starts in month 4
    assert job_id is not None and [r.retrain for r in reports[:3]] == [None, None, None]
    assert reports[-1].retrain_outcome.startswith(f"job {job_id} finished"), reports[-1].retrain_outcome
    job = store.row("SELECT * FROM jobs WHERE id = ?", (job_id,))
    assert before <= job["created_at"] <= job["started_at"] <= job["ended_at"] <= after
    assert job["started_at"] <= job["heartbeat"] <= after

    month_4_closed = T0 + 4 * DAY + GRACE + 1.0  # month 4 is virtual day 4; it closes after the grace period
    retrain = store.row("SELECT * FROM retrains WHERE job_id = ?", (job_id,))
    assert (retrain["state"], retrain["created_at"], retrain["ended_at"]) == ("promoted", month_4_closed, month_4_closed)
    trigger = store.row("SELECT * FROM alerts WHERE id = ?", (retrain["alert_id"],))
    assert trigger["opened_at"] == month_4_closed and trigger["resolved_at"] == month_4_closed
    job_audit = store.rows("SELECT action, ts FROM audit WHERE object = ? OR object LIKE ? ORDER BY id",
                           (f"job {job_id}", f"{MODEL} retrain {retrain['id']}"))
    assert [a["action"] for a in job_audit] == ["job.start", "retrain.start", "retrain.data", "retrain.evaluate",
                                                "retrain.promoted", "job.finish"]
    assert {a["ts"] for a in job_audit} == {month_4_closed}

    stamps = [r["ts"] for r in store.rows("SELECT ts FROM audit ORDER BY id")]
    assert stamps == sorted(stamps), "the audit log went back in time"
    closes = [r["ts"] for r in store.rows("SELECT ts FROM audit WHERE action = 'monitor.ingest' ORDER BY id")]
    first_seq = 1
    for report, closed in zip(reports[:-1], closes):  # each month's traffic comes after the previous close
        first_seq += report.rows
        opened = store.value("SELECT ts_min FROM prediction_batches WHERE first_seq = ?", (first_seq,))
        assert opened is not None and opened >= closed, (report.month, opened, closed)
