"""Monitoring ingest at scale: 1,000,000 logged predictions x 20 features into windows.

    .venv/bin/python benchmarks/monitor_ingest.py [--rows 1000000] [--rebuild]

Builds once (cached in benchmarks/.data/monitor/) a database through the real engine: a
20-feature credit-like dataset is imported and validated, a LogisticRegression trained,
registered (which profiles its reference) and promoted; then a `core.serving.service.Service`'s
prediction-log writer logs `--rows` scored predictions spread over 24 hours, in flushes
of 5,000 rows, exactly as the service writes them. A copy of that database is then
ingested into hourly windows by `core.monitoring.ingest.ingest_deployment`, timed in three parts:

- read: decoding the Arrow flushes and encoding features against the reference,
- kernels: reducing each window (default drift test, PSI, histograms, CBPE, latency),
- write: the transaction writing windows, feature rows, outputs, alerts and the cursor.

For the kernels part the same drift statistics are computed again with scipy/numpy (the
reference implementations: `scipy.stats.wasserstein_distance` over the reference std,
numpy quantile bins for PSI, `scipy.spatial.distance.jensenshannon`) on the same
windows, and the ratio is printed. Goal: the whole ingest under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from core.store.clock import fixed_clock  # noqa: E402
from core.store.database import Store  # noqa: E402

DATA = ROOT / "benchmarks" / ".data" / "monitor"
START = 1_767_225_600.0  # 2026-01-01 00:00 UTC
HOUR = 3600.0
NUMERIC, CATEGORICAL = 16, 4
FLUSH_ROWS = 5000
SPEC = """
experiment = "bench"
dataset = "bench"
target = "default"
primary_metric = "roc_auc"
seed = 1
[search]
cv = 2
[[candidates]]
estimator = "LogisticRegression"
params = { C = [1.0], max_iter = [300] }
"""


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Credit-like rows: 16 numeric and 4 categorical features; `shift` drifts half of them."""
    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(NUMERIC):
        drift = shift if i % 2 == 0 else 0.0
        values = rng.normal(drift, 1.0 + drift / 2, n)
        values[rng.random(n) < 0.02] = np.nan
        columns[f"x{i:02d}"] = values
    for i in range(CATEGORICAL):
        p = np.array([0.4, 0.3, 0.2, 0.1]) if not shift or i % 2 else np.array([0.1, 0.2, 0.3, 0.4])
        columns[f"c{i}"] = rng.choice(["a", "b", "c", "d"], n, p=p)
    data = pd.DataFrame(columns)
    risk = data["x00"].fillna(0) - 0.5 * data["x01"].fillna(0) + (data["c0"] == "d") + rng.normal(0, 1, n)
    data["default"] = (risk > 1.0).astype(int)
    return data


def build(template: Path, rows: int) -> None:
    """The database with a champion and `rows` logged predictions (see the module docstring)."""
    from core.data.datasets import add_frame
    from core.data.validation import validate
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec
    from core.monitoring.promotion import promote
    from core.monitoring.references import register
    from core.registry.versions import load_estimator, resolve
    from core.serving.service import Service

    if template.exists():
        template.unlink()
    template.parent.mkdir(parents=True, exist_ok=True)
    (template.parent / "pitboard.toml").write_text('[monitoring]\nwindow = "hourly"\n')
    with Store.open(template, clock=fixed_clock(START - 86400)) as store:
        dv, _ = add_frame(store, "bench", frame(20_000, 1), source="benchmark", target="default")
        validate(store, dv)
        result = train_spec(store, parse_spec(SPEC, source="benchmark spec"))
        version = register(store, result.best_run_id, "bench")
        promote(store, "bench@1", "champion")
        estimator = load_estimator(store, resolve(store, "bench@champion"))
    service = Service(template, "bench@champion")
    production = frame(rows, 2, shift=0.3)
    names = [c for c in production.columns if c != "default"]
    times = START + np.sort(np.random.default_rng(3).uniform(0, 24 * HOUR, rows))
    for first in range(0, rows, FLUSH_ROWS):
        part = production.iloc[first:first + FLUSH_ROWS]
        proba = estimator.predict_proba(part[names])
        columns = {f"feature.{n}": part[n].to_numpy() for n in names}
        columns.update({"output.label": proba.argmax(axis=1), "output.proba_0": proba[:, 0], "output.proba_1": proba[:, 1],
                        "meta.ts": times[first:first + len(part)], "meta.request": np.arange(first, first + len(part)),
                        "meta.latency_ms": np.full(len(part), 3.0)})
        service.log.append(version.id, columns, len(part))
    service.close()


