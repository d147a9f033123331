"""A training worker killed with SIGKILL takes its joblib/loky processes with it.

The worker runs its search's fits in loky processes (`[training] n_jobs = 2`). `kill -9` of
the worker alone (not its group) used to leave them running, holding memory, for good.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from core.jobs.runner import get_job, pid_alive, reap_dead_jobs, start_job
from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0, wait_for
from tests.experiments.helpers import credit_db  # noqa: F401 (fixture)
from tests.jobs.test_jobs import LONG_SPEC

pytestmark = pytest.mark.slow


def start_parallel_training(db: Path, cleanup: list[psutil.Process], *, fits: int = 0) -> tuple[int, int, list[psutil.Process]]:
    """Start a long search with two loky processes; (job id, worker pid, its children) once
    they exist and at least `fits` fits have come back from them. The worker and its
    children go into `cleanup` as soon as they are known."""
    from core.experiments.specs import parse_spec

    (db.parent / "pitboard.toml").write_text("[training]\nn_jobs = 2\nimportance_repeats = 2\n")
    spec = parse_spec(LONG_SPEC, "long.toml")
    with Store.open(db, clock=fixed_clock(T0)) as store:
        job_id = start_job(store, "train", {"spec_text": spec.text, "spec_source": spec.source}, title="long")
        pid = wait_for(lambda: store.value("SELECT pid FROM jobs WHERE id = ? AND state = 'running'", (job_id,)),
                       what="the worker to run")
    worker = psutil.Process(pid)
    cleanup.append(worker)

    def loky_children() -> list[psutil.Process]:
        found = []
        for child in worker.children(recursive=True):
            cleanup.append(child)
            try:
                found += [child] if "joblib.externals.loky.backend.popen_loky_posix" in child.cmdline() else []
            except psutil.NoSuchProcess:  # a short-lived helper (e.g. git for the provenance)
                pass
        return found if len(found) >= 2 else []

    wait_for(loky_children, what="two loky processes of the worker")
    with Store.open(db) as store:  # progress counts the fits done, of 40 candidates x (3 folds + 1 refit)
        wait_for(lambda: store.value("SELECT progress FROM jobs WHERE id = ?", (job_id,)) >= fits / 160,
                 what=f"{fits} fits done")
    children = worker.children(recursive=True)
    cleanup.extend(children)
    return job_id, pid, children


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def gone(processes: list[psutil.Process]) -> bool:
    return not any(alive(p) for p in processes)


@pytest.fixture
def cleanup():
    """Whatever a failed test leaves alive is killed (no orphan outlives the suite)."""
    left: list[psutil.Process] = []
    yield left
    for process in left:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def test_the_reaper_kills_what_a_sigkilled_worker_left_running(credit_db: Path, monkeypatch, cleanup) -> None:
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    job_id, pid, children = start_parallel_training(credit_db, cleanup)
    os.kill(pid, signal.SIGKILL)  # the worker alone, as `kill -9 PID` does
    wait_for(lambda: not pid_alive(pid), what="the worker to die")
    with Store.open(credit_db, clock=fixed_clock(T0)) as store:
        assert reap_dead_jobs(store) == [job_id]
        assert get_job(store, job_id)["error"] == f"worker process {pid} is gone (killed or crashed)"
    wait_for(lambda: gone(children), what=lambda: f"the worker's children to exit: {[p.pid for p in children if alive(p)]}",
             timeout=10)


def test_pool_processes_exit_on_their_own_when_their_worker_dies(credit_db: Path, monkeypatch, cleanup) -> None:
    """Nobody reaps here (no `pitboard jobs` runs): the pool's own watch must stop it, and
    the resource trackers then see their last client go and exit too."""
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    _, pid, children = start_parallel_training(credit_db, cleanup, fits=8)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(children), what=lambda: f"the worker's children to exit: {[p.pid for p in children if alive(p)]}",
             timeout=10)
