"""Load test of `pitboard serve`: requests/s and latency percentiles, and a lossless log.

Starts the real service (`pitboard serve`, uvicorn) on a free loopback port in one
process and drives it from ANOTHER process with concurrent keep-alive connections, first
with single-row requests, then with 100-row requests. Each phase is bounded by a request
count and a time limit. Then the server gets SIGTERM and the script checks that the
prediction log holds exactly as many rows as were answered.

The model is the README's credit-risk champion: `sample_data/credit_spec.toml` trained,
the best run registered and promoted through its gates (skipped with --db).

The driver is a small asyncio HTTP/1.1 client (pre-encoded requests, one keep-alive
connection per concurrent user, a protocol rather than streams) rather than httpx: on a
2-core machine the client shares the CPU with the server, and a heavier client would
measure itself. The table shows how much CPU each side used. Goal (issue 5): >= 1,000
single-row predictions/s with p99 < 50 ms on 2 cores for the credit-risk model.

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
    """Train `sample_data/credit_spec.toml`, register the best run, promote it: the README story.

    The same engine calls as `pitboard demo` (import and validate the data, train the spec,
    register the best run as credit-risk, promote it to champion through its gates), so the
    benchmark serves the model a user of the README would serve.
    """
    sys.path.insert(0, str(REPO))
    from core.data.datasets import add_dataset
    from core.data.validation import validate
    from core.experiments.specs import load_spec
    from core.experiments.training import train_spec
    from core.monitoring.promotion import promote
    from core.monitoring.references import register
    from core.store.database import Store

    spec_path = REPO / "sample_data" / "credit_spec.toml"
    with Store.open(db) as store:
        dv, _ = add_dataset(store, "credit", REPO / "sample_data" / "credit_train.csv", target="default",
                            time_column="application_date", id_column="applicant_id")
        report = validate(store, dv)
        if not report.ok:
            raise SystemExit(f"{dv.ref}: the sample data failed validation ({report.errors[0].message})")
        result = train_spec(store, load_spec(spec_path))
        if result.best_run_id is None:
            raise SystemExit(f"{spec_path}: all {result.failed} runs failed")
        version = register(store, result.best_run_id, "credit-risk", description="serving benchmark")
        promotion = promote(store, version.ref, "champion")
        if promotion.moved is None:
            failed = next(g for g in promotion.gates if not g.passed)
            raise SystemExit(f"{version.ref}: gate {failed.name} failed ({failed.message})")
        estimator = version.info.get("estimator")
    print(f"registered {version.ref} ({estimator}) from {len(result.run_ids)} runs, promoted to champion", flush=True)
    return "credit-risk@champion"


def sample_records(db: Path, ref: str, n: int) -> list[dict]:
    """Real rows of the model's training data, restricted to its signature."""
    sys.path.insert(0, str(REPO))
    from core.data.datasets import load_frame
    from core.data.datasets import resolve as resolve_dataset
    from core.registry.versions import resolve
    from core.serving.predict import frame_columns
    from core.store.database import Store

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


class _Tally:
    """What all connections of one phase share: the request budget, deadline and results."""

    def __init__(self, total: int, deadline: float) -> None:
        self.budget = total
        self.deadline = deadline
        self.latencies: list[float] = []
        self.rows = 0
        self.errors: list[str] = []

    def take(self) -> bool:
        """Whether another request may be sent (budget left and time not up)."""
        if self.budget <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.budget -= 1
        return True


