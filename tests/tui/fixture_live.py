"""A live fixture database for the Registry and Monitor panes, built through the real engine.

The credit sample data (its first rows only, so training takes a blink) is imported and
validated, a tiny spec trains two LogisticRegression runs, both are registered
(`credit-risk` v1 and v2), v1 is promoted to champion through the gates, and
`core.simulation.simulate` replays production months in-process on its virtual clock, so there are
windows, drift (the recession starts in month 4) and open alerts. Everything is seeded
and the clock pinned, so every build is identical.

The database is built once per test worker (kept under the session's base temp folder,
whichever test module asks first) and copied into each test's folder as `pitboard.db`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import SAMPLE_DATA, T0
from tui.app import PitboardApp

from .conftest import DB_NAME, THEME

MODEL = "credit-risk"
TRAIN_ROWS = 600
MONTHS = 6
SPEC = """
experiment = "credit-risk"
dataset = "credit"
target = "default"
primary_metric = "roc_auc"
seed = 7

[split]
test_size = 0.25

[search]
cv = 2

[[candidates]]
estimator = "LogisticRegression"
params = { C = [1.0, 0.01], max_iter = [500] }
"""
# Serving latencies are wall-clock timings of this machine: pinned after the replay so the
# screens (and their snapshots) are the same on every machine, as p50/p95/p99 per window.
LATENCY_MS = (4.0, 9.5, 14.0)
# Fast log flushes so the replay waits little; no automatic retrain (tests start one by key);
# windows sliced by region and income for the Segments tab.
CONFIG = '[serving]\nlog_interval = 0.02\n\n[monitoring]\nsegments = ["region", "income"]\n'
# The app's "now": half a minute into the replay's first month, whose requests all fall in
# its first virtual seconds. The requests/s tile counts the log's batches that touch the
# last minute, and how the log writer grouped the first requests into batches depends on
# thread timing; from here every grouping of them is inside the minute, so it reads the same.
NOW = T0 + 30.0


def build(path: Path) -> None:
    """Create the live fixture database at `path` (and its pitboard.toml beside it)."""
    (path.parent / "pitboard.toml").write_text(CONFIG)
    # Not in a git checkout (runs record the commit of the working folder) and as a fixed
    # user (audit rows and the alias history record who acted): the same bytes everywhere.
    with contextlib.chdir(path.parent), _user("analyst"):
        _build(path)


@contextlib.contextmanager
def _user(name: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in ("LOGNAME", "USER", "LNAME", "USERNAME")}
    os.environ.update(dict.fromkeys(saved, name))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _build(path: Path) -> None:
    import pandas as pd

    from core.data.datasets import add_frame
    from core.data.validation import validate
    from core.experiments.specs import parse_spec
    from core.experiments.training import train_spec
    from core.monitoring.promotion import promote
    from core.monitoring.references import ensure_reference, register
    from core.simulation.simulate import simulate

    frame = pd.read_csv(SAMPLE_DATA / "credit_train.csv", nrows=TRAIN_ROWS)
    with Store.open(path, clock=fixed_clock(T0)) as store:
        dv, _ = add_frame(store, "credit", frame, source="credit_train.csv (first rows)", target="default",
                          time_column="application_date", id_column="applicant_id")
        validate(store, dv)
        result = train_spec(store, parse_spec(SPEC, source="tests/tui live spec"))
        for run_id in sorted(result.run_ids):
            ensure_reference(store, register(store, run_id, MODEL))
        promotion = promote(store, f"{MODEL}@1", "champion", reason="fixture")
        assert promotion.moved is not None, [g.to_dict() for g in promotion.gates]
        simulate(store, f"{MODEL}@champion", months=MONTHS, rate=1000.0, feedback_delay=3600.0, batch=500)
        with store.transaction():
            store.conn.execute("UPDATE monitor_windows SET latency_p50 = ?, latency_p95 = ?, latency_p99 = ?", LATENCY_MS)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # a plain copy of the file is then complete


@pytest.fixture
def live_db(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the live database (built once per worker); the test's cwd is its folder."""
    template = tmp_path_factory.getbasetemp() / "tui-live" / DB_NAME
    if not template.exists():
        template.parent.mkdir(exist_ok=True)
        build(template)
    shutil.copyfile(template, tmp_path / DB_NAME)
    shutil.copyfile(template.parent / "pitboard.toml", tmp_path / "pitboard.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("PITBOARD_NOW", str(T0))
    return Path(DB_NAME)


@pytest.fixture
def make_live_app(live_db: Path) -> Callable[..., PitboardApp]:
    """A PitboardApp on the live database with the pinned clock and theme."""

    def make(**kwargs: object) -> PitboardApp:
        app = PitboardApp(live_db, clock=fixed_clock(NOW), **kwargs)  # type: ignore[arg-type]
        app.theme = THEME
        return app

    return make
