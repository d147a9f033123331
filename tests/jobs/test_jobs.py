"""Detached jobs: a real worker process, progress in the DB, SIGKILL and cancel."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from core.jobs.runner import get_job, list_jobs, pid_alive, reap_dead_jobs, start_job
from core.store.clock import fixed_clock
from core.store.database import Store
from core.store.errors import NotFound, PitboardError

from tests.conftest import T0, wait_for
from tests.experiments.helpers import SMALL_SPEC, credit_db, write_spec  # noqa: F401 (credit_db is a fixture)

pytestmark = pytest.mark.slow

LONG_SPEC = SMALL_SPEC.split("[[candidates]]")[0] + (
    '[[candidates]]\nestimator = "RandomForestClassifier"\n'
    f'params = {{ n_estimators = [40], min_samples_leaf = {list(range(1, 41))} }}\n'
)


def job_state(db_path: Path, job_id: int) -> dict:
    with Store.open(db_path) as store:
        return get_job(store, job_id)


def test_detached_training_runs_in_a_worker_and_reports_through_the_db(pitboard, credit_db: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    started = pitboard("train", spec, "--detach", "--json")
    assert started.exit_code == 0
    job_id = json.loads(started.stdout)["job_id"]
    job = wait_for(lambda: (j := job_state(credit_db, job_id))["state"] not in ("queued", "running") and j, what="the job to end")
    assert job["state"] == "finished", job["log_tail"]
    assert (job["kind"], job["title"], job["progress"], job["error"]) == ("train", "train spec.toml", 1.0, None)
    assert job["message"] == "refit and holdout of candidate 3/3"
    assert job["result"]["run_ids"] == [1, 2, 3] and job["result"]["failed"] == 0
    assert job["pid"] != os.getpid()
    wait_for(lambda: not pid_alive(job["pid"]), what="the worker to exit")
    log = Path(job["log_path"])
    assert log == credit_db.parent / ".pitboard" / "jobs" / f"{job_id}.log"
    assert "job 1: train spec.toml" in log.read_text() and "job 1: finished" in log.read_text()
    assert "recorded 3 runs (0 failed)" in job["log_tail"]
    with Store.open(credit_db) as store:
        assert store.value("SELECT job_id FROM searches") == job_id
        assert store.value("SELECT count(*) FROM runs WHERE status = 'FINISHED'") == 3

    listed = pitboard("jobs", "list")
    assert listed.stdout.splitlines()[2].split()[:4] == [str(job_id), "train", "finished", "100%"]
    shown = pitboard("jobs", "show", str(job_id))
    assert "state      finished" in shown.stdout and "log tail:" in shown.stdout
    assert pitboard("jobs", "cancel", str(job_id)).stderr.startswith(f"Error: job {job_id}: already finished")


def test_sigkill_mid_search_leaves_only_complete_runs_and_a_failed_job(credit_db: Path, tmp_path: Path, monkeypatch) -> None:
    from core.experiments.specs import parse_spec

    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    spec = parse_spec(LONG_SPEC, "long.toml")
    with Store.open(credit_db, clock=fixed_clock(T0)) as store:
        job_id = start_job(store, "train", {"spec_text": spec.text, "spec_source": spec.source}, title="long")
        wait_for(lambda: store.value("SELECT count(*) FROM runs") >= 1, what="a first run")
        pid = store.value("SELECT pid FROM jobs WHERE id = ?", (job_id,))
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: not pid_alive(pid), what="the worker to die")
        job = get_job(store, job_id)
        assert job["state"] == "failed"
        assert job["error"] == f"worker process {pid} is gone (killed or crashed)"
        runs = store.rows("SELECT * FROM runs")
        assert 1 <= len(runs) < 40
        for run in runs:  # every run that exists is whole
            assert run["status"] == "FINISHED" and run["model_sha256"]
            assert store.value("SELECT count(*) FROM metrics WHERE run_id = ?", (run["id"],)) == 18
            assert store.value("SELECT count(*) FROM params WHERE run_id = ?", (run["id"],)) > 40
            assert store.value("SELECT count(*) FROM artifacts WHERE sha256 = ?", (run["model_sha256"],)) == 1
        assert store.value("SELECT count(*) FROM metric_points WHERE run_id NOT IN (SELECT id FROM runs)") == 0
        assert store.value("SELECT count(*) FROM audit WHERE action = 'job.fail'") == 1
        assert store.value("PRAGMA integrity_check") == "ok"


def test_cancel_stops_a_running_job(pitboard, credit_db: Path, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, LONG_SPEC, "long.toml")
    job_id = json.loads(pitboard("train", spec, "--detach", "--json").stdout)["job_id"]
    wait_for(lambda: job_state(credit_db, job_id)["progress"] > 0, what="progress")
    cancelled = pitboard("jobs", "cancel", str(job_id))
    assert cancelled.exit_code == 0 and f"job {job_id}: cancel requested" in cancelled.stdout
    job = wait_for(lambda: (j := job_state(credit_db, job_id))["state"] not in ("queued", "running") and j, what="the cancel")
    assert job["state"] == "cancelled" and job["cancel_requested"]
    with Store.open(credit_db) as store:
        assert store.value("SELECT count(*) FROM runs") < 40


def test_cancelling_a_queued_job_ends_it_even_if_its_worker_dies_importing(credit_db: Path, tmp_path: Path) -> None:
    """The SIGTERM can reach a worker before `run_job` installs its handler: the DB must not wait for it."""
    from core.experiments.specs import parse_spec
    from core.jobs.runner import cancel_job

    spec = parse_spec(LONG_SPEC, "long.toml")
    with Store.open(credit_db) as store:
        job_id = start_job(store, "train", {"spec_text": spec.text, "spec_source": spec.source}, title="long")
        pid = get_job(store, job_id)["pid"]
        job = cancel_job(store, job_id)
        assert (job["state"], job["cancel_requested"]) == ("cancelled", True) and job["ended_at"] is not None
        wait_for(lambda: not pid_alive(pid), what="the worker to stop")
        assert get_job(store, job_id)["state"] == "cancelled"
        assert store.value("SELECT count(*) FROM runs") == 0


def test_a_job_on_another_host_is_failed_once_its_heartbeat_is_stale(store: Store) -> None:
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO jobs (kind, title, state, pid, host, heartbeat, created_at) VALUES ('train', ?, 'running', 1, 'elsewhere', ?, ?)",
            [("stale", T0 - 61, T0 - 100), ("fresh", T0 - 5, T0 - 100)],
        )
    assert reap_dead_jobs(store) == [1]
    states = {job["title"]: (job["state"], job["error"]) for job in list_jobs(store)}
    assert states == {"stale": ("failed", "no heartbeat for 61 s"), "fresh": ("running", None)}


def test_unknown_jobs_and_kinds(store: Store, pitboard) -> None:
    with pytest.raises(PitboardError, match="job kind 'bake' is unknown; valid: .*train"):
        start_job(store, "bake", {}, title="x")
    with pytest.raises(NotFound, match="job 7: no such job"):
        get_job(store, 7)
    found = pitboard("jobs", "show", "7")
    assert found.exit_code == 2 and found.stderr.startswith("Error: job 7: no such job")
    assert store.value("SELECT count(*) FROM jobs") == 0


def test_a_queued_job_whose_worker_has_not_exec_yet_is_not_reaped(store: Store) -> None:
    """Between fork and exec the worker's cmdline is still its parent's: that is not death."""
    import socket
    import subprocess

    not_yet_a_worker = subprocess.Popen(["sleep", "30"])
    try:
        with store.transaction():
            for state in ("queued", "running"):
                store.conn.execute(
                    "INSERT INTO jobs (kind, title, state, pid, host, created_at) VALUES ('train', ?, ?, ?, ?, ?)",
                    (state, state, not_yet_a_worker.pid, socket.gethostname(), T0),
                )
        reaped = reap_dead_jobs(store)
        states = {row["title"]: row["state"] for row in store.rows("SELECT title, state FROM jobs")}
        assert states == {"queued": "queued", "running": "failed"}  # a running job's pid must be a worker
        assert len(reaped) == 1
    finally:
        not_yet_a_worker.kill()
        not_yet_a_worker.wait()
