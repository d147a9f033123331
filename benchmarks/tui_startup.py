"""How fast the app shows its first screen, from a real pty, and how fast the Data pane pages.

    .venv/bin/python benchmarks/tui_startup.py [--rows 1000000] [--runs 5] [--rebuild]

Builds once (cached in benchmarks/.data/) a database through the real engine: the
credit-risk sample data (sample_data/credit_train.csv, 10,000 rows) and a seeded
`big` dataset of `--rows` rows x 8 columns. Then:

- startup: spawns `pitboard --db DB` in a pseudo-terminal of 80x24 and times, from the
  spawn, the first frame (the header's "pitboard" text) and the first data (the dataset
  list's "big@1"); `q` quits. The reference is a minimal Textual app (one Static) spawned
  the same way, so the ratio is what pitboard adds on top of Textual itself. Goal: first
  screen under 1 s on 2 cores.
- paging: in a headless app on the `big` dataset, the time from the next-page action (key
  `n`) until the next 100 rows are in the table, over several pages; and `read_page` of
  the last 100 rows (paging goes by rowid, so the far end is as fast as the start);
  against `datasets.load_frame` of the whole version (what a preview that loads every
  row would pay before showing anything). Goal: a page under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.terminal import quit_and_drain, spawn_in_pty  # noqa: E402
from core.store.clock import fixed_clock  # noqa: E402
from core.store.database import Store  # noqa: E402

DATA = ROOT / "benchmarks" / ".data"
PITBOARD = Path(sys.executable).parent / "pitboard"
T0 = 1_767_225_600.0
REFERENCE_APP = (
    "from textual.app import App\n"
    "from textual.widgets import Static\n"
    "class Reference(App):\n"
    "    def compose(self):\n"
    "        yield Static('reference-ready')\n"
    "Reference().run()\n"
)


def build_database(path: Path, rows: int) -> None:
    """The credit sample and a big seeded dataset, imported through core.data.datasets."""
    import numpy as np
    import pandas as pd

    from core.data import datasets

    rng = np.random.default_rng(7)
    big = pd.DataFrame({
        "id": np.arange(1, rows + 1),
        "amount": rng.lognormal(8, 1, rows).round(2),
        "rate": rng.uniform(0.02, 0.3, rows).round(4),
        "score": rng.normal(650, 80, rows).round(0),
        "term": rng.choice([12, 24, 36, 60], rows),
        "region": rng.choice(["north", "south", "east", "west", "centre"], rows),
        "channel": rng.choice(["web", "branch", "partner"], rows),
        "default": (rng.random(rows) < 0.08).astype("int64"),
    })
    with Store.open(path, clock=fixed_clock(T0)) as store:
        datasets.add_dataset(store, "credit", ROOT / "sample_data" / "credit_train.csv", target="default")
        datasets.add_frame(store, "big", big, source=f"benchmark {rows} rows", target="default")


def spawn_until(argv: list[str], marks: list[bytes], quit_key: bytes, cwd: Path) -> list[float]:
    """Seconds from spawning `argv` in an 80x24 pty until each mark appears in its output."""
    env = {**os.environ, "TERM": "xterm-256color", "PITBOARD_NOW": str(T0)}
    env.pop("NO_COLOR", None)
    start = time.perf_counter()
    leader, process = spawn_in_pty(argv, rows=24, columns=80, cwd=cwd, env=env)
    seen, found = b"", []
    try:
        while len(found) < len(marks):
            ready, _, _ = select.select([leader], [], [], 30)
            if not ready:
                raise RuntimeError(f"no {marks[len(found)]!r} after 30 s from {argv}")
            seen += os.read(leader, 65536)
            while len(found) < len(marks) and marks[len(found)] in seen:
                found.append(time.perf_counter() - start)
        quit_and_drain(leader, process, quit_key)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return found


async def page_times(db: Path, pages: int) -> tuple[list[float], int]:
    """Seconds from the next-page action (what `n` runs) until the table holds that page.

    The key press itself is not timed: Pilot.press waits for the process to look idle,
    which would measure the test harness rather than the app.
    """
    from tui.app import PitboardApp
    from tui.widgets.table import FilterTable

    app = PitboardApp(db, clock=fixed_clock(T0))
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.current_pane
        await pilot.press("r")
        await settle(pilot)
        table = pane.query_one("#rows-table", FilterTable).table
        for page in range(1, pages + 1):
            first = str(page * 100 + 1)
            start = time.perf_counter()
            pane.action_page(1)
            while not table.row_count or str(table.get_row_at(0)[0]) != first:
                await asyncio.sleep(0.0005)
            times.append(time.perf_counter() - start)
        last_row = int(str(table.get_row_at(table.row_count - 1)[0]))
    return times, last_row


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    from textual.worker import WorkerState

    while True:
        await pilot.pause()
        if not [w for w in pilot.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]:
            return
        await pilot.app.workers.wait_for_complete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    DATA.mkdir(parents=True, exist_ok=True)
    db = DATA / f"tui_startup_{args.rows}.db"
    if args.rebuild or not db.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        build_database(db, args.rows)
        print(f"built {db.name} ({db.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s")

    print(f"startup from a pty at 80x24, {args.runs} runs each, median (min..max):")
    ours = [spawn_until([str(PITBOARD), "--db", str(db)], [b"pitboard", b"big@1"], b"q", DATA) for _ in range(args.runs)]
    reference = [spawn_until([sys.executable, "-c", REFERENCE_APP], [b"reference-ready"], b"\x11", DATA)[0]
                 for _ in range(args.runs)]
    first_frame = [run[0] for run in ours]
    first_data = [run[1] for run in ours]
    for label, values in [("minimal Textual app (reference)", reference), ("pitboard first frame", first_frame),
                          ("pitboard first data (dataset list)", first_data)]:
        print(f"  {label:36s} {statistics.median(values):6.3f} s ({min(values):.3f}..{max(values):.3f})")
    print(f"  ratio first data / reference: {statistics.median(first_data) / statistics.median(reference):.2f}x"
          f"  (goal: first screen < 1 s: {'met' if statistics.median(first_data) < 1 else 'NOT met'})")

    from core.data import datasets

    with Store.open(db) as store:
        big = datasets.resolve(store, "big")
        start = time.perf_counter()
        frame = datasets.load_frame(store, big)
        load_all = time.perf_counter() - start
        start = time.perf_counter()
        _, last_page = datasets.read_page(store, big, big.n_rows - 100, 100)
        read_last = time.perf_counter() - start
    times, last_row = asyncio.run(page_times(db, args.pages))
    assert last_row == 100 * (args.pages + 1), f"after {args.pages} pages the table ends at row {last_row}"
    assert len(last_page) == 100 and last_page[-1][0] == big.n_rows
    print(f"paging {big.n_rows:,} rows x {big.n_columns} columns, 100 rows a page:")
    print(f"  next page in the app (n until in table)  median {statistics.median(times) * 1000:6.1f} ms,"
          f" max {max(times) * 1000:.1f} ms over {len(times)} pages")
    print(f"  read_page of the last 100 rows           {read_last * 1000:6.1f} ms")
    print(f"  load every row (load_frame, {len(frame):,})  {load_all * 1000:8.1f} ms")
    print(f"  ratio load-all / page: {load_all / statistics.median(times):.3g}x"
          f"  (goal: a page < 100 ms: {'met' if statistics.median(times) < 0.1 else 'NOT met'})")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
