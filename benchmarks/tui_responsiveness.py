"""How responsive the app stays: pane switches, and event-loop stalls while data moves.

    .venv/bin/python benchmarks/tui_responsiveness.py [--rounds 5] [--seconds 10] [--rebuild]

Builds once (cached in benchmarks/.data/tui_demo/) the demo database through `core.simulation.demo`,
the same calls `pitboard demo` makes: `built/` stops where `pitboard demo` opens the app
(trained, registered, promoted, continuous training on; no traffic yet) and `full/` has
the whole recession replayed as `pitboard demo --no-tui` leaves it (every pane has data).
Then, in a headless app (App.run_test) at 120x40:

- pane switch (on `full/`): each key 1..5 is sent through the app's driver as a terminal
  sends it, and the time runs until the pane is shown with its data: a worker the switch
  started has delivered, none of the pane's workers is still running, and the pane holds
  its rows (watched through run_test's message hook and polled every millisecond, never
  slept on). The first visit of each pane (its engine modules load in the worker) is
  reported apart from the later rounds. Goal: a pane switch under 100 ms.
- stalls (on a fresh copy of `built/`): a 10 ms asyncio timer in the app's event loop
  records how late each tick fires, (a) on the Monitor pane for --seconds while the
  demo's replay job writes a month of windows every --month-seconds (the pane redraws
  its tiles, tables and trends on each; retrain jobs start as alerts open), then (b) on
  the Jobs pane for --seconds while a training job of sample_data/credit_spec.toml runs
  beside them. Goal: no stall over 100 ms.

Every worker of the app and every job process competes for the same cores, as in the
demo; the figures are for this machine under its load at the time (printed at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.store.database import Store  # noqa: E402

DATA = ROOT / "benchmarks" / ".data" / "tui_demo"
SIZE = (120, 40)
TICK = 0.010  # seconds between lag probes
GOAL = 0.100  # seconds: pane switch, and the longest stall
PANE_KEYS = {"1": "data", "2": "experiments", "3": "registry", "4": "monitor", "5": "jobs"}
# What "shown with its data" means for each pane: the rows it exists to show are on it.
LOADED: dict[str, Callable[[Any], bool]] = {
    "data": lambda pane: pane.detail is not None,
    "experiments": lambda pane: bool(pane.runs),
    "registry": lambda pane: pane.detail is not None,
    "monitor": lambda pane: pane.view is not None and pane.view.model is not None,
    "jobs": lambda pane: (pane.loaded and pane.shows_empty) or bool(pane.jobs),  # read, and empty or not
}


def say(line: str) -> None:
    print(f"  {line}", flush=True)


def build_databases(rebuild: bool) -> tuple[Path, Path]:
    """`built/pitboard.db` (before the replay) and `full/pitboard.db` (after it), built once."""
    from core.simulation.demo import build, replay

    built, full = DATA / "built" / "pitboard.db", DATA / "full" / "pitboard.db"
    if not rebuild and built.exists() and full.exists():
        return built, full
    shutil.rmtree(DATA, ignore_errors=True)
    built.parent.mkdir(parents=True)
    start = time.perf_counter()
    print("building the demo database (core.simulation.demo.build, then the replay):", flush=True)
    with Store.open(built) as store:
        build(store, say)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copytree(built.parent, full.parent)
    with Store.open(full) as store:
        replay(store, month_seconds=0.0, retrain_inline=True, say=say)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"built in {time.perf_counter() - start:.0f} s", flush=True)
    return built, full


class WorkerWatch:
    """Which pane's workers finished when (from Worker.StateChanged, via run_test's message hook)."""

    def __init__(self) -> None:
        self.finished: dict[int, float] = {}  # id(pane) -> last time one of its workers succeeded

    def hook(self, message: Any) -> None:
        from textual.worker import Worker, WorkerState

        if isinstance(message, Worker.StateChanged) and message.state == WorkerState.SUCCESS:
            self.finished[id(message.worker.node)] = time.perf_counter()


async def switch_time(app: Any, watch: WorkerWatch, key: str) -> tuple[float, float]:
    """Seconds from sending `key` until its pane is shown with its data: wall time, and the
    CPU time of the UI thread meanwhile (what the app's event loop itself spent, whatever
    else the machine was doing)."""
    from textual import events
    from textual.worker import WorkerState

    pane = next(p for p in app.panes if p.pane_id == PANE_KEYS[key])
    start, cpu = time.perf_counter(), time.thread_time()
    app._driver.send_message(events.Key(key, key))
    while True:
        await asyncio.sleep(0.001)
        delivered = watch.finished.get(id(pane), 0.0) > start
        busy = any(w.node is pane and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers)
        if app.current_pane is pane and delivered and not busy and LOADED[pane.pane_id](pane):
            return time.perf_counter() - start, time.thread_time() - cpu


Timing = tuple[float, float]  # (wall seconds, UI-thread CPU seconds)


async def measure_switches(db: Path, rounds: int) -> tuple[dict[str, Timing], dict[str, list[Timing]]]:
    """Cold (first visit) and warm (later rounds) switch times per pane, starting on Data."""
    from tui.app import PitboardApp

    watch = WorkerWatch()
    app = PitboardApp(db)
    cold: dict[str, Timing] = {}
    warm: dict[str, list[Timing]] = {pane: [] for pane in PANE_KEYS.values()}
    async with app.run_test(size=SIZE, message_hook=watch.hook) as pilot:
        await settle(pilot)
        order = ["2", "3", "4", "5", "1"]  # the app opens on Data: its first visit is the startup
        for round_ in range(rounds + 1):
            for key in order:
                seconds = await switch_time(app, watch, key)
                pane = PANE_KEYS[key]
                if round_ == 0 and pane not in cold:
                    cold[pane] = seconds
                else:
                    warm[pane].append(seconds)
                await settle(pilot)  # one switch at a time: each is measured from a quiet app
    return cold, warm


async def settle(pilot: Any) -> None:
    from textual.worker import WorkerState

    while True:
        await pilot.pause()
        if not [w for w in pilot.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]:
            return
        await pilot.app.workers.wait_for_complete()


class LagProbe:
    """A TICK-second asyncio timer in the app's loop; each lag is how late a tick fired."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            self.lags.append(time.perf_counter() - before - TICK)

    def start(self) -> None:
        self.lags = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> list[float]:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        return self.lags


