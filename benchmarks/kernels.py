"""Speed of pitboard's numba kernels against scipy, numpy, scikit-learn and Evidently.

    .venv/bin/python benchmarks/kernels.py            # full size (1,000,000 rows), ~10 min
    .venv/bin/python benchmarks/kernels.py --rows 100000 --skip-evidently-1m

Every comparison runs both implementations in this one process on the same arrays and
prints the ratio; Evidently (which needs pandas 2.3) runs in benchmarks/.envs/evidently,
created here on first use, on the same frames handed over as Parquet files in
benchmarks/.data/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon
from sklearn import metrics as sk

from core.data.drift import drift_report
from core.kernels import drift, metrics
from core.kernels.drift import ReferenceProfile

HERE = Path(__file__).resolve().parent
ENV = HERE / ".envs" / "evidently"
DATA = HERE / ".data"
N_COLUMNS = 20
DRIFTED_COLUMNS = 8


def best_of(function, *args, repeat: int = 3) -> float:
    """Fastest wall time of `repeat` calls, in seconds (the least disturbed by neighbours)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - started)
    return best


def row(name: str, ours: float, reference: float, goal: float | None, against: str) -> dict:
    return {"benchmark": name, "pitboard_ms": ours * 1e3, "reference_ms": reference * 1e3, "ratio": reference / ours, "goal": goal, "against": against}


def numpy_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    edges = np.quantile(reference, np.arange(1, bins) / bins)
    r = np.maximum(np.bincount(np.searchsorted(edges, reference, side="right"), minlength=bins) / reference.size, 1e-4)
    c = np.maximum(np.bincount(np.searchsorted(edges, current, side="right"), minlength=bins) / current.size, 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def scipy_js(reference: np.ndarray, current: np.ndarray, bins: int = 30) -> float:
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins)
    return float(jensenshannon(np.histogram(reference, edges)[0], np.histogram(current, edges)[0]))


def scipy_chi2(reference: np.ndarray, current: np.ndarray, k: int) -> float:
    expected = np.bincount(reference, minlength=k) / reference.size * current.size
    return float(stats.chisquare(np.bincount(current, minlength=k), expected).pvalue)


def kernel_rows(n: int) -> list[dict]:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=n)
    undrifted = rng.normal(size=n)
    drifted = rng.normal(0.01, size=n)
    profile = ReferenceProfile.numeric(reference)
    ref_codes = rng.integers(0, 20, n)
    cur_codes = rng.integers(0, 20, n)
    cat_profile = ReferenceProfile.categorical(ref_codes, [f"c{k}" for k in range(20)])
    rows = [
        row("KS undrifted (profile)", best_of(profile.ks_test, undrifted), best_of(stats.ks_2samp, reference, undrifted), 7, "scipy ks_2samp"),
        row("KS drifted (profile)", best_of(profile.ks_test, drifted), best_of(stats.ks_2samp, reference, drifted, repeat=1), 20, "scipy ks_2samp"),
        row("Wasserstein (profile)", best_of(profile.wasserstein, undrifted), best_of(stats.wasserstein_distance, reference, undrifted, repeat=1), 25, "scipy"),
        row("PSI (profile)", best_of(profile.psi, undrifted), best_of(numpy_psi, reference, undrifted), 20, "numpy"),
        row("Jensen-Shannon (profile)", best_of(profile.jensen_shannon, undrifted), best_of(scipy_js, reference, undrifted), 7, "numpy+scipy"),
        row("chi-square 20 categories (profile)", best_of(cat_profile.chi2_test, cur_codes), best_of(scipy_chi2, ref_codes, cur_codes, 20), 5, "numpy+scipy"),
    ]
    checks = {
        "KS D undrifted": (profile.ks_test(undrifted)[0], stats.ks_2samp(reference, undrifted).statistic),
        "KS D drifted": (profile.ks_test(drifted)[0], stats.ks_2samp(reference, drifted).statistic),
        "KS p undrifted": (profile.ks_test(undrifted)[1], stats.ks_2samp(reference, undrifted).pvalue),
        "KS p drifted": (profile.ks_test(drifted)[1], stats.ks_2samp(reference, drifted).pvalue),
        "Wasserstein": (profile.wasserstein(undrifted), stats.wasserstein_distance(reference, undrifted)),
        "PSI": (profile.psi(undrifted), numpy_psi(reference, undrifted)),
        "JS": (profile.jensen_shannon(undrifted), scipy_js(reference, undrifted)),
        "chi2 p": (cat_profile.chi2_test(cur_codes)[1], scipy_chi2(ref_codes, cur_codes, 20)),
    }
    y = (rng.random(n) < 0.3).astype(np.int64)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1)
    pred = (score > 0.5).astype(np.int64)
    target = rng.normal(size=n)
    guess = target + rng.normal(0, 0.5, n)
    pairs = [
        ("roc_auc", metrics.roc_auc, sk.roc_auc_score, (y, score), 15),
        ("confusion counts", lambda a, b: metrics.confusion_counts(a, b, 2), sk.confusion_matrix, (y, pred), 100),
        ("accuracy", metrics.accuracy, sk.accuracy_score, (y, pred), 100),
        ("F1", metrics.f1, sk.f1_score, (y, pred), 100),
        ("log loss", metrics.log_loss, sk.log_loss, (y, score), 20),
        ("RMSE", metrics.rmse, sk.root_mean_squared_error, (target, guess), None),
        ("MAE", metrics.mae, sk.mean_absolute_error, (target, guess), None),
        ("R2", metrics.r2, sk.r2_score, (target, guess), None),
    ]
    for name, ours, theirs, args, goal in pairs:
        rows.append(row(name, best_of(ours, *args, repeat=5), best_of(theirs, *args), goal, "scikit-learn"))
        value, expected = ours(*args), theirs(*args)
        if name != "confusion counts":
            checks[name] = (value, expected)
    for name, (ours, theirs) in checks.items():
        agree = abs(ours - theirs) <= 1e-9 * max(1.0, abs(theirs)) or (theirs >= 1e-6 and abs(ours / theirs - 1) < 0.01)
        print(f"  value check {name:<16} pitboard={ours:.12g}  reference={theirs:.12g}  {'OK' if agree else 'MISMATCH'}")
    return rows


