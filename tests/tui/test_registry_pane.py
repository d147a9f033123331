"""The Registry pane on the live fixture: versions with badges, detail, promote, rollback,
bundle and serve, each asserted on what the database holds afterwards."""

from __future__ import annotations

import os
import re
import signal

import pytest

from core.cli._output import format_value
from core.monitoring.promotion import evaluate_gates
from core.registry import versions as registry
from core.store.database import Store
from tests.conftest import file_bytes, wait_for
from tui.screens.promote import PromoteScreen
from tui.widgets.modals import ConfirmScreen
from tui.widgets.table import FilterTable

from .conftest import screen_lines, settle
from .fixture_live import MODEL, live_db, make_live_app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.anyio


def cells(app, table_id: str, index: int) -> list[str]:
    table = app.query_one(f"#{table_id}", FilterTable).table
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


def gate_rows(app) -> list[str]:
    """The promote modal's gate lines as drawn, each squeezed to single spaces."""
    lines = [re.sub(r"\s+", " ", line.strip(" █▌▐▊▎")) for line in screen_lines(app)]
    return [line for line in lines if line.startswith(("PASS ", "FAIL "))]


def champion(db) -> int:
    with Store.open(db) as store:
        return registry.alias_holder(store, MODEL, "champion").version


async def open_registry(app, pilot) -> None:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)


async def test_versions_show_alias_badges_and_the_selected_detail(make_live_app):
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        assert cells(app, "model-versions", 0) == ["credit-risk@1", "credit-risk@2"]
        assert cells(app, "model-versions", 1) == ["[champion]", ""]
        pane = app.current_pane
        assert pane.detail.version.ref == "credit-risk@1"
        info = dict(zip(cells(app, "info-table", 0), cells(app, "info-table", 1)))
        assert info["lineage dataset"] == "credit@1" and info["lineage run"] == "1"
        assert info["metric roc_auc"] == "0.7539"
        assert cells(app, "history-table", 2) == ["promote"] and cells(app, "history-table", 4) == ["v1"]
        assert pane.detail.card.startswith("# Model card: credit-risk version 1")
        await pilot.press("j")
        await settle(pilot)
        assert pane.detail.version.ref == "credit-risk@2"
        assert "no aliases" in str(app.query_one("#version-line").content)


async def test_promote_shows_every_gate_then_moves_champion(make_live_app, live_db):
    with Store.open(live_db) as store:
        expected = evaluate_gates(store, registry.resolve(store, f"{MODEL}@2"))
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, PromoteScreen)
        assert [row.split(" ", 1)[0] for row in gate_rows(app)] == [g.verdict for g in expected]
        assert all(g.name in row for g, row in zip(expected, gate_rows(app)))
        assert all(g.passed for g in expected)
        assert "All 2 gates pass: champion moves from credit-risk@1" in str(app.screen.query_one("#promote-summary").content)
        await pilot.press("y")
        await settle(pilot)
        assert cells(app, "model-versions", 1) == ["", "[champion]"]
    assert champion(live_db) == 2
    with Store.open(live_db) as store:
        assert store.value("SELECT count(*) FROM audit WHERE action = 'model.promote' AND object = 'credit-risk@champion'") == 2


async def test_a_in_the_promote_modal_switches_to_challenger_and_y_moves_that_alias(make_live_app, live_db):
    with Store.open(live_db) as store:
        expected = evaluate_gates(store, registry.resolve(store, f"{MODEL}@2"), "challenger")
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("j", "p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromoteScreen) and screen.choice.alias == "champion"
        assert "a: show the gates of challenger instead" in str(screen.query_one("#promote-notes").content)
        await pilot.press("a")
        assert screen.choice.alias == "challenger"
        assert str(screen.query_one("#promote-title").content) == f"Promote {MODEL}@2 to challenger?"
        assert "challenger moves which is free now" in str(screen.query_one("#promote-summary").content)
        assert all(g.name in row for g, row in zip(expected, gate_rows(app), strict=True))
        await pilot.press("y")
        await settle(pilot)
        assert cells(app, "model-versions", 1) == ["[champion]", "[challenger]"]
    assert champion(live_db) == 1
    with Store.open(live_db) as store:
        assert registry.alias_holder(store, MODEL, "challenger").version == 2
        assert store.value("SELECT count(*) FROM audit WHERE action = 'model.promote' AND object = 'credit-risk@challenger'") == 1


async def test_promote_offers_only_the_aliases_a_version_does_not_hold(make_live_app, live_db):
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("p")  # v1 holds champion: only challenger is offered
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromoteScreen) and [c.alias for c in screen._choices] == ["challenger"]
        assert "a: show" not in str(screen.query_one("#promote-notes").content)
        await pilot.press("a", "n")
        await settle(pilot)
        assert not isinstance(app.screen, PromoteScreen)


