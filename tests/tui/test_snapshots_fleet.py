"""The Monitor pane's fleet line: replicas that logged to segments, one silent too long.

Snapshots at 80x24 and 120x40 (`pytest tests/tui/test_snapshots_fleet.py --snapshot-update`
regenerates them; look before keeping). The replicas are written into the fixture
database as `monitor ingest --from` records them, at times around the pinned clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.store.clock import fixed_clock
from core.store.database import Store
from tests.conftest import T0
from tui.widgets.fleet import fleet_text

from .conftest import settle
from .fixture_live import MODEL, NOW, live_db, make_live_app  # noqa: F401  (fixtures)
from .test_snapshots import SIZES


def add_replicas(db: Path) -> None:
    """Three replicas of the live model: two reporting, one silent for 12 minutes."""
    with Store.open(db, clock=fixed_clock(NOW)) as store:
        model = store.value("SELECT id FROM models WHERE name = ?", (MODEL,))
        with store.transaction():
            for n, (host, last) in enumerate((("node-a", NOW - 20), ("node-b", NOW - 35), ("node-c", NOW - 720))):
                store.conn.execute(
                    "INSERT INTO fleet_replicas (model_id, replica, replica_key, host, pid, started_at, first_segment_at,"
                    " last_segment_at, rows, requests, segments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (model, f"{host}_{100 + n}_0_{n + 1}", n + 1, host, 100 + n, NOW - 3600, NOW - 3600, last,
                     9000 + n, 3600 + 600 * n, 40))


async def open_monitor(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_fleet(snap_compare, make_live_app, live_db: Path, size: str) -> None:  # noqa: F811
    add_replicas(live_db)
    assert snap_compare(make_live_app(), terminal_size=SIZES[size], run_before=open_monitor)


def test_the_line_sums_rates_names_the_newest_segment_and_each_silent_replica():
    replicas = [
        {"host": "a", "pid": 1, "requests_per_s": 2.5, "last_segment_at": T0, "silent": False, "silent_seconds": 5.0},
        {"host": "b", "pid": 2, "requests_per_s": 1.0, "last_segment_at": T0 - 900, "silent": True, "silent_seconds": 900.0},
    ]
    assert fleet_text(replicas).plain == "fleet · 2 replicas · 3.5 req/s · last segment 2026-01-01 00:00 · ⚠ b:2 silent 15m"


def test_replicas_from_the_engine_flag_the_silent_one(live_db: Path):  # noqa: F811
    from core.monitoring.fleet import replicas

    add_replicas(live_db)
    with Store.open(live_db, clock=fixed_clock(NOW)) as store:
        found = {r["host"]: r for r in replicas(store, MODEL)}
    assert [found[h]["silent"] for h in ("node-a", "node-b", "node-c")] == [False, False, True]
    assert found["node-a"]["requests_per_s"] == pytest.approx(3600 / 3580)
