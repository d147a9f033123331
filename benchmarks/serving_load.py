"""Load test of `pitboard serve`: requests/s and latency percentiles, and a lossless log.

Starts the real service (`pitboard serve`, uvicorn) on a free loopback port in one
process and drives it from ANOTHER process with concurrent keep-alive connections, first
with single-row requests, then with 100-row requests. Each phase is bounded by a request
count and a time limit. Then the server gets SIGTERM and the script checks that the
prediction log holds exactly as many rows as were answered.

The driver is a small asyncio HTTP/1.1 client (pre-encoded requests, one connection per
concurrent user) rather than httpx: on a 2-core machine the client shares the CPU with the
server, and a heavier client would measure itself. Goal (issue 5): >= 1,000 single-row
predictions/s with p99 < 50 ms on 2 cores for the credit-risk model.

    python benchmarks/serving_load.py                      # builds a credit-risk model first
    python benchmarks/serving_load.py --db pitboard.db --ref credit-risk@champion
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PITBOARD = [sys.executable, "-c", "from core.cli import main; main()"]


def build_model(db: Path) -> str:
    """Register and promote a credit-risk model trained on the sample data (the demo path)."""
    sys.path.insert(0, str(REPO))
    from core.datasets import add_dataset
    from core.registry import move_alias, register
    from core.specs import parse_spec
    from core.store import Store
    from core.training import best_run, train_spec

    store = Store.open(db)
    add_dataset(store, "credit", REPO / "sample_data" / "credit_train.csv", target="default")
    spec = parse_spec(BENCH_SPEC, source="benchmarks/serving_load.py")
    result = train_spec(store, spec)
    best = best_run(store, result.run_ids)
    mv = register(store, best, "credit-risk")
    move_alias(store, mv.name, "champion", mv, action="set", reason="serving benchmark")
    store.close()
    return "credit-risk@champion"


BENCH_SPEC = """
experiment = "serving-bench"
dataset = "credit"
target = "default"
primary_metric = "roc_auc"
seed = 7

[split]
holdout = 0.2

[[candidates]]
estimator = "LogisticRegression"
[candidates.grid]
C = [1.0]
"""


def sample_records(db: Path, ref: str, n: int) -> list[dict]:
    """Real rows of the model's training data, restricted to its signature."""
    sys.path.insert(0, str(REPO))
    from core.datasets import load_frame, resolve as resolve_dataset
    from core.predict import frame_columns
    from core.registry import resolve
    from core.store import Store

    store = Store.open(db)
    mv = resolve(store, ref)
    names = [f["name"] for f in mv.info["signature"]]
    frame = load_frame(store, resolve_dataset(store, mv.info["dataset"]))[names].head(n)
    store.close()
    columns = frame_columns(frame)
    return [{name: columns[name][i] for name in names} for i in range(len(frame))]


# -- the driver (runs in its own process) ---------------------------------------------------


def _request(host: str, port: int, body: bytes) -> bytes:
    return (
        f"POST /predict HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _user(host: str, port: int, requests: list[bytes], deadline: float, budget: list[int], latencies: list[float], rows: list[int], row_counts: list[int], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            index = i % len(requests)
            i += 1
            started = time.perf_counter()
            writer.write(requests[index])
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status.split()[1] == b"200":
                rows[0] += row_counts[index]
            else:
                errors.append(status.decode().strip())
    finally:
        writer.close()


async def _drive(host: str, port: int, bodies: list[bytes], row_counts: list[int], concurrency: int, total: int, seconds: float) -> dict:
    requests = [_request(host, port, body) for body in bodies]
    latencies: list[float] = []
    rows, budget, errors = [0], [total], []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*[
        _user(host, port, requests[u::concurrency] or requests, deadline, budget, latencies, rows,
              row_counts[u::concurrency] or row_counts, errors)
        for u in range(concurrency)
    ])
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000.0

    return {
        "requests": len(latencies), "errors": len(errors), "first_error": errors[0] if errors else None,
        "rows": rows[0], "seconds": elapsed, "requests_per_s": len(latencies) / elapsed,
        "rows_per_s": rows[0] / elapsed, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
    }