def fresh_copy(built: Path) -> Path:
    """A copy of `built/` (database and pitboard.toml) to replay into, new each run."""
    target = DATA / "run"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(built.parent, target)
    return target / built.name


async def measure_stalls(built: Path, seconds: float, month_seconds: float) -> dict[str, Any]:
    """Loop lags on Monitor while the replay job writes windows, then on Jobs while a training job runs."""
    from core.experiments.specs import load_spec
    from core.jobs.runner import ACTIVE, cancel_job, list_jobs, start_job
    from core.simulation.demo import start_replay
    from tui.app import PitboardApp

    db = fresh_copy(built)
    app = PitboardApp(db, pane="monitor")
    probe = LagProbe()
    result: dict[str, Any] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            monitor = app.current_pane
            with Store.open(db) as store:
                start_replay(store, month_seconds=month_seconds)
            views = {id(monitor.view)}
            probe.start()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
                views.add(id(monitor.view))
            result["monitor"] = await probe.stop()
            with Store.open(db) as store:
                windows = store.value("SELECT count(*) FROM monitor_windows")
            result["monitor_redraws"] = len(views) - 1
            result["windows"] = windows

            spec = load_spec(ROOT / "sample_data" / "credit_spec.toml")
            with Store.open(db) as store:
                start_job(store, "train", {"spec_text": spec.text, "spec_source": spec.source, "cluster": None},
                          title=f"train {spec.source}")
            await pilot.press("5")
            jobs = app.current_pane
            probe.start()
            progress: set[tuple[int, float]] = set()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
                progress |= {(job["id"], job["progress"]) for job in jobs.jobs if job["state"] == "running"}
            result["jobs"] = await probe.stop()
            result["job_updates"] = len(progress)
    finally:
        with Store.open(db) as store:
            result["jobs_seen"] = [(job["kind"], job["state"]) for job in list_jobs(store)]
            for job in list_jobs(store):
                if job["state"] in ACTIVE:
                    cancel_job(store, job["id"])
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


def lag_line(label: str, lags: list[float]) -> str:
    ordered = sorted(lags)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    over = sum(lag > GOAL for lag in lags)
    return (f"  {label:34s} p50 {ms(statistics.median(lags))}  p99 {ms(p99)}  max {ms(max(lags))}"
            f"  ({len(lags)} ticks, {over} over {GOAL * 1000:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds of switching through the five panes")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each stall phase runs")
    parser.add_argument("--month-seconds", type=float, default=0.8, help="pace of the replay job during the stall phase")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    built, full = build_databases(args.rebuild)

    cold, warm = asyncio.run(measure_switches(full, args.rounds))
    print(f"pane switch on the replayed demo database, key until shown with its data ({SIZE[0]}x{SIZE[1]}, headless);")
    print("  wall time, and in brackets the UI thread's CPU time (what the app's loop spent):")
    for pane, times in warm.items():
        walls, cpus = [t[0] for t in times], [t[1] for t in times]
        first = f"first visit {ms(cold[pane][0])} ({ms(cold[pane][1])})" if pane in cold else "first visit at startup"
        print(f"  {pane:12s} {first}   then p50 {ms(statistics.median(walls))} ({ms(statistics.median(cpus))}),"
              f" max {ms(max(walls))} over {len(times)}")
    walls = [t[0] for times in warm.values() for t in times]
    cpus = [t[1] for times in warm.values() for t in times]
    first_visits = [t[0] for t in cold.values()]
    print(f"  all later switches: p50 {ms(statistics.median(walls))} ({ms(statistics.median(cpus))}),"
          f" max {ms(max(walls))} ({ms(max(cpus))}); first visits: max {ms(max(first_visits))}")
    print(f"  goal < {GOAL * 1000:.0f} ms: {'met' if statistics.median(walls) < GOAL else 'NOT met'} at the median,"
          f" {'met' if max(walls) < GOAL else 'NOT met'} at the max, "
          f"{'met' if max(first_visits) < GOAL else 'NOT met'} on first visits")

    stalls = asyncio.run(measure_stalls(built, args.seconds, args.month_seconds))
    print(f"event-loop lag, a {TICK * 1000:.0f} ms timer in the app's loop:")
    print(lag_line(f"Monitor, replay job running ({args.seconds:.0f} s)", stalls["monitor"])
          + f"; {stalls['monitor_redraws']} redraws, {stalls['windows']} windows")
    print(lag_line(f"Jobs, training job running ({args.seconds:.0f} s)", stalls["jobs"])
          + f"; {stalls['job_updates']} progress updates shown")
    print(f"  jobs during the run: {', '.join(f'{kind} {state}' for kind, state in stalls['jobs_seen'])}")
    worst_lag = max(stalls["monitor"] + stalls["jobs"])
    print(f"  worst stall {ms(worst_lag)}  (goal: no stall over {GOAL * 1000:.0f} ms: "
          f"{'met' if worst_lag < GOAL else 'NOT met'})")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
