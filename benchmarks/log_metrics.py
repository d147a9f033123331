"""Metric logging speed: pitboard's `log_points` against MLflow with a SQLite backend store.

    .venv/bin/python benchmarks/log_metrics.py [--sizes 1000,100000]

Both sides write (key, step, value) points for one run into a fresh SQLite file on the
same disk, in the same run of this script:

- batched: 1,000 points per call (MLflow's `log_batch` limit) until N points are logged,
  and pitboard's `log_points` with the same batches (plus all N in one call);
- one call per point: MLflow's `log_metric` and pitboard's `log_points` with one point,
  for the first 1,000 points only (MLflow manages about a hundred points per second).

MLflow runs in its own virtualenv, created on first use under benchmarks/.envs/mlflow
(never in the project's .venv), and is handed its work through a small runner script.
Goal: 100,000 points/s or more, i.e. 20x MLflow's batch API.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

ENV = REPO / "benchmarks" / ".envs" / "mlflow"
MLFLOW_REQUIREMENT = "mlflow>=2.14,<4"
BATCH = 1000
SINGLE = 1000

RUNNER = r'''
import json, sys, tempfile, time, os, logging, warnings
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)
import mlflow
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient

sizes, batch, single = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = {"mlflow": mlflow.__version__}

def fresh():
    folder = tempfile.mkdtemp()
    client = MlflowClient(tracking_uri="sqlite:///" + os.path.join(folder, "mlflow.db"))
    experiment = client.create_experiment("bench", artifact_location=os.path.join(folder, "artifacts"))
    return client, client.create_run(experiment).info.run_id

client, run_id = fresh()
start = time.perf_counter()
for step in range(single):
    client.log_metric(run_id, "loss", 1.0 / (step + 1), timestamp=0, step=step)
out["log_metric"] = {"points": single, "seconds": time.perf_counter() - start}
for n in sizes:
    client, run_id = fresh()
    start = time.perf_counter()
    for first in range(0, n, batch):
        client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (s + 1), 0, s) for s in range(first, min(n, first + batch))])
    out[f"log_batch_{n}"] = {"points": n, "seconds": time.perf_counter() - start}
print(json.dumps(out))
'''


def mlflow_python() -> Path:
    """The MLflow virtualenv's interpreter, creating the environment if needed."""
    python = ENV / "bin" / "python"
    if not python.exists():
        print(f"creating {ENV} with {MLFLOW_REQUIREMENT} (first run only) ...", flush=True)
        venv.create(ENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", MLFLOW_REQUIREMENT], check=True)
    return python


def measure_mlflow(sizes: list[int]) -> dict:
    done = subprocess.run([str(mlflow_python()), "-c", RUNNER, json.dumps(sizes), str(BATCH), str(SINGLE)],
                          capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(done.stdout.strip().splitlines()[-1])


def fresh_run(folder: Path):
    """A real pitboard database holding one recorded run to log points into."""
    import pandas as pd

    from core.data.datasets import add_frame
    from core.experiments.runs import RunRecord, ensure_experiment, record_run
    from core.store.clock import fixed_clock
    from core.store.database import Store

    store = Store.open(folder / "pitboard.db", clock=fixed_clock(0.0))
    dv, _ = add_frame(store, "bench", pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]}), source="benchmark", target="y")
    with store.transaction() as conn:
        experiment = ensure_experiment(store, "bench")
        search = conn.execute(
            "INSERT INTO searches (experiment_id, dataset_version_id, spec_text, spec_source, method, n_candidates,"
            " started_at) VALUES (?, ?, '', 'benchmark', 'grid', 1, 0)", (experiment, dv.id)).lastrowid
    run_id = record_run(store, RunRecord(
        experiment_id=experiment, search_id=search, candidate=1, config={}, status="FINISHED", task="classification",
        estimator="LogisticRegression", primary_metric="roc_auc", dataset_version_id=dv.id, holdout_size=1, seed=0,
        started_at=0.0, ended_at=0.0, duration=0.0))
    return store, run_id


def measure_pitboard(sizes: list[int]) -> dict:
    from core.experiments.runs import log_points

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        store, run_id = fresh_run(Path(tmp))
        start = time.perf_counter()
        for step in range(SINGLE):
            log_points(store, run_id, [("loss", step, 1.0 / (step + 1))])
        out["log_points_1"] = {"points": SINGLE, "seconds": time.perf_counter() - start}
        store.close()
    for n in sizes:
        points = [("loss", step, 1.0 / (step + 1)) for step in range(n)]
        for label, batch in ((f"batched_{n}", BATCH), (f"one_call_{n}", n)):
            best = None
            for _ in range(3):
                with tempfile.TemporaryDirectory() as tmp:
                    store, run_id = fresh_run(Path(tmp))
                    start = time.perf_counter()
                    for first in range(0, n, batch):
                        log_points(store, run_id, points[first:first + batch])
                    seconds = time.perf_counter() - start
                    assert store.value("SELECT count(*) FROM metric_points WHERE run_id = ?", (run_id,)) == n
                    store.close()
                best = seconds if best is None else min(best, seconds)
            out[label] = {"points": n, "seconds": best}
    return out


def rate(entry: dict) -> float:
    return entry["points"] / entry["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="comma-separated point counts (default 1000,100000)")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    ours = measure_pitboard(sizes)
    theirs = measure_mlflow(sizes)
    print(f"metric logging, pitboard vs MLflow {theirs['mlflow']} (SQLite backend store), {os.cpu_count()} cores")
    print(f"{'case':44} {'pitboard pts/s':>15} {'MLflow pts/s':>13} {'ratio':>8} {'pitboard s':>11} {'MLflow s':>9}")
    rows = [(f"one point per call, {SINGLE:,} points", ours["log_points_1"], theirs["log_metric"])]
    for n in sizes:
        rows.append((f"batches of {BATCH:,}, {n:,} points", ours[f"batched_{n}"], theirs[f"log_batch_{n}"]))
        rows.append((f"pitboard one call vs MLflow batches, {n:,}", ours[f"one_call_{n}"], theirs[f"log_batch_{n}"]))
    for label, mine, other in rows:
        print(f"{label:44} {rate(mine):15,.0f} {rate(other):13,.0f} {rate(mine) / rate(other):7.1f}x"
              f" {mine['seconds']:11.4f} {other['seconds']:9.3f}")
    best = max(rate(ours[f"batched_{n}"]) for n in sizes)
    print(f"goal 100,000 points/s in batches: {'met' if best >= 100_000 else 'NOT met'} ({best:,.0f} points/s)")


if __name__ == "__main__":
    main()