FIRST_CALL = """
import time
started = time.perf_counter()
import numpy as np
from core.kernels import drift
drift.ks_test(np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0]))
print(time.perf_counter() - started)
"""


def first_call_rows() -> list[dict]:
    """First ks_test in a fresh process: empty numba cache (cold), then filled (warm)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = float(subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True).stdout)
        warm = float(subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=True).stdout)
        warmup = "from core.kernels import warmup; print(warmup())"
        warmup_cold = float(subprocess.run([sys.executable, "-c", warmup], env={**env, "NUMBA_CACHE_DIR": cache + "/w"}, capture_output=True, text=True, check=True).stdout)
        warmup_warm = float(subprocess.run([sys.executable, "-c", warmup], env={**env, "NUMBA_CACHE_DIR": cache + "/w"}, capture_output=True, text=True, check=True).stdout)
    return [
        {"benchmark": "first ks_test, fresh process (import + call)", "cold_s": cold, "warm_s": warm},
        {"benchmark": "warmup() of every kernel, fresh process", "cold_s": warmup_cold, "warm_s": warmup_warm},
    ]


THREADING_PROBE = """
import json, sys, time
import numpy as np
from numba import njit, prange
from core.kernels import _sample, _walk
from core.kernels._parallel import serial

@njit(parallel=True, nogil=True)
def by_prange(a, b, bounds_a, bounds_b):
    halves = np.empty(2)
    for h in prange(2):
        f = 4 * h
        halves[h] = _walk.wasserstein_pieces(a, b, bounds_a[f:f + 4], bounds_a[f + 1:f + 5], bounds_b[f:f + 4], bounds_b[f + 1:f + 5])
    return halves.sum() / (a.size * b.size)

def timed(function, repeat):
    best = 1e9
    for _ in range(repeat):
        started = time.perf_counter(); function(); best = min(best, time.perf_counter() - started)
    return best

def one_thread(a, b):
    with serial():
        return _sample.wasserstein_sorted(a, b)

result = {}
for n in (1000, int(sys.argv[1])):
    rng = np.random.default_rng(1)
    a = np.sort(rng.normal(size=n))
    b = np.sort(rng.normal(size=n))
    bounds_a, bounds_b = _sample.piece_bounds(a, b)
    by_prange(a, b, bounds_a, bounds_b)
    repeat = 200 if n == 1000 else 10
    result[n] = {
        "one thread": timed(lambda: one_thread(a, b), repeat),
        "pitboard (helper thread above 200k)": timed(lambda: _sample.wasserstein_sorted(a, b), repeat),
        "numba prange over the halves": timed(lambda: by_prange(a, b, bounds_a, bounds_b), repeat),
    }
