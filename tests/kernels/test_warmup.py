"""Compilation happens once, into the on-disk cache, and never at import."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import json, numpy as np
from core.kernels import _auc, _walk, drift, metrics
before = len(_walk.ks_pieces.signatures) + len(_auc.twice_u.signatures)
drift.ks_test(np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0]))
metrics.roc_auc(np.array([0, 1, 1]), np.array([0.2, 0.1, 0.9]))
stats = [_walk.ks_pieces.stats, _auc.twice_u.stats]
print(json.dumps({"before": before, "misses": sum(sum(s.cache_misses.values()) for s in stats), "hits": sum(sum(s.cache_hits.values()) for s in stats)}))
"""


def test_import_compiles_nothing_and_a_warm_process_loads_from_cache(pitboard):
    assert pitboard("warmup").stdout.startswith("kernels ready in ")
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=REPO, check=True)
    probe = json.loads(done.stdout)
    assert probe == {"before": 0, "misses": 0, "hits": 2}


def test_warmup_command_through_the_console_script(pitboard_process, db_path):
    done = pitboard_process("warmup")
    assert done.returncode == 0, done.stderr
    assert "kernels ready in" in done.stdout
    assert not db_path.exists()


COVERAGE_PROBE = """
import json
import numpy as np
import pandas as pd
from numba.core.registry import CPUDispatcher
from core.data.drift import drift_report
from core.kernels import _auc, _counts, _kolmogorov, _labels, _log, _walk, drift, metrics, profile, warmup

warmup()
modules = [_auc, _counts, _kolmogorov, _labels, _log, _walk, drift, metrics, profile]
kernels = {f"{m.__name__}.{n}": d for m in modules for n, d in vars(m).items() if isinstance(d, CPUDispatcher)}
compiled = {name: len(d.signatures) for name, d in kernels.items()}
misses = sum(sum(d.stats.cache_misses.values()) for d in kernels.values())

rng = np.random.default_rng(0)
for n in (50, 300_000):
    ref, cur = rng.normal(size=n), rng.normal(0.1, size=n).astype(np.float32)
    cur[::7] = np.nan
    ints = rng.integers(0, 9, n)
    drift.ks_test(ref, cur), drift.ks_statistic(ints, cur), drift.wasserstein(ref, ints)
    drift.psi(ref, cur), drift.psi(ints, cur, bins=4), drift.jensen_shannon(ref, cur, bins=12)
    drift.chi2_test(ints, ints[::-1] - 1, 9)
    p = profile.ReferenceProfile.from_bytes(profile.ReferenceProfile.numeric(ref).to_bytes())
    p.ks_test(cur), p.wasserstein(cur), p.psi(cur), p.psi(cur, bins=3), p.jensen_shannon(cur)
    frame = pd.DataFrame({"x": ref, "few": ints % 3, "c": np.array(list("abc"))[ints % 3], "b": ints > 4})
    drift_report(frame, frame.iloc[::-1]), drift_report(frame.iloc[:500], frame, columns=["x"])
    y = rng.integers(0, 2, n)
    score = rng.random(n)
    words = np.array(["no", "yes"])[y]
    for labels in (y, y.astype(bool), y + 3, words):
        metrics.roc_auc(labels, score), metrics.accuracy(labels, labels[::-1]), metrics.log_loss(labels, score)
        for average in ("binary", "macro", "micro", "weighted"):
            if average != "binary" or labels is y:
                metrics.f1(labels, labels[::-1], average=average), metrics.precision(labels, labels[::-1], average=average), metrics.recall(labels, labels[::-1], average=average)
    metrics.confusion_counts(y, y[::-1], 2), metrics.confusion_counts(ints, ints[::-1], 9)
    metrics.log_loss(ints % 3, rng.dirichlet([1, 1, 1], n)), metrics.f1(ints * 1000, ints[::-1] * 1000, average="macro")
    metrics.rmse(ref, np.nan_to_num(cur)), metrics.mae(ints, ref), metrics.r2(ref, ints)

compiled_later = sorted(name for name, d in kernels.items() if len(d.signatures) != compiled[name])
print(json.dumps({"cache_misses": misses, "compiled_later": compiled_later}))
"""


def test_warmup_compiles_every_kernel_every_path_uses_and_loads_them_from_the_cache():
    """A fresh process after warmup: nothing compiled, nothing left for later calls to compile.

    The calls after warmup take every path through the kernels (small and large inputs,
    NaN, integer, float32, bool and string inputs, every average); a kernel signature
    warmup missed would be compiled there and show up in `compiled_later`.
    """
    for _ in range(2):  # the first run fills the cache if nothing has yet
        done = subprocess.run([sys.executable, "-c", COVERAGE_PROBE], capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(done.stdout) == {"cache_misses": 0, "compiled_later": []}
