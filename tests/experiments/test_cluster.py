"""`--cluster`: the search's fits run on a Dask scheduler (a LocalCluster on loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store

from tests.conftest import T0
from tests.experiments.helpers import add_credit, sequential_training, write_spec

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as running:
        yield running


def test_training_through_a_dask_cluster_logs_the_runs(pitboard, db_path: Path, tmp_path: Path, cluster) -> None:
    sequential_training(tmp_path)  # n_jobs = 1 locally: any parallel fit below is the cluster's
    with Store.open(db_path, clock=fixed_clock(T0)) as store:
        add_credit(store)
    spec = write_spec(tmp_path)
    trained = pitboard("train", spec, "--cluster", cluster.scheduler_address, "--json")
    assert trained.exit_code == 0, trained.stderr
    result = json.loads(trained.stdout)
    assert [r["status"] for r in result["runs"]] == ["FINISHED"] * 3
    executed = cluster.scheduler.task_prefixes
    assert any(name.startswith("batch_of_fit_fold") for name in executed)
    assert any(name.startswith("batch_of_fit_final") for name in executed)
    with Store.open(db_path) as store:
        assert store.value("SELECT cluster FROM searches") == cluster.scheduler_address
        assert store.value("SELECT count(*) FROM metrics WHERE key = 'roc_auc' AND value > 0.75") == 3


def test_an_unreachable_cluster_is_a_clear_error(pitboard, db_path: Path, tmp_path: Path) -> None:
    sequential_training(tmp_path)
    with Store.open(db_path, clock=fixed_clock(T0)) as store:
        add_credit(store)
    found = pitboard("train", write_spec(tmp_path), "--cluster", "tcp://127.0.0.1:9")
    assert found.exit_code == 2
    assert found.stderr.startswith("Error: --cluster tcp://127.0.0.1:9: cannot connect to the Dask scheduler")
    with Store.open(db_path) as store:
        assert store.value("SELECT count(*) FROM runs") == 0
