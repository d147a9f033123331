"""Snapshots of the Experiments and Jobs panes and their screens at 80x24 and 120x40.

Regenerate with `pytest tests/tui/test_snapshots_experiments.py --snapshot-update` and
look at the SVGs before keeping them (see test_snapshots.py for the pinned look).
"""

from __future__ import annotations

import pytest

from core.store.database import Store

from .conftest import settle
from .fixture_runs import add_running_job, runs_app  # noqa: F401  (fixture)
from .test_snapshots import SIZES, keys


async def running_job(pilot) -> None:  # type: ignore[no-untyped-def]
    """The Jobs pane with a job 60% through, as a worker on another host leaves it."""
    await settle(pilot)
    with Store.open(pilot.app.db_path, clock=pilot.app.clock) as store:
        add_running_job(store)
    pilot.app.poll_status()
    await pilot.press("5")
    await settle(pilot)


SCENES = {
    "experiments": keys("2"),
    "experiments_runs_marked": keys("2", "enter", "space", "j", "space"),
    "experiments_filter_error": keys("2", "f", *"metrics.roc_auc >", "enter"),
    "experiments_filter_open": keys("2", "f", *"metrics.roc_auc > 0.6"),
    "run_classifier": keys("2", "enter", "enter"),
    "run_regressor": keys("2", "j", "enter", "enter"),
    "compare": keys("2", "enter", "space", "j", "space", "c"),
    "train_modal": keys("2", "t"),
    "train_modal_drafted": keys("2", "t", "tab", *"prices", "enter"),
    "register_modal": keys("2", "enter", "r"),
    "jobs": keys("5"),
    "jobs_finished": keys("5", "j"),
    "jobs_running": running_job,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", SCENES)
def test_snapshot(snap_compare, runs_app, scene: str, size: str) -> None:
    assert snap_compare(runs_app(), terminal_size=SIZES[size], run_before=SCENES[scene])
