"""What a dead worker leaves behind is stopped: its process group, and its pool processes.

A training worker fits in joblib's loky processes. When the worker dies without cleaning
up (`kill -9`, the OOM killer), they are not told: they wait for work forever, holding
their memory (four processes, ~500 MB, seen alive twenty minutes later). Two measures:

- The reaper (`core.jobs.runner.reap_dead_jobs`), on finding a worker gone, kills what is
  left of its process group (`kill_leftovers`). The worker was started in its own session,
  so its group id is its pid, and the kernel does not hand that number to a new process
  while the group has members. Every member is still checked before it is killed: it
  must carry the job's token (`PITBOARD_JOB=<job id>@<database>`) in the environment it
  was started with, which the worker sets and its children inherit; a pidfd is opened
  first, so the process checked is the process signalled.
- Pool processes leave on their own when their parent dies (`exit_with_parent`, run by
  loky in each one it starts): a thread notices the parent pid change (the orphan is
  re-parented) within `WATCH_SECONDS` and exits the process. Chosen over Linux's
  PR_SET_PDEATHSIG, which fires when the *thread* that forked the child ends, not the
  process: loky starts processes from whichever thread submits work or resizes its pool,
  so healthy processes would be killed mid-search. Polling getppid works on every POSIX
  system and costs one system call every half second.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

JOB_ENV = "PITBOARD_JOB"
WATCH_SECONDS = 0.5
PROC = Path("/proc")


def job_token(db_path: Path, job_id: int) -> str:
    """What identifies job `job_id`'s processes: `<job id>@<the database's resolved path>`."""
    return f"{job_id}@{Path(db_path).resolve()}"


def _group_of(pid: int) -> int | None:
    try:
        return int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def _carries(pid: int, token: str) -> bool:
    try:
        environ = (PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return f"{JOB_ENV}={token}".encode() in environ.split(b"\0")


def _kill_checked(pid: int, token: str) -> bool:
    """SIGKILL `pid` if it carries `token`; through a pidfd where the system has them."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        handle = None
    try:
        if not _carries(pid, token):
            return False
        if handle is not None:
            signal.pidfd_send_signal(handle, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False
    finally:
        if handle is not None:
            os.close(handle)


def kill_leftovers(group: int, token: str) -> list[int]:
    """Kill the members of process group `group` that carry `token`; returns their pids.

    Needs procfs (Linux); elsewhere nothing is killed and the pool processes' own watch
    (`exit_with_parent`) is what stops them.
    """
    if not PROC.is_dir():
        return []
    killed = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and _group_of(int(entry.name)) == group and _kill_checked(int(entry.name), token):
            killed.append(int(entry.name))
    return killed


def exit_with_parent() -> None:
    """Exit this process soon after its parent dies (a loky initializer; see the module docstring)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