result["layer"] = __import__("numba").threading_layer()
print(json.dumps(result))
"""


def threading_rows(n: int) -> list[dict]:
    """One Wasserstein walk split in two: one thread, pitboard's helper thread, numba prange per layer."""
    rows = []
    for layer, passive in (("workqueue", False), ("omp", False), ("omp", True)):
        env = {**os.environ, "NUMBA_THREADING_LAYER": layer}
        env.pop("OMP_WAIT_POLICY", None)
        if passive:
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        done = subprocess.run([sys.executable, "-c", THREADING_PROBE, str(n)], env=env, capture_output=True, text=True)
        if done.returncode:
            rows.append({"setup": f"{layer}{' PASSIVE' if passive else ''}", "error": done.stderr.strip().splitlines()[-1]})
            continue
        result = json.loads(done.stdout)
        for size in ("1000", str(n)):
            rows.append({"prange layer": f"{result['layer']}{' + OMP_WAIT_POLICY=PASSIVE' if passive else ''}", "rows": int(size), **{k: v * 1e3 for k, v in result[size].items()}})
    return rows


def ensure_evidently() -> Path:
    python = ENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(HERE / "requirements-evidently.txt")], check=True)
    return python


def report_frames(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(42)
    reference = pd.DataFrame({f"f{k}": rng.normal(10 * k, 1 + k, n) for k in range(N_COLUMNS)})
    current = pd.DataFrame({f"f{k}": rng.normal(10 * k + (0.3 * (1 + k) if k < DRIFTED_COLUMNS else 0.0), 1 + k, n) for k in range(N_COLUMNS)})
    return reference, current


def drift_report_rows(sizes: list[int], evidently_sizes: set[int]) -> list[dict]:
    rows = []
    python = ensure_evidently() if evidently_sizes else None
    DATA.mkdir(exist_ok=True)
    for n in sizes:
        reference, current = report_frames(n)
        ours = best_of(drift_report, reference, current, repeat=3)
        serial = best_of(lambda: [drift_report(reference, current, columns=[c]) for c in reference.columns], repeat=2)
        report = drift_report(reference, current).set_index("column")
        entry = {"rows": n, "pitboard_s": ours, "pitboard_serial_s": serial, "pitboard_drifted": int(report["drifted"].sum())}
        if n in evidently_sizes:
            paths = [DATA / f"drift_{name}_{n}.parquet" for name in ("reference", "current")]
            reference.to_parquet(paths[0])
            current.to_parquet(paths[1])
            done = subprocess.run([str(python), str(HERE / "evidently_drift.py"), *map(str, paths)], capture_output=True, text=True, check=True)
            evidently = json.loads(done.stdout.strip().splitlines()[-1])
            verdicts = {c: v["score"] >= evidently["thresholds"][c] for c, v in evidently["columns"].items()}
            same = all(verdicts[c] == bool(report.loc[c, "drifted"]) for c in report.index)
            scores = max(abs(evidently["columns"][c]["score"] - report.loc[c, "drift_score"]) for c in report.index)
            entry.update(evidently_s=evidently["seconds"], ratio=evidently["seconds"] / ours, same_verdicts=same, max_score_difference=scores)
        rows.append(entry)
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    if not rows:
        return
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths)))


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per kernel array and the largest drift report")
    parser.add_argument("--skip-evidently-1m", action="store_true", help="run Evidently only on the 100,000-row report")
    args = parser.parse_args()
    from core.kernels import warmup

    warmup()
    print(f"numpy {np.__version__}, cores {len(os.sched_getaffinity(0))}, rows {args.rows:,}")
    print_table(f"Kernels on {args.rows:,} vs {args.rows:,} rows (best of 3-5; ratio = reference / pitboard)", kernel_rows(args.rows))
    print_table("First call in a fresh process (seconds)", first_call_rows())
    print_table("Threading: one Wasserstein walk of n vs n sorted rows, split in two (ms)", threading_rows(min(args.rows, 1_000_000)))
    sizes = sorted({100_000, args.rows})
    evidently_sizes = {s for s in sizes if not (args.skip_evidently_1m and s > 100_000)}
    print_table(f"drift_report over {N_COLUMNS} numeric columns ({DRIFTED_COLUMNS} drifted) vs Evidently DataDriftPreset (s)", drift_report_rows(sizes, evidently_sizes))


if __name__ == "__main__":
    main()
