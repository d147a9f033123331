"""Background jobs: long work in a detached worker process, its progress in the database.

`start_job` writes a `jobs` row and launches `python -m core.jobs.worker DB JOB_ID` in its own
session (`start_new_session=True`), with stdin closed and stdout/stderr appended to
`<database folder>/.pitboard/jobs/<id>.log`. The worker is no child of the terminal, so
closing it or dropping SSH does not stop the job; the TUI and `pitboard jobs` find it
again through the table.

The worker records its state, a progress fraction and message, a heartbeat and the tail
of its log. A job whose worker is gone without finishing (SIGKILL, a crash, a reboot) is
reported as failed by whoever looks next: on the worker's own host when its pid is no
longer a live worker, elsewhere when its heartbeat is older than `stale_after_seconds`.
On the worker's host, what the worker left running in its process group is killed then
(`core.jobs.orphans`).
Cancelling sets a flag the job polls between units of work and sends SIGTERM.

Times: a job is a real process, so its own times (created, started, heartbeat, ended)
come from the process clock (`core.store.clock.default_clock()`: the real time, or
`PITBOARD_NOW`), never from the store's clock, which a simulation replaces with a
virtual one (`core.simulation.simulate`); the job's duration is then real seconds. Its audit rows
follow the store's clock like every other audit row. The reaper compares heartbeats with
the store's clock; nothing reaps through a store on a virtual clock.

Job kinds live in `JOB_KINDS` (kind -> "module:function", imported lazily); the function
is called as `fn(store, job, **args)` and returns a JSON-able result. Other modules add a
kind with one entry.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from core.jobs.orphans import JOB_ENV, job_token, kill_leftovers
from core.store.clock import default_clock
from core.store.config import at_least
from core.store.database import Store
from core.store.errors import NotFound, PitboardError
from core.store.outbox import publish

JOB_KINDS: dict[str, str] = {
    "train": "core.experiments.training:train_job",
    "retrain": "core.monitoring.retraining:retrain_job",
    "package": "core.registry.packaging:package_job",
    "simulate": "core.simulation.demo:replay_job",
}

DEFAULTS = {"heartbeat_seconds": 2.0, "stale_after_seconds": 60.0}
# A heartbeat of 0 would write the database in a tight loop; a job silent for less than a
# few heartbeats is not dead.
RANGES = {"heartbeat_seconds": at_least(0.1, 3600), "stale_after_seconds": at_least(1, 7 * 86_400)}
ACTIVE = ("queued", "running")
LOG_TAIL_BYTES = 4096


class JobCancelled(BaseException):
    """Raised inside a worker when its job is cancelled.

    A BaseException, like KeyboardInterrupt, so no `except Exception` in job code turns a
    cancellation into a recorded failure; open transactions roll back on the way out.
    """


def job_time() -> float:
    """Now, for a job's own times: the process clock, whatever the store's clock says."""
    return default_clock()()


def job_log_path(store: Store, job_id: int) -> Path:
    """Where a job's worker writes its output: beside the database."""
    return store.path.resolve().parent / ".pitboard" / "jobs" / f"{job_id}.log"


def start_job(store: Store, kind: str, args: dict[str, Any], *, title: str) -> int:
    """Record a job and launch its detached worker; returns the job id at once."""
    if kind not in JOB_KINDS:
        raise PitboardError(f"job kind {kind!r} is unknown; valid: {', '.join(sorted(JOB_KINDS))}")
    store.settings("jobs", DEFAULTS, RANGES)  # a bad [jobs] section fails here, not in the worker
    encoded = json.dumps(args, sort_keys=True)
    with store.transaction():
        job_id = int(store.conn.execute(
            "INSERT INTO jobs (kind, title, args, created_at, host) VALUES (?, ?, ?, ?, ?)",
            (kind, title, encoded, job_time(), socket.gethostname()),
        ).lastrowid)
        log_path = job_log_path(store, job_id)
        store.conn.execute("UPDATE jobs SET log_path = ? WHERE id = ?", (str(log_path), job_id))
        store.audit("job.start", f"job {job_id}", {"kind": kind, "title": title})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.jobs.worker", str(store.path.resolve()), str(job_id)],
            stdin=devnull, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, JOB_ENV: job_token(store.path, job_id)},
        )
    with store.transaction():
        store.conn.execute("UPDATE jobs SET pid = ? WHERE id = ? AND pid IS NULL", (process.pid, job_id))
    return job_id


