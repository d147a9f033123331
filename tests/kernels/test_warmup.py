"""Compilation happens once, into the on-disk cache, and never at import."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

PROBE = """
import json, numpy as np
from core.kernels import _walk, drift, metrics
before = len(_walk.ks_sorted.signatures) + len(metrics._twice_u.signatures)
drift.ks_test(np.array([1.0, 2.0, 3.0]), np.array([2.5, 4.0]))
metrics.roc_auc(np.array([0, 1, 1]), np.array([0.2, 0.1, 0.9]))
stats = [_walk.ks_sorted.stats, metrics._twice_u.stats]
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
