"""Screen snapshots of every pane and modal at 80x24 and 120x40.

The SVGs live in `__snapshots__/test_snapshots/`; regenerate with
`pytest tests/tui/test_snapshots.py --snapshot-update` and look at them before keeping
them. The look is pinned by the fixtures: theme, NO_COLOR unset, the fixed clock and a
fixture database whose path is the same in every run. Snapshot tests are synchronous
(`snap_compare` runs its own event loop), and xdist runs them on any worker: each test
writes only its own SVG.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tui.widgets.modals import ConfirmScreen

from .conftest import settle

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


def keys(*pressed: str, clear_notifications: bool = False) -> Callable[..., Awaitable[None]]:
    """Press `pressed` one by one, settling after each; then, if asked, clear the toasts
    (live screens raise some, which would cover what the snapshot is about)."""

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        if clear_notifications:
            pilot.app.clear_notifications()
            await settle(pilot)

    return run


async def confirm(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    pilot.app.push_screen(ConfirmScreen("Promote credit-risk v2 to champion?", "credit-risk@champion moves from v1 to v2.", confirm_label="Promote"))
    await settle(pilot)


SCENES = {
    "data_schema": keys(),
    "data_histogram": keys("s", "j", "g"),
    "data_histogram_id_column": keys("s", "g"),
    "data_rows": keys("j", "j", "r"),
    "data_filter": keys("slash", "c", "r", "e"),
    "data_validate_choose": keys("v"),
    "data_checks": keys("j", "c"),
    "experiments": keys("2"),
    "registry": keys("3"),
    "monitor": keys("4"),
    "jobs": keys("5"),
    "help": keys("question_mark"),
    "confirm": confirm,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("scene", SCENES)
def test_snapshot(snap_compare, make_app, scene: str, size: str) -> None:
    assert snap_compare(make_app(), terminal_size=SIZES[size], run_before=SCENES[scene])
