"""The Monitor pane on the live fixture: KPI tiles, drift table, trends, alerts, ack and
retrain, which model it opens on and what it says before its first read, asserted against
what the engine reads from the same database."""

from __future__ import annotations

import asyncio
import json

import pytest
from rich.text import Text

from core.cli._output import format_value
from core.monitoring import alerts
from core.monitoring import status as monitoring
from core.store.database import Store
from tests.conftest import T0
from tui.panes.monitor import MonitorView, error_rate_kpi, first_model, kpi_values
from tui.widgets.kpi import KpiTile
from tui.widgets.modals import ConfirmScreen
from tui.widgets.series import downsample
from tui.widgets.table import FilterTable

from .conftest import screen_lines, settle, table_rows
from .fixture_live import MODEL, NOW, live_db, make_live_app  # noqa: F401  (fixtures)

pytestmark = pytest.mark.anyio


def cells(app, table_id: str, index: int) -> list[str]:
    table = app.query_one(f"#{table_id}", FilterTable).table
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


def tile(app, kpi: str) -> str:
    return app.query_one(f"#kpi-{kpi}", KpiTile).kpi_value


async def open_monitor(pilot) -> None:
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)


async def test_tiles_and_drift_table_match_the_latest_window(make_live_app, live_db):
    with Store.open(live_db) as store:
        latest = monitoring.list_windows(store, MODEL, limit=1)[0]
        features = monitoring.window_features(store, latest["id"])
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_monitor(pilot)
        assert tile(app, "state") == "ALERT"
        # 8, not 9: term_months is significant (chi-square p 1e-5) but its effect (Cramer's V 0.099) is under min_effect
        assert tile(app, "drifted") == f"{latest['n_drifted']}/{latest['n_features']}" == "8/11"
        assert tile(app, "real") == format_value(latest["metrics"]["roc_auc"])
        assert tile(app, "estimated") == "~" + format_value(latest["estimated"]["roc_auc"])
        assert tile(app, "p95") == "9.5 ms"
        assert app.query_one("#kpi-real", KpiTile).border_title == "roc_auc"
        drifted = sorted(f["feature"] for f in features if f["drifted"])
        shown = cells(app, "drift-table", 0)
        assert shown[: len(drifted)] == drifted and len(shown) == len(features)  # drifted first
        assert set(cells(app, "drift-table", 1)) == {"DRIFT", "ok"}
        assert cells(app, "drift-table", 1)[: len(drifted)] == ["DRIFT"] * len(drifted)


async def test_requests_per_second_counts_the_last_minute_of_the_log(make_live_app, live_db):
    with Store.open(live_db) as store:
        logged = store.value("SELECT SUM(n_rows) FROM prediction_batches WHERE ts_max >= ? AND ts_min <= ?", (NOW - 60, NOW))
        first_month = store.value("SELECT SUM(n_rows) FROM prediction_batches WHERE ts_min < ?", (T0 + 86_400,))
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        assert logged == first_month > 0  # every request of the first month, however they were batched
        assert tile(app, "rate") == f"{logged / 60:,.1f}"


async def test_alerts_listed_and_a_acknowledges_the_highlighted_one(make_live_app, live_db):
    with Store.open(live_db) as store:
        expected = [a["id"] for a in alerts.list_alerts(store, model=MODEL)]
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_monitor(pilot)
        assert str(app.status_line.shown).endswith(f"{len(expected)} open alerts")
        await pilot.press("l")
        await settle(pilot)
        assert cells(app, "alerts-table", 0) == [str(i) for i in expected]
        await pilot.press("j", "a")
        await settle(pilot)
        assert cells(app, "alerts-table", 2)[:2] == ["open", "acknowledged"]
        await pilot.press("a")  # already acknowledged: a warning, nothing written
        await settle(pilot)
    with Store.open(live_db) as store:
        states = {a["id"]: a["state"] for a in alerts.list_alerts(store, model=MODEL)}
        assert states[expected[1]] == "acknowledged"
        assert [i for i, s in states.items() if s == "acknowledged"] == [expected[1]]
        assert store.value("SELECT count(*) FROM audit WHERE action = 'alert.ack'") == 1


