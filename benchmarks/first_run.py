"""How long a new user waits from a fresh clone to the app's first frame (goal: under 60 s).

    python3 benchmarks/first_run.py [--rev HEAD] [--cache both|fresh|warm|default] [--keep]

Standard library only, so it runs before any environment exists. For each measured run it
clones the committed `--rev` of this checkout (uncommitted changes are not measured) into a
temporary folder, runs `make demo` there in a pseudo-terminal of 120x40, timestamps what
make prints, and reports each phase and the total against the goal:

- install: from the start until make runs the first `.venv/bin/pitboard` command;
- warmup: `pitboard warmup`, compiling the numba kernels; in the foreground its
  "kernels ready in" line is on the terminal, in the background it is in `.venv/warmup.log`
  (where the Makefile sends it), read as it appears;
- build: from `pitboard ... demo` until it says it started the replay job;
- app: from there until the first frame, the header's "pitboard" drawn after the
  terminal switched to the alternate screen.

Caches. pip's and uv's download caches decide much of the install time, so `--cache fresh`
gives both empty caches in the temporary folder (a new user's machine), and `--cache warm`
clones a second time with the caches the fresh run filled (cloning again on the same
machine; with `warm` alone, a first fresh run fills them unreported). `both` (the default)
reports the two; `default` uses this machine's own caches as they are. numba's cache is
always empty: it lives beside the kernels' source, in the clone.

Once the first frame is up and any background warmup has finished, it presses `q`, ends
every process the run started that is still running (the demo's replay job and the
retraining it starts run detached; each carries a token in its environment), and deletes
the clones and the caches (`--keep` keeps them and prints where). The machine may be
shared, so each run prints the load average before and after: compare runs made at
similar loads.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.terminal import quit_and_drain, spawn_in_pty  # noqa: E402

GOAL_SECONDS = 60.0
ROWS, COLUMNS = 40, 120
RUN_TOKEN = "PITBOARD_FIRST_RUN"  # in the environment of every process a run starts
WARMUP_LOG = Path(".venv") / "warmup.log"  # where the Makefile's background warmup writes
ALT_SCREEN = b"\x1b[?1049h"
MARKS = {
    "install_end": re.compile(rb"\.venv/bin/pitboard\b"),
    "warmup_start": re.compile(rb"\.venv/bin/pitboard\b[^\r\n]*\bwarmup\b"),
    "warmup_end": re.compile(rb"kernels ready in [0-9.]+ s"),
    "build_start": re.compile(rb"\.venv/bin/pitboard\b[^\r\n]*\bdemo\b"),
    "build_end": re.compile(rb"replaying the recession as job \d+"),
    "first_frame": re.compile(rb"pitboard"),  # searched after the switch to the alternate screen
}


@dataclass
class Run:
    """What one `make demo` printed, and when (seconds from the start)."""

    label: str
    marks: dict[str, float] = field(default_factory=dict)
    warmup_in_background: bool = False
    left_running: int = 0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def clone(rev: str, into: Path) -> str:
    """A fresh clone of `rev` of this checkout at `into`; returns the commit."""
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", rev], capture_output=True, text=True,
                         check=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(into)], check=True)
    if subprocess.run(["git", "-C", str(into), "cat-file", "-e", f"{sha}^{{commit}}"],
                      check=False, capture_output=True).returncode:
        subprocess.run(["git", "-C", str(into), "fetch", "--quiet", str(ROOT), sha], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", "--detach", sha], check=True)
    return sha


def make_env(caches: Path | None, token: str) -> dict[str, str]:
    """This environment for `make demo`, less what would make the run not a first one.

    `token` marks every process of the run, so that the clean-up ends those and no others.
    """
    env = {**os.environ, "TERM": "xterm-256color", "LANG": os.environ.get("LANG", "C.UTF-8"), RUN_TOKEN: token}
    for name in ("NO_COLOR", "NUMBA_CACHE_DIR", "VIRTUAL_ENV", "PITBOARD_DB", "PITBOARD_NOW",
                 "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    if caches is not None:
        env["PIP_CACHE_DIR"] = str(caches / "pip")
        env["UV_CACHE_DIR"] = str(caches / "uv")
    return env


def processes_started(token: str) -> list[int]:
    """Ids of the processes that inherited `token` from `make demo`'s environment.

    Every process of a run has it, also those that left make's session (the replay job
    and the retraining it starts run detached); no other process does.
    """
    found, me, needle = [], os.getpid(), f"{RUN_TOKEN}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def end_processes(token: str) -> int:
    """End every process a run started that is still running; returns how many there were."""
    pids = processes_started(token)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and processes_started(token):
        time.sleep(0.1)
    for pid in processes_started(token):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def watch_make_demo(checkout: Path, env: dict[str, str], run: Run, timeout: float) -> None:
    """Run `make demo` in a pty, recording each mark's first time; quits the app at the end."""
    start = time.perf_counter()
    leader, process = spawn_in_pty(["make", "demo"], rows=ROWS, columns=COLUMNS, cwd=checkout, env=env)
    seen = b""
    log = checkout / WARMUP_LOG
    try:
        while True:
            now = time.perf_counter() - start
            if now > timeout:
                raise RuntimeError(f"no first frame after {timeout:.0f} s; last output:\n{tail(seen)}")
            if select.select([leader], [], [], 0.05)[0]:
                try:
                    seen += os.read(leader, 65536)
                except OSError:  # make ended and the pty closed
                    raise RuntimeError(f"make demo ended before the first frame:\n{tail(seen)}") from None
            now = time.perf_counter() - start
            note_marks(run, seen, now)
            if "warmup_end" not in run.marks and log.exists() and MARKS["warmup_end"].search(log.read_bytes()):
                run.marks["warmup_end"] = now
                run.warmup_in_background = True
            if "first_frame" in run.marks and ("warmup_end" in run.marks or not log.exists()
                                               or now > run.marks["first_frame"] + 120):
                break
            if process.poll() is not None and not select.select([leader], [], [], 0)[0]:
                raise RuntimeError(f"make demo exited ({process.returncode}) before the first frame:\n{tail(seen)}")
        quit_and_drain(leader, process, b"q")
    finally:
        run.left_running = end_processes(env[RUN_TOKEN])
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(leader)