def drive_main(args: argparse.Namespace) -> None:
    """Entry point of the driver process: reads the plan from stdin, prints results as JSON."""
    plan = json.loads(sys.stdin.read())
    bodies = [body.encode() for body in plan["bodies"]]
    result = asyncio.run(_drive(plan["host"], plan["port"], bodies, plan["row_counts"], plan["concurrency"], plan["total"], plan["seconds"]))
    print(json.dumps(result))


def run_phase(host: str, port: int, records: list[dict], batch: int, concurrency: int, total: int, seconds: float) -> dict:
    bodies, row_counts = [], []
    for start in range(0, max(len(records) - batch + 1, 1), batch):
        chunk = records[start:start + batch]
        bodies.append(json.dumps({"records": chunk}))
        row_counts.append(len(chunk))
    plan = {"host": host, "port": port, "bodies": bodies, "row_counts": row_counts, "concurrency": concurrency,
            "total": total, "seconds": seconds}
    done = subprocess.run([sys.executable, __file__, "--drive"], input=json.dumps(plan), capture_output=True,
                          text=True, timeout=seconds + 120, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"driver failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def start_server(db: Path, ref: str) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen([*PITBOARD, "--db", str(db), "serve", ref, "--port", "0"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # "serving REF (NAME@V) on http://127.0.0.1:PORT as deployment N"
    if not line.startswith("serving"):
        server.kill()
        raise SystemExit(f"server did not start: {line}{server.stderr.read()}")
    port = int(line.split("http://127.0.0.1:")[1].split()[0])
    return server, int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help="An existing database (default: build one from sample_data).")
    parser.add_argument("--ref", default="credit-risk@champion")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=20_000, help="Per phase, at most.")
    parser.add_argument("--seconds", type=float, default=15.0, help="Per phase, at most.")
    args = parser.parse_args()
    if args.drive:
        drive_main(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="pitboard-bench-"))
    db = args.db
    if db is None:
        db = workdir / "pitboard.db"
        print("building the credit-risk model from sample_data ...", flush=True)
        args.ref = build_model(db)
    records = sample_records(db, args.ref, 2000)
    server, port = start_server(db, args.ref)
    try:
        warm = run_phase("127.0.0.1", port, records, 1, 4, 200, 10)  # imports, first-call caches
        phases = {
            "single-row": run_phase("127.0.0.1", port, records, 1, args.concurrency, args.requests, args.seconds),
            "100-row": run_phase("127.0.0.1", port, records, 100, max(4, args.concurrency // 4), max(args.requests // 20, 100), args.seconds),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    answered = warm["rows"] + sum(p["rows"] for p in phases.values())
    with sqlite3.connect(db) as conn:
        deployment = conn.execute("SELECT MAX(id) FROM deployments").fetchone()[0]
        logged = conn.execute("SELECT COALESCE(SUM(n_rows), 0) FROM prediction_batches WHERE deployment_id = ?", (deployment,)).fetchone()[0]
        ended = conn.execute("SELECT ended_at FROM deployments WHERE id = ?", (deployment,)).fetchone()[0]
    print(f"\nserving benchmark: {args.ref}, {os.cpu_count()} cores, server and driver in separate processes")
    print(f"{'phase':<12} {'requests':>9} {'errors':>6} {'req/s':>9} {'rows/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, p in phases.items():
        print(f"{name:<12} {p['requests']:>9} {p['errors']:>6} {p['requests_per_s']:>9.0f} {p['rows_per_s']:>9.0f}"
              f" {p['p50_ms']:>8.1f} {p['p95_ms']:>8.1f} {p['p99_ms']:>8.1f}")
    single = phases["single-row"]
    goal = single["requests_per_s"] >= 1000 and single["p99_ms"] < 50
    print(f"goal (>= 1,000 single-row predictions/s, p99 < 50 ms): {'MET' if goal else 'NOT MET'}"
          f" ({single['requests_per_s']:.0f}/s, p99 {single['p99_ms']:.1f} ms)")
    print(f"prediction log: {logged} rows logged, {answered} rows answered: {'EXACT' if logged == answered else 'MISMATCH'}"
          f"; deployment {deployment} {'ended cleanly' if ended else 'NOT ended'}")
    if logged != answered or any(p["errors"] for p in phases.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