def scipy_reduction(store: Store, windows: list[tuple[np.ndarray, pd.DataFrame]]) -> float:
    """Seconds scipy/numpy take for the same per-window statistics (the reference)."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    from core.data.datasets import load_frame, resolve

    reference = load_frame(store, resolve(store, "bench"))
    started = time.perf_counter()
    for _, window in windows:
        for name in window.columns:
            ref = reference[name]
            cur = window[name]
            if name.startswith("x"):
                r, c = ref.dropna().to_numpy(), cur.dropna().to_numpy()
                wasserstein_distance(r, c) / max(r.std(), 0.001)
                edges = np.quantile(r, np.arange(1, 10) / 10)
                rp = np.maximum(np.bincount(np.searchsorted(edges, r, side="right"), minlength=10) / len(r), 1e-4)
                cp = np.maximum(np.bincount(np.searchsorted(edges, c, side="right"), minlength=10) / len(c), 1e-4)
                np.sum((cp - rp) * np.log(cp / rp))
            else:
                cats = sorted(ref.unique())
                rc = ref.value_counts().reindex(cats, fill_value=0).to_numpy()
                cc = cur.value_counts().reindex(cats, fill_value=0).to_numpy()
                jensenshannon(rc, cc)
                rp, cp = np.maximum(rc / rc.sum(), 1e-4), np.maximum(cc / cc.sum(), 1e-4)
                np.sum((cp - rp) * np.log(cp / rp))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    args = parser.parse_args()
    template = DATA / f"template-{args.rows}.db"
    if args.rebuild or not template.exists():
        print(f"building {template} ({args.rows:,} logged predictions) ...", flush=True)
        started = time.perf_counter()
        build(template, args.rows)
        print(f"  built in {time.perf_counter() - started:.1f} s")
    from core.monitoring.ingest import _read_log, ingest_deployment

    run = DATA / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(run) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, run)
    with Store.open(run, clock=fixed_clock(START + 25 * HOUR)) as store:
        deployment = store.value("SELECT id FROM deployments")
        from core.kernels.profile import ReferenceProfile

        ReferenceProfile.numeric(np.arange(10.0)).wasserstein(np.arange(5.0))  # JIT outside the timing
        started = time.perf_counter()
        report = ingest_deployment(store, deployment)
        total = time.perf_counter() - started
        assert report.rows == args.rows, (report.rows, args.rows)
        table = _read_log(store, deployment, 1)
        logged = table.to_pandas()
        hours = np.floor(logged["meta.ts"].to_numpy() / HOUR)
        windows = [(h, logged.loc[hours == h, [c for c in logged.columns if c.startswith("feature.")]]
                    .rename(columns=lambda c: c[len("feature."):])) for h in np.unique(hours)]
        reference_seconds = scipy_reduction(store, windows)
    seconds = report.seconds
    print(f"\nmonitor ingest: {report.rows:,} predictions x {NUMERIC + CATEGORICAL} features -> {len(report.windows)} hourly windows")
    print(f"  read    {seconds['read']:6.2f} s   (Arrow flushes -> per-feature arrays, encoded against the reference)")
    print(f"  kernels {seconds['reduce']:6.2f} s   (drift test, PSI, histograms, CBPE, latency per window)")
    print(f"  write   {seconds['write']:6.2f} s   (windows, features, outputs, alerts, cursor: one transaction)")
    print(f"  total   {total:6.2f} s   goal < 10 s  -> {'PASS' if total < 10 else 'FAIL'}  ({report.rows / total:,.0f} rows/s)")
    print(f"  scipy/numpy doing the same window statistics: {reference_seconds:.2f} s "
          f"-> pitboard kernels {reference_seconds / seconds['reduce']:.1f}x faster")


if __name__ == "__main__":
    main()
