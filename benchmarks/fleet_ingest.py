"""Fleet ingest at scale: 1,000,000 logged predictions in 100 segments in a folder, into windows.

    .venv/bin/python benchmarks/fleet_ingest.py [--rows 1000000] [--segments 100] [--rebuild]

The database is `benchmarks/monitor_ingest.py`'s (a 20-feature champion and `--rows`
predictions logged over 24 hours by the real prediction-log writer; built once, cached).
Its logged rows are written as `--segments` prediction segments of three replicas into a
folder, exactly as `serve --log-to` writes them (`core.serving.segments`). Then, each on
a fresh copy of the database:

- fleet: `core.monitoring.fleet.ingest_fleet` reads, hashes and checks every segment,
  takes them in with their ledger rows, and forms the hourly windows;
- local (the reference): `core.monitoring.ingest.ingest_deployment` forms the same
  windows from the same rows already in the database's prediction log.

Printed: segments/s and predictions/s of both, and the ratio. Goal: fleet within 1.5x.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

from core.store.clock import fixed_clock  # noqa: E402
from core.store.database import Store  # noqa: E402
from monitor_ingest import DATA, HOUR, START, build  # noqa: E402

FLEET = DATA / "fleet"


def fresh(template: Path, name: str) -> Path:
    run = DATA / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(run) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, run)
    return run


def write_segments(store: Store, folder: Path, segments: int) -> int:
    """The database's logged rows as `segments` prediction segments of three replicas; returns the rows."""
    from core.monitoring.ingest import _read_log
    from core.serving.predictlog import encode
    from core.serving.segments import SegmentName, put_atomically, replica_metadata

    import fsspec

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    fs = fsspec.filesystem("file")
    deployment = store.value("SELECT id FROM deployments")
    sha = store.value("SELECT model_sha256 FROM model_versions WHERE version = 1")
    table = _read_log(store, deployment, 1)
    table = table.drop_columns([c for c in ("meta.deployment", "meta.seq", "meta.version") if c in table.column_names])
    bounds = np.linspace(0, table.num_rows, segments + 1).astype(int)
    next_seq = [1, 1, 1]
    for n in range(segments):
        replica = n % 3
        part = table.slice(bounds[n], bounds[n + 1] - bounds[n])
        columns = {name: part.column(name).to_numpy(zero_copy_only=False) for name in part.column_names}
        name = SegmentName("pred", f"node{replica}", 100 + replica, int(START * 1000), 1000 + replica, n + 1)
        ts = columns["meta.ts"]
        data = encode(columns, replica_metadata(name, {
            "model": "bench", "version": 1, "model_sha256": sha, "first_seq": next_seq[replica], "n_rows": part.num_rows,
            "port": 8000, "ts_min": float(ts.min()), "ts_max": float(ts.max())}))
        put_atomically(fs, f"{folder}/{name}", data)
        next_seq[replica] += part.num_rows
    return table.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    args = parser.parse_args()
    template = DATA / f"template-{args.rows}.db"
    if args.rebuild or not template.exists():
        print(f"building {template} ({args.rows:,} logged predictions) ...", flush=True)
        build(template, args.rows)
    from core.kernels.profile import ReferenceProfile
    from core.monitoring.fleet import ingest_fleet
    from core.monitoring.ingest import ingest_deployment

    ReferenceProfile.numeric(np.arange(10.0)).wasserstein(np.arange(5.0))  # JIT outside the timing
    with Store.open(template) as store:
        rows = write_segments(store, FLEET, args.segments)
    at = fixed_clock(START + 25 * HOUR)

    def local_run() -> tuple[float, object]:
        with Store.open(fresh(template, "local.db"), clock=at) as store:
            started = time.perf_counter()
            report = ingest_deployment(store, store.value("SELECT id FROM deployments"))
            return time.perf_counter() - started, report

    # the first ingest of a process loads every kernel from numba's cache: a warm-up, not timed
    local_run()
    local_seconds, local = local_run()
    with Store.open(fresh(template, "fleet.db"), clock=at) as store:
        with store.transaction():  # the same database without its local log: the rows come from the segments
            store.conn.execute("DELETE FROM prediction_batches")
        started = time.perf_counter()
        fleet = ingest_fleet(store, "bench", str(FLEET))
        fleet_seconds = time.perf_counter() - started
    windowed = sum(report.rows for report in fleet.windows)
    assert local.rows == rows == fleet.rows == windowed, (local.rows, rows, fleet.rows, windowed)
    assert fleet.segments == args.segments and not fleet.corrupt
    print(f"\nfleet ingest: {rows:,} predictions in {args.segments} segments (3 replicas) -> "
          f"{len(fleet.windows[0].windows)} hourly windows")
    print(f"  fleet  {fleet_seconds:6.2f} s  {args.segments / fleet_seconds:8.1f} segments/s  {rows / fleet_seconds:12,.0f} predictions/s")
    print(f"  local  {local_seconds:6.2f} s  {'':>8}             {rows / local_seconds:12,.0f} predictions/s"
          f"  (the same rows already in the database's log)")
    ratio = fleet_seconds / local_seconds
    print(f"  fleet / local: {ratio:.2f}x   goal <= 1.5x -> {'PASS' if ratio <= 1.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