def note_marks(run: Run, seen: bytes, now: float) -> None:
    """Record the time of every mark that shows up for the first time in `seen`."""
    app = seen.find(ALT_SCREEN)
    for name, pattern in MARKS.items():
        if name in run.marks:
            continue
        if name == "first_frame":
            if app >= 0 and pattern.search(seen, app):
                run.marks[name] = now
        elif pattern.search(seen if app < 0 else seen[:app]):
            run.marks[name] = now


def tail(seen: bytes, lines: int = 15) -> str:
    text = re.sub(rb"\x1b\[[0-9;?]*[ -/]*[@-~]", b"", seen).decode(errors="replace")
    return "\n".join(text.replace("\r", "").splitlines()[-lines:])


def report(run: Run, sha: str) -> None:
    """The phases of one run, and its total against the goal."""
    m = run.marks
    print(f"\n{run.label}: make demo on {sha[:10]}, load average {fmt_load(run.load_before)} before, "
          f"{fmt_load(run.load_after)} after")
    install_end = m.get("install_end")
    rows = [("install", 0.0, install_end)]
    if "warmup_start" in m or "warmup_end" in m:
        where = "background" if run.warmup_in_background else "foreground"
        rows.append((f"warmup ({where})", m.get("warmup_start", install_end), m.get("warmup_end")))
    else:
        rows.append(("warmup (not run)", None, None))
    rows.append(("demo build", m.get("build_start"), m.get("build_end")))
    rows.append(("app start", m.get("build_end"), m.get("first_frame")))
    print(f"  {'phase':<22}{'from':>8}{'to':>8}{'seconds':>9}")
    for name, begin, end in rows:
        took = f"{end - begin:9.1f}" if begin is not None and end is not None else f"{'-':>9}"
        print(f"  {name:<22}{fmt(begin)}{fmt(end)}{took}")
    total = m.get("first_frame")
    verdict = "met" if total is not None and total < GOAL_SECONDS else "missed"
    print(f"  first frame after {fmt(total).strip()} s: goal {GOAL_SECONDS:.0f} s {verdict}")
    print(f"  after quitting the app: ended {run.left_running} processes still running (the replay job, ...)")


def fmt(value: float | None) -> str:
    return f"{value:8.1f}" if value is not None else f"{'-':>8}"


def fmt_load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.1f}" for x in load)


def measure(name: str, rev: str, work: Path, caches: Path | None, timeout: float, quiet: bool = False) -> None:
    """One fresh clone, one `make demo`, its processes ended after (the caches stay for a warm run)."""
    checkout = work / f"clone-{name}"
    sha = clone(rev, checkout)
    run = Run(f"{name} caches", load_before=os.getloadavg())
    try:
        watch_make_demo(checkout, make_env(caches, uuid.uuid4().hex), run, timeout)
    finally:
        run.load_after = os.getloadavg()
    if not quiet:
        report(run, sha)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="HEAD", help="the commit of this checkout to clone (default HEAD)")
    parser.add_argument("--cache", choices=("both", "fresh", "warm", "default"), default="both",
                        help="pip/uv caches: empty (fresh), filled by a fresh run (warm), both, or this machine's")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take to its first frame")
    parser.add_argument("--keep", action="store_true", help="keep the clones and caches, and print where")
    args = parser.parse_args()
    if shutil.which("make") is None or shutil.which("git") is None:
        sys.exit("first_run.py needs git and make")
    # Stopped (timeout, kill): exit through the clean-up, which ends what the run started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("first_run.py: terminated"))

    work = Path(tempfile.mkdtemp(prefix="pitboard-first-run-"))
    caches = None if args.cache == "default" else work / "caches"
    try:
        if args.cache == "default":
            measure("default", args.rev, work, None, args.timeout)
        if args.cache in ("both", "fresh", "warm"):
            measure("fresh", args.rev, work, caches, args.timeout, quiet=args.cache == "warm")
        if args.cache in ("both", "warm"):
            measure("warm", args.rev, work, caches, args.timeout)
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
