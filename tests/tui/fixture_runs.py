"""The Experiments and Jobs panes' database: the Data pane's fixture plus real runs and jobs.

Built through the real engine with the pinned clock: a credit-risk search of three
estimators trained in-process, then two jobs through `core.jobs.runner.start_job` and real
detached workers: one trains a small house-prices regression spec (finished), one names a
dataset that does not exist (failed). The workers inherit `PITBOARD_NOW`, so their
timestamps are pinned too, and the build runs outside any git checkout, so runs record no
commit. Run durations are wall-clock measurements; they are pinned afterwards so the
screens are the same on every build.

Built once per test worker and copied into each test's folder, like `fixture_db`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.store.clock import ENV_NOW, fixed_clock
from core.store.database import Store
from tests.conftest import T0
from tui.app import PitboardApp

from . import fixture_db
from .conftest import DB_NAME, THEME

CREDIT_SPEC = """
experiment = "credit-risk"
dataset = "credit@1"
primary_metric = "roc_auc"
seed = 7

[search]
cv = 3

[[candidates]]
estimator = "LogisticRegression"
params = { C = [0.1, 1.0], max_iter = 500 }

[[candidates]]
estimator = "DecisionTreeClassifier"
params = { max_depth = [3] }

[[candidates]]
estimator = "RandomForestClassifier"
params = { n_estimators = [30], max_depth = [4] }
"""

PRICES_SPEC = """
experiment = "house-prices"
dataset = "prices"
seed = 7

[search]
cv = 3

[[candidates]]
estimator = "Ridge"
params = { alpha = [1.0] }

[[candidates]]
estimator = "DecisionTreeRegressor"
params = { max_depth = [3] }
"""

MISSING_DATA_SPEC = """
experiment = "credit-risk"
dataset = "no-such-data"

[[candidates]]
estimator = "LogisticRegression"
"""

PINNED_DURATION = 1.5  # seconds, every run (see module docstring)
JOB_TIMEOUT = 180.0

RUNNING_LOG = """job {id}: train credit_spec.toml
training credit_spec.toml: experiment credit-risk, dataset credit@1
candidate 1/3 LogisticRegression: 2 settings x 3 folds
candidate 2/3 DecisionTreeClassifier: 1 setting x 3 folds
candidate 3/3 RandomForestClassifier: fold 2 of 3
"""


def add_running_job(store: Store, *, progress: float = 0.6, started_ago: float = 125.0) -> int:
    """A train job running on another host, part-way through, with a log tail; returns its id.

    Written as a worker elsewhere leaves it: the row, then its progress through
    `core.jobs.runner.JobContext.progress` (which also beats the heartbeat). Its worker is on
    another host, so nothing here reaps it or needs a real process, and with the store's
    fixed clock the heartbeat stays fresh and the duration is always `started_ago`.
    """
    from core.jobs.runner import JobContext

    now = store.clock()
    with store.transaction():
        job_id = int(store.conn.execute(
            "INSERT INTO jobs (kind, title, args, state, host, created_at, started_at, heartbeat)"
            " VALUES ('train', 'train credit_spec.toml', '{}', 'running', 'gpu-box', ?, ?, ?)",
            (now - started_ago, now - started_ago, now),
        ).lastrowid)
        store.conn.execute("UPDATE jobs SET log_tail = ? WHERE id = ?", (RUNNING_LOG.format(id=job_id), job_id))
    JobContext(store, job_id).progress(progress, "candidate 3/3 RandomForestClassifier, fold 2 of 3")
    return job_id


def build(path: Path) -> None:
    """Create the fixture database at `path` (its folder also holds the job logs)."""
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec
    from core.jobs.runner import ACTIVE, start_job

    fixture_db.build(path)
    saved = os.environ.get(ENV_NOW)
    os.environ[ENV_NOW] = str(T0)
    try:
        with contextlib.chdir(path.parent), Store.open(path, clock=fixed_clock(T0)) as store:
            train_spec(store, parse_spec(CREDIT_SPEC, "credit_spec.toml"))
            jobs = [
                start_job(store, "train", {"spec_text": PRICES_SPEC, "spec_source": "prices_spec.toml"}, title="train prices_spec.toml"),
                start_job(store, "train", {"spec_text": MISSING_DATA_SPEC, "spec_source": "typo_spec.toml"}, title="train typo_spec.toml"),
            ]
            deadline = time.monotonic() + JOB_TIMEOUT
            marks = ",".join("?" * len(jobs))
            while store.value(f"SELECT count(*) FROM jobs WHERE id IN ({marks}) AND state IN {ACTIVE}", jobs):
                if time.monotonic() > deadline:
                    raise AssertionError(f"fixture jobs {jobs} did not end within {JOB_TIMEOUT} s")
                time.sleep(0.1)
            with store.transaction():
                store.conn.execute("UPDATE runs SET duration = ?", (PINNED_DURATION,))
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        if saved is None:
            os.environ.pop(ENV_NOW, None)
        else:
            os.environ[ENV_NOW] = saved


@pytest.fixture
def runs_app(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., PitboardApp]:
    """A PitboardApp on a private copy of the runs fixture, pinned like `make_app`.

    The template lives at a fixed place in this worker's temporary folder and is built on
    first use, so every test module importing this fixture shares one build.
    """
    template = tmp_path_factory.getbasetemp() / "tui-runs-template" / DB_NAME
    if not template.exists():
        building = template.with_name("building.db")  # renamed when whole: a failed build is never reused
        building.parent.mkdir(exist_ok=True)
        build(building)
        building.rename(template)
    shutil.copyfile(template, tmp_path / DB_NAME)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv(ENV_NOW, str(T0))

    def make(**kwargs: object) -> PitboardApp:
        app = PitboardApp(Path(DB_NAME), clock=fixed_clock(T0), **kwargs)  # type: ignore[arg-type]
        app.theme = THEME
        return app

    return make
