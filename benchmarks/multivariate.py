"""The multivariate drift detector's cost per window, next to the univariate tests on the same rows.

    .venv/bin/python benchmarks/multivariate.py                 # 1,000,000 rows x 20 features
    .venv/bin/python benchmarks/multivariate.py --rows 100000   # quick
    .venv/bin/python benchmarks/multivariate.py --nannyml       # also NannyML, in benchmarks/.envs/nannyml

A reference of 10,000 rows (16 numeric and 4 categorical features, correlated) is fitted
once, as at registration; a window of `--rows` rows is then reduced: the reconstruction
sums of `core.monitoring.multivariate` (numba, one pass, both cores above 200,000 cells)
against the per-feature default tests and histograms a window pays anyway
(`core.monitoring.windows._feature_stats` for each feature). Best of 3 each, after one
call that loads the compiled kernels. With `--nannyml`, NannyML's
`DataReconstructionDriftCalculator` runs in its own environment on the same rows (one
chunk holding the whole window), as the Evidently benchmark does.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

ENV = HERE / ".envs" / "nannyml"
DATA = HERE / ".data"
NUMERIC, CATEGORICAL, CATEGORIES = 16, 4, 5
REFERENCE_ROWS = 10_000


def columns(rng: np.random.Generator, n: int, rho: float) -> dict[str, np.ndarray]:
    base = rng.standard_normal(n)
    found = {f"n{k:02d}": rho * base + np.sqrt(1 - rho ** 2) * rng.standard_normal(n) + k for k in range(NUMERIC)}
    for k in range(CATEGORICAL):
        found[f"c{k}"] = np.clip((base * 1.2 + rng.standard_normal(n) + 2.5).astype(np.int64), 0, CATEGORIES - 1)
    return found


def best_of(call, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def ours(rows: int) -> dict[str, float]:
    from core.kernels.drift import ReferenceProfile
    from core.monitoring.multivariate import fit, verdict, window_stats
    from core.monitoring.references import FeatureReference
    from core.monitoring.windows import _feature_stats

    rng = np.random.default_rng(7)
    reference = columns(rng, REFERENCE_ROWS, 0.7)
    window = columns(rng, rows, 0.2)
    kinds = {name: "numeric" if name.startswith("n") else "categorical" for name in reference}
    features = [FeatureReference(name, kind, None, ReferenceProfile.numeric(reference[name]) if kind == "numeric"
                                 else ReferenceProfile.categorical(reference[name], [str(c) for c in range(CATEGORIES)]))
                for name, kind in kinds.items()]
    started = time.perf_counter()
    model = fit(reference, kinds, {n: CATEGORIES for n in kinds if kinds[n] != "numeric"}, variance=0.65, chunk_rows=250)
    fit_s = time.perf_counter() - started
    multivariate_s = best_of(lambda: window_stats(model, window, rows))
    univariate_s = best_of(lambda: [_feature_stats(f, window[f.name], 0.1) for f in features])
    judged = verdict(model, window_stats(model, window, rows))
    DATA.mkdir(exist_ok=True)  # the same rows for NannyML's run
    np.savez(DATA / "multivariate.npz", **{f"ref_{k}": v for k, v in reference.items()},
             **{f"cur_{k}": v for k, v in window.items()})
    return {"rows": rows, "fit_s": fit_s, "multivariate_s": multivariate_s, "univariate_s": univariate_s,
            "components": int(model.components.shape[0]), "error": judged["error"], "upper": judged["upper"],
            "drifted": judged["drifted"]}


NANNYML_SCRIPT = """
import json, sys, time
import numpy as np, pandas as pd
import nannyml as nml
data = np.load(sys.argv[1])
ref = pd.DataFrame({k[4:]: data[k] for k in data.files if k.startswith("ref_")})
cur = pd.DataFrame({k[4:]: data[k] for k in data.files if k.startswith("cur_")})
for frame in (ref, cur):
    for name in frame.columns:
        if name.startswith("c"):
            frame[name] = frame[name].astype(str)
calc = nml.DataReconstructionDriftCalculator(column_names=list(ref.columns), chunk_number=1)
calc.fit(ref)
best = None
for _ in range(3):
    started = time.perf_counter()
    calc.calculate(cur)
    seconds = time.perf_counter() - started
    best = seconds if best is None else min(best, seconds)
print(json.dumps({"seconds": best, "nannyml": nml.__version__}))
"""


def nannyml() -> dict[str, float] | str:
    python = ENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3", "-m", "venv", str(ENV)], check=True)
        installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "nannyml"], capture_output=True, text=True)
        if installed.returncode:
            return f"NannyML did not install: {installed.stderr.strip().splitlines()[-1]}"
    done = subprocess.run([str(python), "-c", NANNYML_SCRIPT, str(DATA / "multivariate.npz")], capture_output=True, text=True)
    if done.returncode:
        return f"NannyML failed: {done.stderr.strip().splitlines()[-1]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--nannyml", action="store_true", help="also NannyML in benchmarks/.envs/nannyml")
    args = parser.parse_args(argv)
    found = ours(args.rows)
    print(f"window of {found['rows']:,} rows x {NUMERIC + CATEGORICAL} features (reference {REFERENCE_ROWS:,} rows,"
          f" fitted in {found['fit_s']:.2f} s, {found['components']} components)")
    print(f"  multivariate reconstruction sums: {found['multivariate_s'] * 1e3:8.1f} ms"
          f"  (error {found['error']:.3f}, band upper {found['upper']:.3f}, drifted {found['drifted']})")
    print(f"  univariate tests + histograms:    {found['univariate_s'] * 1e3:8.1f} ms")
    print(f"  multivariate / univariate:        {found['multivariate_s'] / found['univariate_s']:8.2f}x")
    if args.nannyml:
        theirs = nannyml()
        if isinstance(theirs, str):
            print(f"  NannyML: {theirs}")
        else:
            print(f"  NannyML {theirs['nannyml']} DataReconstructionDriftCalculator.calculate: {theirs['seconds'] * 1e3:8.1f} ms"
                  f" ({theirs['seconds'] / found['multivariate_s']:.1f}x ours)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