async def test_live_refresh_shows_changes_made_elsewhere_and_skips_unchanged(make_live_app, live_db):
    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_monitor(pilot)
        pane = app.current_pane
        view = pane.view
        pane.reload()
        await settle(pilot)
        assert pane.view is view  # the same data read again: nothing redrawn
        with Store.open(live_db) as store:  # another process (the CLI) acknowledges an alert
            first = alerts.list_alerts(store, model=MODEL)[0]["id"]
            alerts.acknowledge(store, first)
        for _ in range(100):  # the once-a-second refresh picks it up
            if pane.view is not view:
                break
            await asyncio.sleep(0.05)
        await settle(pilot)
        assert pane.view.alerts[0]["state"] == "acknowledged"
        assert cells(app, "alerts-table", 2)[0] == "acknowledged"


async def test_retrain_asks_then_starts_a_retrain_job(make_live_app, live_db):
    from core.jobs.runner import cancel_job

    app = make_live_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_monitor(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        with Store.open(live_db) as store:
            assert store.value("SELECT count(*) FROM jobs") == 0
        await pilot.press("R", "y")
        await settle(pilot)
    with Store.open(live_db) as store:
        job = store.row("SELECT id, kind, args FROM jobs")
        first_alert = alerts.list_alerts(store, model=MODEL)[0]["id"]
        try:
            assert job["kind"] == "retrain"
            assert json.loads(job["args"]) == {"model": MODEL, "alert_id": first_alert}
        finally:
            cancel_job(store, job["id"])  # the test only checks the start: stop the worker


def test_downsample_averages_buckets_and_skips_missing():
    assert downsample([1.0, 2.0, 3.0], 5) == [1.0, 2.0, 3.0]
    assert downsample([1.0, 3.0, None, 5.0, 6.0, None], 3) == [2.0, 5.0, 6.0]
    assert downsample([None, None, 1.0, 2.0], 2) == [None, 1.5]
    assert len(downsample([float(i) for i in range(1000)], 70)) <= 70


def test_kpis_of_a_model_without_windows_say_so():
    values = kpi_values(MonitorView(["m"], "m", {"state": "ok"}, "roc_auc"))
    assert values["state"] == ("OK", "ok", "")
    assert values["drifted"] == values["real"] == values["errors"] == ("no data", "", "")


def test_error_rate_tile_is_a_percent_with_its_state_as_a_word_above_each_threshold():
    limits = alerts.DEFAULTS
    assert (limits["max_error_rate_warning"], limits["max_error_rate"]) == (0.01, 0.05)
    assert error_rate_kpi(None, limits) == ("—", "", "")
    assert error_rate_kpi(0.0, limits) == ("0.0%", "ok", "")
    assert error_rate_kpi(0.01, limits) == ("1.0%", "ok", "")  # at the threshold: not above it
    assert error_rate_kpi(0.0234, limits) == ("2.3%", "warning", "WARNING")
    assert error_rate_kpi(0.05, limits) == ("5.0%", "warning", "WARNING")
    assert error_rate_kpi(0.0625, limits) == ("6.2%", "alert", "ALERT")
    own = {**alerts.DEFAULTS, "max_error_rate_warning": 0.1, "max_error_rate": 0.2}
    assert error_rate_kpi(0.0625, own) == ("6.2%", "ok", "")


async def test_error_rate_tile_shows_what_the_engine_reports(make_live_app, live_db):
    """The tile shows the latest window's rate as the engine computed it, graded by the model's rules."""
    with Store.open(live_db) as store:
        latest = monitoring.list_windows(store, MODEL, limit=1)[0]
        limits = alerts.rules_for(store, MODEL)
    assert latest["error_rate"] == 0.0  # the replay sends only valid requests
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        shown = app.query_one("#kpi-errors", KpiTile)
        assert shown.border_title == "errors"
        assert (shown.kpi_value, shown.kpi_state, shown.kpi_flag) == error_rate_kpi(latest["error_rate"], limits) == ("0.0%", "ok", "")


@pytest.mark.parametrize("no_color", [False, True])
async def test_a_high_error_rate_turns_the_tile_to_alert_in_words_too(make_live_app, monkeypatch, no_color):
    listed = monitoring.list_windows

    def with_errors(store, model, *, limit=20):  # type: ignore[no-untyped-def]
        windows = listed(store, model, limit=limit)
        windows[0] = {**windows[0], "n_errors": 100, "error_rate": 100 / windows[0]["n_rows"]}
        return windows

    monkeypatch.setattr(monitoring, "list_windows", with_errors)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        rate = pilot.app.current_pane.view.windows[0]["error_rate"]
        shown = app.query_one("#kpi-errors", KpiTile)
        assert rate > 0.05 and shown.kpi_value == f"{rate:.1%}"
        assert (shown.kpi_state, shown.kpi_flag, Text.from_markup(shown.border_subtitle).plain) == ("alert", "ALERT", "ALERT")
        assert app.no_color is no_color
        screen_text = app.export_screenshot().replace("&#160;", " ")
        assert f">{rate:.1%}<" in screen_text and ">ALERT<" in screen_text.split(f">{rate:.1%}<", 1)[1]


def test_the_model_to_open_on_has_the_worst_open_alert_then_the_newest_window():
    def row(name: str, severity: str | None, latest: float | None) -> dict:
        return {"name": name, "severity": severity, "latest": latest}

    assert first_model([row("a", None, None), row("b", "warning", 10.0), row("c", "critical", 5.0)]) == "c"
    assert first_model([row("a", None, None), row("b", "warning", 10.0), row("c", "warning", 20.0)]) == "c"
    assert first_model([row("a", None, None), row("b", None, 1.0)]) == "b"
    assert first_model([row("b", None, None), row("a", None, None)]) == "a"


async def test_opens_on_the_model_with_the_open_alert_not_the_first_by_name(make_live_app, live_db):
    """`a-model` sorts first and is served, but has no window yet: credit-risk has the alerts."""
    from core.registry.versions import register

    with Store.open(live_db) as store:
        served = register(store, 2, "a-model")
        with store.transaction():
            store.conn.execute(
                "INSERT INTO deployments (model_id, version_id, alias, host, port, pid, started_at) VALUES (?, ?, NULL, 'localhost', 8001, 1, ?)",
                (served.model_id, served.id, T0))
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        view = app.current_pane.view
        assert view.models == ["a-model", MODEL] and view.model == MODEL
        assert tile(app, "state") == "ALERT"


async def test_says_it_is_reading_until_the_first_read_answers(make_live_app, monkeypatch):
    import threading

    from tui.panes import monitor
    from tui.panes.base import LOADING

    release = threading.Event()
    read = monitor.read_view

    def slow_read(store, model):  # type: ignore[no-untyped-def]
        release.wait(10)
        return read(store, model)

    monkeypatch.setattr(monitor, "read_view", slow_read)
    app = make_live_app(pane="monitor")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        empty, main = app.query_one("#monitor-empty"), app.query_one("#monitor-main")
        assert empty.display and not main.display
        assert str(empty.content) == LOADING and "No monitored deployments" not in str(empty.content)
        assert app.focused is app.current_pane  # its keys wait with it
        release.set()
        await settle(pilot)
        assert main.display and not empty.display
        assert app.query_one("#drift-table", FilterTable).table.has_focus


async def test_at_80x24_every_alert_shows_its_message_and_the_highlighted_one_whole(make_live_app, live_db):
    with Store.open(live_db) as store:
        listed = alerts.list_alerts(store, model=MODEL)
    app = make_live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_monitor(pilot)
        await pilot.press("l")
        await settle(pilot)
        table = app.query_one("#alerts-table", FilterTable)
        assert table_rows(table)[0][:3] == (str(listed[0]["id"]), listed[0]["severity"].upper(), "open")
        lines = screen_lines(app)
        for alert in listed:  # each row starts its message, at least its first 30 characters
            assert any(alert["message"][:30] in line for line in lines), alert["message"]
        for alert in listed[:2]:
            detail = str(app.query_one("#alert-detail").content)
            assert detail.startswith(f"alert {alert['id']} · {alert['rule']} · windows") and detail.endswith(alert["message"])
            await pilot.press("j")