def _content_length(head: bytes) -> int:
    """The Content-Length of a lower-cased response head (0 when absent)."""
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    value = head[at + 17:]
    return int(value.split(b"\r\n", 1)[0])


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending its requests one after another (a closed loop).

    A protocol rather than streams: no coroutine switch per header line, so the driver
    spends its CPU on sending and timing requests, not on itself.
    """

    def __init__(self, tally: _Tally, requests: list[bytes], row_counts: list[int], done: asyncio.Future[None]) -> None:
        self.tally, self.requests, self.row_counts, self.done = tally, requests, row_counts, done
        self.buffer = b""
        self.sent = 0
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if not self.tally.take():
            self.transport.close()
            return
        self.started = time.perf_counter()
        self.transport.write(self.requests[self.sent % len(self.requests)])
        self.sent += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        length = _content_length(head)
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length:]
        tally = self.tally
        tally.latencies.append(time.perf_counter() - self.started)
        status = head[9:12]
        if status == b"200":
            tally.rows += self.row_counts[(self.sent - 1) % len(self.row_counts)]
        else:
            tally.errors.append(head.split(b"\r\n", 1)[0].decode())
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _drive(host: str, port: int, bodies: list[bytes], row_counts: list[int], concurrency: int, total: int, seconds: float) -> dict:
    loop = asyncio.get_running_loop()
    requests = [_request(host, port, body) for body in bodies]
    cpu_before = time.process_time()
    started = time.perf_counter()
    tally = _Tally(total, started + seconds)
    finished = []
    for u in range(concurrency):
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(
            lambda done=done, u=u: _Connection(tally, requests[u::concurrency] or requests, row_counts[u::concurrency] or row_counts, done),
            host, port,
        )
        finished.append(done)
    await asyncio.gather(*finished)
    elapsed = time.perf_counter() - started
    latencies = sorted(tally.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000.0

    return {
        "requests": len(latencies), "errors": len(tally.errors), "first_error": tally.errors[0] if tally.errors else None,
        "rows": tally.rows, "seconds": elapsed, "requests_per_s": len(latencies) / elapsed,
        "rows_per_s": tally.rows / elapsed, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
        "client_cpu": (time.process_time() - cpu_before) / elapsed,
    }


def drive_main(args: argparse.Namespace) -> None:
    """Entry point of the driver process: reads the plan from stdin, prints results as JSON."""
    plan = json.loads(sys.stdin.read())
    bodies = [body.encode() for body in plan["bodies"]]
    result = _event_loop_runner()(_drive(plan["host"], plan["port"], bodies, plan["row_counts"], plan["concurrency"], plan["total"], plan["seconds"]))
    print(json.dumps(result))


def _event_loop_runner():  # noqa: ANN202 - asyncio.run or uvloop.run, same signature
    """uvloop's runner when it is installed (as it is with the service), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) used so far by process `pid`, from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_phase(server: subprocess.Popen, port: int, records: list[dict], batch: int, concurrency: int, total: int, seconds: float) -> dict:
    """Drive the server from a separate process; adds the server's CPU use over the phase."""
    bodies, row_counts = [], []
    for start in range(0, max(len(records) - batch + 1, 1), batch):
        chunk = records[start:start + batch]
        bodies.append(json.dumps({"records": chunk}))
        row_counts.append(len(chunk))
    plan = {"host": "127.0.0.1", "port": port, "bodies": bodies, "row_counts": row_counts, "concurrency": concurrency,
            "total": total, "seconds": seconds}
    cpu_before = _cpu_seconds(server.pid)
    done = subprocess.run([sys.executable, __file__, "--drive"], input=json.dumps(plan), capture_output=True,
                          text=True, timeout=seconds + 120, cwd=REPO)
    cpu_after = _cpu_seconds(server.pid)
    if done.returncode != 0:
        raise SystemExit(f"driver failed: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    result["server_cpu"] = None if cpu_before is None or cpu_after is None else (cpu_after - cpu_before) / result["seconds"]
    return result


def start_server(db: Path, ref: str) -> tuple[subprocess.Popen, int]:
    server = subprocess.Popen([*PITBOARD, "--db", str(db), "serve", ref, "--port", "0"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # "serving REF (NAME@V) on http://127.0.0.1:PORT as deployment N"
    if not line.startswith("serving"):
        server.kill()
        raise SystemExit(f"server did not start: {line}{server.stderr.read()}")
    port = int(line.split("http://127.0.0.1:")[1].split()[0])
    return server, int(port)


def _share(cpu: float | None) -> str:
    return "n/a" if cpu is None else f"{cpu * 100:.0f}%"


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
        warm = run_phase(server, port, records, 1, 4, 200, 10)  # imports, first-call caches
        phases = {
            "single-row": run_phase(server, port, records, 1, args.concurrency, args.requests, args.seconds),
            "100-row": run_phase(server, port, records, 100, max(4, args.concurrency // 4), max(args.requests // 20, 100), args.seconds),
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
    print(f"{'phase':<12} {'requests':>9} {'errors':>6} {'req/s':>9} {'rows/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
          f" {'server CPU':>10} {'client CPU':>10}")
    for name, p in phases.items():
        print(f"{name:<12} {p['requests']:>9} {p['errors']:>6} {p['requests_per_s']:>9.0f} {p['rows_per_s']:>9.0f}"
              f" {p['p50_ms']:>8.1f} {p['p95_ms']:>8.1f} {p['p99_ms']:>8.1f} {_share(p['server_cpu']):>10} {_share(p['client_cpu']):>10}")
    print("(CPU: share of one core over the phase; 2 cores = 200%)")
    single = phases["single-row"]
    goal = single["requests_per_s"] >= 1000 and single["p99_ms"] < 50
    print(f"goal (>= 1,000 single-row predictions/s, p99 < 50 ms): {'MET' if goal else 'NOT MET'}"
          f" ({single['requests_per_s']:.0f}/s, p99 {single['p99_ms']:.1f} ms)")
    print(f"prediction log: {logged} rows logged, {answered} rows answered: {'EXACT' if logged == answered else 'MISMATCH'}"
          f"; deployment {deployment} {'ended cleanly' if ended else 'NOT ended'}")
    for name, p in phases.items():
        if p["errors"]:
            print(f"{name}: {p['errors']} errors, the first: {p['first_error']}")
    if logged != answered or any(p["errors"] for p in phases.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
