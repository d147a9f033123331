"""Start serving a model from the app: a detached `pitboard serve` process.

Serving is a long-lived process, not a job with an end, so the app launches the real
`pitboard serve NAME@ALIAS --port 0` in its own session (it outlives the app and an SSH
drop, like a job's worker) with its output in `.pitboard/serve/<pid>.log` beside the
database. `--port 0` lets the OS pick a free port; the service records it in its
`deployments` row, which is where the URL shown to the user comes from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from core.store.database import Store
from core.store.errors import PitboardError

START_TIMEOUT = 60.0
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Started:
    """A service the app launched: its process, its URL and its log."""

    pid: int
    url: str
    deployment: int
    log: Path


def pitboard_command() -> list[str]:
    """The installed console script beside this interpreter (or on PATH)."""
    exe = shutil.which("pitboard", path=str(Path(sys.executable).parent)) or shutil.which("pitboard")
    if exe is None:
        raise PitboardError("pitboard: the console script is not installed (pip install -e .)")
    return [exe]


def start_service(db_path: Path, ref: str, *, timeout: float = START_TIMEOUT) -> Started:
    """Launch `pitboard serve ref` detached and wait (in the caller's thread) for its deployment row."""
    log = db_path.resolve().parent / ".pitboard" / "serve" / f"{int(time.time() * 1000)}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out, open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(
            [*pitboard_command(), "--db", str(db_path.resolve()), "serve", ref, "--port", "0"],
            stdin=devnull, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    with Store.open(db_path) as store:
        while True:
            row = store.row("SELECT id, host, port FROM deployments WHERE pid = ? AND ended_at IS NULL", (process.pid,))
            if row is not None:
                return Started(process.pid, f"http://{row['host']}:{row['port']}", row["id"], log)
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    process.terminate()
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise PitboardError(f"pitboard serve {ref}: did not start ({tail[0]}); log {log}")
            time.sleep(POLL_SECONDS)
