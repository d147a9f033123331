"""Screen snapshots of the Registry and Monitor panes and their modals, at 80x24 and 120x40,
on the live fixture database (see fixture_live.py).

Regenerate with `pytest tests/tui/test_snapshots_registry.py --snapshot-update` and look
at the changed SVGs before keeping them. Toasts are cleared before each picture: how long
one stays up depends on the machine's speed, not on the screen being tested.
"""

from __future__ import annotations

from functools import partial

import pytest

from .fixture_live import live_db, make_live_app  # noqa: F401  (fixtures)
from .test_snapshots import SIZES
from .test_snapshots import keys as snapshot_keys

keys = partial(snapshot_keys, clear_notifications=True)  # the live screens raise toasts


SCENES = {
    "registry_info": keys("3"),
    "registry_history": keys("3", "h"),
    "registry_card": keys("3", "m"),
    "registry_card_screen": keys("3", "j", "enter"),
    "registry_promote": keys("3", "j", "p"),
    "registry_rollback": keys("3", "r"),
    "monitor_drift": keys("4"),
    "monitor_trends": keys("4", "t"),
    "monitor_alerts": keys("4", "l"),
    "monitor_segments": keys("4", "s"),
    "monitor_retrain": keys("4", "l", "R"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", SCENES)
def test_snapshot(snap_compare, make_live_app, scene: str, size: str) -> None:
    assert snap_compare(make_live_app(), terminal_size=SIZES[size], run_before=SCENES[scene])