def pid_alive(pid: int, *, is_worker: bool = True) -> bool:
    """Whether `pid` is a live process on this host (not a zombie) and, with `is_worker`,
    a pitboard worker (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no procfs: the signal check is all we have
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and (not is_worker or b"core.jobs.worker" in cmdline)


def reap_dead_jobs(store: Store) -> list[int]:
    """Mark active jobs whose worker is gone as failed; returns their ids."""
    stale_after = store.settings("jobs", DEFAULTS, RANGES)["stale_after_seconds"]
    here = socket.gethostname()
    reaped, leftovers = [], []
    for row in store.rows("SELECT id FROM jobs WHERE state IN ('queued', 'running')"):
        with store.transaction():  # re-read under the write lock: the worker may just have finished
            job = store.row("SELECT * FROM jobs WHERE id = ?", (row["id"],))
            if job["state"] not in ACTIVE:
                continue
            now = store.clock()
            if job["host"] == here and job["pid"] is not None:
                # A queued job's pid may not have exec'd the worker yet (its cmdline is still
                # the parent's): only a running job's pid must be a pitboard worker.
                dead = not pid_alive(job["pid"], is_worker=job["state"] == "running")
                why = f"worker process {job['pid']} is gone (killed or crashed)"
                if dead:
                    leftovers.append((job["pid"], job["id"]))
            else:
                last = job["heartbeat"] or job["created_at"]
                dead = now - last > stale_after
                why = f"no heartbeat for {now - last:.0f} s"
            if dead:
                store.conn.execute(
                    "UPDATE jobs SET state = 'failed', error = ?, ended_at = ?, log_tail = ? WHERE id = ?",
                    (why, now, read_log_tail(job["log_path"]) or job["log_tail"], job["id"]),
                )
                store.audit("job.fail", f"job {job['id']}", {"error": why})
                publish(store, "job.failed", f"job {job['id']} ({job['title']}) failed: {why}",
                        details={"job": job["id"], "kind": job["kind"], "error": why})
                reaped.append(job["id"])
    for group, job_id in leftovers:
        kill_leftovers(group, job_token(store.path, job_id))
    return reaped


def read_log_tail(path: str | None, size: int = LOG_TAIL_BYTES) -> str:
    """The last `size` bytes of a job log, from the start of a line."""
    if not path or not os.path.exists(path):
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        handle.seek(max(0, end - size))
        data = handle.read()
    if end > size and b"\n" in data:
        data = data.split(b"\n", 1)[1]
    return data.decode("utf-8", "replace")


def _job_dict(row: Any) -> dict[str, Any]:
    job = dict(row)
    job["args"] = json.loads(job["args"])
    job["result"] = json.loads(job["result"]) if job["result"] else None
    job["cancel_requested"] = bool(job["cancel_requested"])
    end = job["ended_at"]
    job["duration"] = (end - job["started_at"]) if end is not None and job["started_at"] is not None else None
    return job


def list_jobs(store: Store, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Jobs, newest first, with dead workers already reported as failed."""
    reap_dead_jobs(store)
    rows = store.rows("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit if limit is not None else -1,))
    return [_job_dict(row) for row in rows]


def get_job(store: Store, job_id: int) -> dict[str, Any]:
    """One job, with the live tail of its log."""
    reap_dead_jobs(store)
    row = store.row("SELECT * FROM jobs WHERE id = ?", (job_id,))
    if row is None:
        raise NotFound(f"job {job_id}: no such job")
    job = _job_dict(row)
    job["log_tail"] = read_log_tail(job["log_path"]) or job["log_tail"]
    return job


def cancel_job(store: Store, job_id: int) -> dict[str, Any]:
    """Ask a job to stop: a flag it polls, and SIGTERM to its worker's process group.

    A job still queued ends here and now: its worker may be importing, and a SIGTERM then kills
    it before `run_job` could record anything, which would leave the job queued forever.
    """
    job = get_job(store, job_id)
    if job["state"] not in ACTIVE:
        raise PitboardError(f"job {job_id}: already {job['state']}; nothing to cancel")
    now = job_time()
    with store.transaction():
        store.conn.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
        store.conn.execute(
            "UPDATE jobs SET state = 'cancelled', ended_at = ?, heartbeat = ? WHERE id = ? AND state = 'queued'",
            (now, now, job_id),
        )
        store.audit("job.cancel", f"job {job_id}", {})
    if job["pid"] and job["host"] == socket.gethostname() and pid_alive(job["pid"]):
        try:
            os.killpg(job["pid"], signal.SIGTERM)
        except ProcessLookupError:
            pass
    return get_job(store, job_id)


class JobContext:
    """What a job function gets: report progress, write to the log, check for cancel."""

    def __init__(self, store: Store, job_id: int) -> None:
        self.store = store
        self.id = job_id
        self.signalled = False

    def progress(self, fraction: float, message: str) -> None:
        """Record how far the job is (0..1) and what it is doing now."""
        with self.store.transaction():
            self.store.conn.execute(
                "UPDATE jobs SET progress = ?, message = ?, heartbeat = ? WHERE id = ?",
                (min(max(fraction, 0.0), 1.0), message, job_time(), self.id),
            )
        if self.cancelled():
            raise JobCancelled()

    def log(self, text: str) -> None:
        """Append a line to the job's log."""
        print(text, flush=True)

    def cancelled(self) -> bool:
        """Whether someone asked this job to stop."""
        return self.signalled or bool(self.store.value("SELECT cancel_requested FROM jobs WHERE id = ?", (self.id,)))


def _heartbeat(db: Path, job_id: int, every: float, stop: threading.Event) -> None:
    """Beat from a thread with its own connection (a shared one would join open transactions)."""
    with Store.open(db) as store:
        path = store.value("SELECT log_path FROM jobs WHERE id = ?", (job_id,))
        while not stop.wait(every):
            with store.transaction():
                store.conn.execute(
                    "UPDATE jobs SET heartbeat = ?, log_tail = ? WHERE id = ?",
                    (job_time(), read_log_tail(path), job_id),
                )


def resolve_kind(kind: str) -> Any:
    """The function registered for `kind`."""
    module, _, name = JOB_KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(store: Store, job_id: int) -> str:
    """Run job `job_id` in this process (the worker) and record how it ended."""
    with store.transaction():
        job = store.row("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if job is None or job["state"] != "queued":
            return job["state"] if job else "missing"
        state = "cancelled" if job["cancel_requested"] else "running"
        store.conn.execute(
            "UPDATE jobs SET state = ?, pid = ?, host = ?, started_at = ?, heartbeat = ? WHERE id = ?",
            (state, os.getpid(), socket.gethostname(), job_time(), job_time(), job_id),
        )
    if state == "cancelled":
        return state
    context = JobContext(store, job_id)

    def on_sigterm(signum: int, frame: Any) -> None:
        context.signalled = True
        raise JobCancelled()

    signal.signal(signal.SIGTERM, on_sigterm)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(store.path, job_id, store.settings("jobs", DEFAULTS, RANGES)["heartbeat_seconds"], stop),
        daemon=True,
    )
    beat.start()
    result, error = None, None
    try:
        print(f"job {job_id}: {job['title']}", flush=True)
        result = resolve_kind(job["kind"])(store, context, **json.loads(job["args"]))
        state = "finished"
    except JobCancelled:
        state = "cancelled"
    except PitboardError as exc:
        state, error = "failed", str(exc).splitlines()[0]
        print(f"Error: {exc}", flush=True)
    except Exception as exc:
        state, error = "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
        traceback.print_exc()
        sys.stdout.flush()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stop.set()
        beat.join()
    print(f"job {job_id}: {state}", flush=True)
    with store.transaction():
        store.conn.execute(
            "UPDATE jobs SET state = ?, result = ?, error = ?, ended_at = ?, heartbeat = ?, log_tail = ?,"
            " progress = CASE WHEN ? = 'finished' THEN 1 ELSE progress END WHERE id = ?",
            (state, json.dumps(result, default=str) if result is not None else None, error, job_time(),
             job_time(), read_log_tail(job["log_path"]), state, job_id),
        )
        store.audit(f"job.{'finish' if state == 'finished' else state}", f"job {job_id}", {"error": error})
        if state == "failed":
            publish(store, "job.failed", f"job {job_id} ({job['title']}) failed: {error}",
                    details={"job": job_id, "kind": job["kind"], "error": error})
    return state