async def test_a_failing_gate_cannot_be_confirmed_and_changes_nothing(make_live_app, live_db):
    (live_db.parent / "pitboard.toml").write_text(
        (live_db.parent / "pitboard.toml").read_text() + "\n[models]\nmin_metrics = {roc_auc = 0.99}\n")
    before = file_bytes(live_db)
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PromoteScreen) and not screen.passed
        assert gate_rows(app)[0].startswith("FAIL min roc_auc 0.8129 >= 0.99")
        assert screen.query_one("#confirm").disabled
        await pilot.press("y")  # refused: the modal closes without promoting
        await settle(pilot)
        assert not isinstance(app.screen, PromoteScreen)
    assert file_bytes(live_db) == before


async def test_rollback_asks_then_gives_champion_back(make_live_app, live_db):
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert champion(live_db) == 2
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # cancelled: nothing moves
        await settle(pilot)
        assert champion(live_db) == 2
        await pilot.press("r", "y")
        await settle(pilot)
        assert cells(app, "model-versions", 1) == ["[champion]", ""]
        assert cells(app, "history-table", 2)[0] == "rollback"
    assert champion(live_db) == 1


async def test_rollback_without_an_earlier_holder_says_why_and_changes_nothing(make_live_app, live_db):
    before = file_bytes(live_db)
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("r", "y")
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("nothing to roll back to" in m for m in messages), messages
    assert file_bytes(live_db) == before


async def test_bundle_runs_as_a_package_job(make_live_app, live_db):
    from core.jobs.runner import get_job
    from core.registry.packaging import verify_bundle
    from core.serving.probe import probe_model

    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("b")
        await settle(pilot)
    with Store.open(live_db) as store:
        job = store.row("SELECT id, kind, args FROM jobs ORDER BY id DESC LIMIT 1")
        assert job["kind"] == "package"
        out = live_db.resolve().parent / "bundles" / "credit-risk-1.tar.gz"
        assert job["args"] == f'{{"out": "{out}", "ref": "credit-risk@1"}}'
        wait_for(lambda: get_job(store, job["id"])["state"] not in ("queued", "running"), what="the package job", timeout=90.0, interval=0.1)
        finished = get_job(store, job["id"])
        assert finished["state"] == "finished", (finished.get("error"), finished.get("log_tail"))
    report = verify_bundle(out, probe=probe_model)
    assert (report["model"], report["version"], report["model_loads"], report["model_answers"]) == (MODEL, 1, True, True)


async def test_serve_starts_a_detached_service_and_shows_its_url(make_live_app, live_db):
    import httpx

    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("s")
        await settle(pilot)
        served = app.current_pane.served
        assert served is not None
        try:
            assert any(served.url in n.message for n in app._notifications)
            health = httpx.get(f"{served.url}/health", timeout=10)
            assert health.status_code == 200
            with Store.open(live_db) as store:
                row = store.row("SELECT alias, port FROM deployments WHERE id = ?", (served.deployment,))
            assert row["alias"] == "champion" and served.url.endswith(f":{row['port']}")
        finally:
            os.kill(served.pid, signal.SIGTERM)


async def test_enter_opens_the_selected_versions_model_card(make_live_app):
    from tui.screens.model_card import ModelCardScreen

    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("j", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ModelCardScreen) and screen.version_id == app.current_pane.detail.version.id
        assert screen.card.startswith("# Model card: credit-risk version 2")
        assert str(screen.query_one("#card-title").content) == "Model card · credit-risk@2"
        await pilot.press("escape")
        assert not isinstance(app.screen, ModelCardScreen) and app.current_pane.pane_id == "registry"


async def test_at_80x24_both_aliases_and_every_moves_target_are_shown_whole(make_live_app, live_db):
    with Store.open(live_db) as store:
        registry.move_alias(store, MODEL, "challenger", registry.resolve(store, f"{MODEL}@1"), action="set", reason="test")
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registry(app, pilot)
        listed = [line for line in screen_lines(app) if "credit-risk@1 " in line and "registered" not in line]
        assert "[challenger] [champion]" in listed[0]
        await pilot.press("h")
        await settle(pilot)
        header = next(line for line in screen_lines(app) if line.lstrip().startswith("when"))
        assert header.split()[:5] == ["when", "alias", "action", "from", "to"]
        assert cells(app, "history-table", 4) == ["v1", "v1"]  # challenger set, champion promoted: both to v1


async def test_at_80x24_the_promote_modal_shows_every_gate_and_threshold_whole(make_live_app, live_db):
    with Store.open(live_db) as store:
        gates = evaluate_gates(store, registry.resolve(store, f"{MODEL}@2"))
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_registry(app, pilot)
        await pilot.press("j", "p")
        await settle(pilot)
        assert isinstance(app.screen, PromoteScreen)
        words = {word for line in screen_lines(app) for word in line.strip(" █▌▐▊▎").split()}
        for gate in gates:  # a long threshold wraps inside its column, cut nowhere
            assert set(format_value(gate.threshold).split()) <= words, gate.threshold
        assert "(credit-risk@1)" in words
