"""The Monitor pane: per monitored model, KPI tiles, the latest window's drift per feature,
drift and performance over the windows, and the open alerts.

About once a second (while the pane is shown) a thread worker reads the model's small
aggregates: its windows, the latest window's features, its alerts and the count of
predictions logged in the last minute, never the raw prediction log. The result is
compared with what is on screen and nothing is redrawn when it did not change, so an
idle monitor sends nothing over a slow link. `a` acknowledges the highlighted alert and
`R` starts a `retrain` job (after a confirmation), which the Jobs pane then follows.

The pane opens on the model that most needs looking at: the one with the most severe open
alert, then the one with the most recent window (`first_model`), not the first by name,
which may be a model just served and without a window yet. The alerts table keeps the
message beside severity and state at any width; the whole of the highlighted alert is
written under the table, wrapped, since a message is what an alert is about.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from core.cli._output import format_value
from core.store.clock import iso
from core.store.database import Store
from core.store.errors import PitboardError
from tui.keys import bind
from tui.panes.base import TAB_BINDINGS, EmptyState, PaletteAction, Pane
from tui.widgets.fleet import FleetLine
from tui.widgets.kpi import KpiTile
from tui.widgets.modals import ChooseScreen, ConfirmScreen
from tui.widgets.segments import SegmentsView
from tui.widgets.table import FilterTable

REFRESH_SECONDS = 1.0
RATE_SECONDS = 60.0  # requests/s is the rows logged over this last stretch of time
MAX_WINDOWS = 500  # windows read for the trends (downsampled to the plot width)
SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}
STATE_WORDS = {"ok": "OK", "warning": "WARNING", "alert": "ALERT", "unknown": "UNKNOWN"}
KPIS = ("state", "rate", "p95", "errors", "drifted", "real", "estimated")
NO_VALUE = "—"
SEVERITY_RANK = {"critical": 2, "warning": 1}
ALERT_COLUMNS = ("alert", "severity", "state", "message", "rule", "windows", "opened")
ALERT_DROP = ("opened", "windows", "rule")  # said again under the table, for the highlighted alert


@dataclass
class MonitorView:
    """Everything the pane shows for one model, read in one worker; compared to skip redraws."""

    models: list[str]
    model: str | None = None
    status: dict[str, Any] = field(default_factory=dict)
    metric: str | None = None
    windows: list[dict[str, Any]] = field(default_factory=list)  # newest first
    features: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    rate: float = 0.0
    rules: dict[str, Any] = field(default_factory=dict)  # the model's [alerts] rules
    replicas: list[dict[str, Any]] = field(default_factory=list)  # fleet replicas (core.monitoring.fleet)


def first_model(models: list[dict[str, Any]]) -> str:
    """The model to open on: the most severe open alert first, then the most recent window,
    then the name. `models` are rows of `name`, `severity` (of its worst open alert, or
    None) and `latest` (the end of its newest window, or None)."""
    def need(model: dict[str, Any]) -> tuple[int, float, str]:
        return (-SEVERITY_RANK.get(model["severity"], 0), -(model["latest"] or float("-inf")), model["name"])

    return min(models, key=need)["name"]


def read_view(store: Store, model: str | None) -> MonitorView:
    """The view of `model` (or of the model most in need of a look), from aggregates only."""
    from core.monitoring import alerts, fleet
    from core.monitoring import status as monitoring
    from core.registry import versions as registry

    monitored = [dict(r) for r in store.rows(
        "SELECT name,"
        " (SELECT a.severity FROM alerts a WHERE a.model_id = m.id AND a.state = 'open'"
        "  ORDER BY a.severity = 'critical' DESC LIMIT 1) AS severity,"
        " (SELECT MAX(w.end) FROM monitor_windows w WHERE w.model_id = m.id) AS latest"
        " FROM models m WHERE EXISTS (SELECT 1 FROM monitor_windows w WHERE w.model_id = m.id)"
        " OR EXISTS (SELECT 1 FROM deployments d WHERE d.model_id = m.id) ORDER BY name")]
    models = [row["name"] for row in monitored]
    if not models:
        return MonitorView(models)
    model = model if model in models else first_model(monitored)
    windows = monitoring.list_windows(store, model, limit=MAX_WINDOWS)
    champion = registry.alias_holder(store, model, "champion") or registry.resolve(store, model)
    now = store.clock()
    logged = store.value(
        "SELECT COALESCE(SUM(b.n_rows), 0) FROM prediction_batches b JOIN model_versions v ON v.id = b.version_id"
        " WHERE v.model_id = ? AND b.ts_max >= ? AND b.ts_min <= ?", (champion.model_id, now - RATE_SECONDS, now))
    return MonitorView(
        models, model, monitoring.status(store, model), champion.info.get("primary_metric"), windows,
        monitoring.window_features(store, windows[0]["id"]) if windows else [],
        alerts.list_alerts(store, model=model), logged / RATE_SECONDS, alerts.rules_for(store, model),
        fleet.replicas(store, model),
    )


def error_rate_kpi(rate: float | None, rules: dict[str, Any]) -> tuple[str, str, str]:
    """The error-rate tile's (value, state, flag): a percent, its state by the model's alert
    thresholds (`core.monitoring.alerts.error_rate_severity`), and the state as a word for the tile's
    border, so it reads without colour."""
    from core.monitoring.alerts import error_rate_severity

    if rate is None:
        return NO_VALUE, "", ""
    state = {"critical": "alert", "warning": "warning", None: "ok"}[error_rate_severity(rate, rules)]
    return f"{rate:.1%}", state, "" if state == "ok" else STATE_WORDS[state]


def kpi_values(view: MonitorView) -> dict[str, tuple[str, str, str]]:
    """Each tile's (value, state, flag); estimated values say so, missing ones say why."""
    state = view.status.get("state", "ok")
    latest = view.windows[0] if view.windows else None
    values = {"state": (STATE_WORDS[state], state, ""), "rate": (f"{view.rate:,.1f}", "", "")}
    if latest is None:
        return {**values, **dict.fromkeys(("p95", "errors", "drifted", "real", "estimated"), ("no data", "", ""))}
    p95 = latest.get("latency_p95")
    values["p95"] = (f"{p95:,.1f} ms" if p95 is not None else "batch", "", "")
    values["errors"] = error_rate_kpi(latest["error_rate"], view.rules)
    drifted = latest["n_drifted"]
    values["drifted"] = (f"{drifted}/{latest['n_features']}", "alert" if drifted else "ok", "")
    real = latest["metrics"].get(view.metric)
    estimated = latest["estimated"].get(view.metric)
    values["real"] = (format_value(real) if real is not None else "no labels", "", "")
    values["estimated"] = (f"~{format_value(estimated)}" if estimated is not None else "n/a", "", "")
    return values


def series(view: MonitorView) -> tuple[list[str], dict[str, list[float | None]]]:
    """Window dates and, per window, drift share and the primary metric (real and estimated), oldest first."""
    ordered = list(reversed(view.windows))
    dates = [iso(w["start"])[5:10] for w in ordered]
    metric = view.metric or ""
    return dates, {
        "drift share": [w["drift_share"] for w in ordered],
        f"{metric} real": [w["metrics"].get(metric) for w in ordered],
        f"{metric} est.": [w["estimated"].get(metric) for w in ordered],
    }


class MonitorPane(Pane):
    pane_id = "monitor"
    title = "Monitor"
    key = "4"
    TABS = "monitor-tabs"
    empty_text = (
        "No monitored deployments to show here yet.\n\n"
        "Serve a model with:\n"
        "$ pitboard serve NAME@ALIAS\n"
        "or score batches with:\n"
        "$ pitboard monitor ingest NAME@ALIAS FILE\n"
        "and its drift, performance and alerts appear here."
    )

    BINDINGS = [
        *TAB_BINDINGS,
        bind("monitor_drift", "show_tab('drift')", "Drift", show=False),
        bind("monitor_trends", "show_tab('trends')", "Trends", show=False),
        bind("monitor_alerts", "show_tab('alerts')", "Alerts", show=False),
        bind("monitor_segments", "show_tab('segments')", "Segments", show=False),
        bind("monitor_model", "choose_model", "Model"),
        bind("monitor_ack", "acknowledge", "Ack alert"),
        bind("monitor_retrain", "retrain", "Retrain"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: MonitorView | None = None
        self.model: str | None = None
        self._reads = itertools.count()  # reads are numbered so an older one never overwrites a newer one
        self._shown_read = -1

    def compose(self) -> ComposeResult:
        yield EmptyState(Text(self.empty_text), id="monitor-empty")
        with Vertical(id="monitor-main"):
            yield Static("", id="monitor-line")
            yield FleetLine("", id="monitor-fleet")
            with Horizontal(id="kpis"):
                for kpi in KPIS:
                    yield KpiTile(kpi, id=f"kpi-{kpi}")
            with TabbedContent(id="monitor-tabs"):
                with TabPane("Drift", id="drift"):
                    yield FilterTable(id="drift-table")
                with TabPane("Trends", id="trends"):
                    yield Static("", id="trends-note")
                with TabPane("Alerts", id="alerts"):
                    yield FilterTable(id="alerts-table")
                    yield Static("", id="alert-detail")
                with TabPane("Segments", id="segments"):
                    yield SegmentsView(id="segments-view")

    def on_mount(self) -> None:
        self.set_interval(REFRESH_SECONDS, self._tick)

    def _tick(self) -> None:
        if self.app.current_pane is self:
            self.reload()

    # -- loading ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="monitor-view", exit_on_error=False)
    def reload(self) -> None:
        import tui.widgets.series  # noqa: F401  (plotext loads here, off the UI thread)

        read = next(self._reads)
        with Store.open(self.app.db_path, clock=self.app.clock) as store:
            try:
                view = read_view(store, self.model)
            except PitboardError as error:  # e.g. a broken [alerts] section in pitboard.toml
                self.app.call_from_thread(self.notify, str(error), severity="error")
                return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, view, read)

    # -- showing ---------------------------------------------------------------------

    def _show(self, view: MonitorView, read: int) -> None:
        if read < self._shown_read:
            return  # a slower, older read (e.g. a refresh racing an acknowledgement): already superseded
        self._shown_read = read
        if view == self.view:
            return  # nothing changed: nothing is redrawn
        self.view = view
        self.show_empty(not view.models)
        if view.model is None:
            return
        self.model = view.model
        self.query_one(SegmentsView).load(self.app.db_path, self.app.clock, view.model)
        self._show_line(view)
        self.query_one("#monitor-fleet", FleetLine).show_replicas(view.replicas)
        # short labels: seven tiles share 80 columns; "~" marks the estimated value too
        labels = {"state": "state", "rate": "req/s", "p95": "p95", "errors": "errors", "drifted": "drifted",
                  "real": view.metric or "metric", "estimated": "est."}
        for kpi, (value, state, flag) in kpi_values(view).items():
            tile = self.query_one(f"#kpi-{kpi}", KpiTile)
            tile.set_label(labels[kpi])
            tile.show(value, state, flag)
        self.query_one("#drift-table", FilterTable).set_rows(
            ("feature", "verdict", "test", "statistic", "p-value", "PSI", "missing"),
            ((f["feature"], _feature_cells(f)) for f in sorted(view.features, key=lambda f: (not f["drifted"], f["feature"]))),
            drop=("missing",),
        )
        self.query_one("#alerts-table", FilterTable).set_rows(
            ALERT_COLUMNS, ((str(a["id"]), _alert_cells(a)) for a in view.alerts), drop=ALERT_DROP, fit="message",
        )
        self._show_alert_detail()
        self._show_trends()
        if self.focus_is_free():
            self.query_one("#drift-table", FilterTable).table.focus()

    def _show_line(self, view: MonitorView) -> None:
        status = view.status
        champion = f"champion v{status['champion']}" if status.get("champion") else "no champion"
        text = Text.assemble((view.model or "", "bold"), f" · {champion} · {status.get('windows', 0)} windows")
        if view.windows:
            latest = view.windows[0]
            text.append(f" · latest {iso(latest['start'])[:16]} → {iso(latest['end'])[:16]}, {latest['n_rows']:,} rows")
        waiting = status.get("challenger_waiting")
        if waiting:
            text.append(f" · challenger v{waiting['version']} waiting", style="bold yellow")
        line = self.query_one("#monitor-line", Static)
        if text != line.content:  # an update asks for a relayout: only when the line changed
            line.update(text)

    def _show_trends(self) -> None:
        if self.view is None:
            return
        from tui.widgets.series import SeriesPlot

        pane = self.query_one("#trends", TabPane)
        plots = pane.query(SeriesPlot)
        if not plots:
            pane.mount(SeriesPlot(id="trends-plot"))
            self.call_after_refresh(self._show_trends)
            return
        plot = plots.first()
        plot.show(f"{self.view.model} per window", *series(self.view))
        self.query_one("#trends-note", Static).update(plot.key)

    # -- actions ---------------------------------------------------------------------

    def action_choose_model(self) -> None:
        if self.view is None or not self.view.models:
            return
        self.app.push_screen(ChooseScreen("Monitor which model?", [(m, m) for m in self.view.models]),
                             self._model_chosen)

    def _model_chosen(self, model: str | None) -> None:
        if model is not None and model != self.model:
            self.model = model
            self.reload()

    @on(FilterTable.Highlighted, "#alerts-table")
    def _alert_highlighted(self, event: FilterTable.Highlighted) -> None:
        event.stop()
        self._show_alert_detail()

    def _show_alert_detail(self) -> None:
        """The highlighted alert whole, under the table: what a narrow table leaves out or cuts."""
        alert = self._selected_alert()
        detail = self.query_one("#alert-detail", Static)
        detail.display = alert is not None
        text = alert_detail(alert) if alert is not None else Text()
        if text != detail.content:
            detail.update(text)

    def _selected_alert(self) -> dict[str, Any] | None:
        key = self.query_one("#alerts-table", FilterTable).selected_key
        alerts = self.view.alerts if self.view else []
        return next((a for a in alerts if str(a["id"]) == key), None)

    def action_acknowledge(self) -> None:
        if self.query_one("#monitor-tabs", TabbedContent).active != "alerts":
            self.action_show_tab("alerts")
        alert = self._selected_alert()
        if alert is None:
            self.notify("No alert selected.", severity="warning")
        elif alert["state"] != "open":
            self.notify(f"Alert {alert['id']} is already {alert['state']}.", severity="warning")
        else:
            self.run_acknowledge(alert["id"])

    @work(thread=True, exclusive=True, group="monitor-action", exit_on_error=False)
    def run_acknowledge(self, alert_id: int) -> None:
        from core.monitoring.alerts import acknowledge

        self.run_engine_action(
            lambda store: f"alert {acknowledge(store, alert_id, note='acknowledged in the app')['id']} acknowledged")

    def action_retrain(self) -> None:
        if self.model is None:
            self.notify("No monitored model.", severity="warning")
            return
        alert = self._selected_alert()
        because = f" for alert {alert['id']} ({alert['rule']})" if alert else ""
        model = self.model
        self.app.push_screen(
            ConfirmScreen(f"Retrain {model}?",
                          f"Starts a retrain job{because}: the champion's spec is trained again with the recent"
                          f" labelled windows and registered as challenger; champion does not move.",
                          confirm_label="Retrain"),
            lambda confirmed: confirmed and self.start_retrain(model, alert["id"] if alert else None),
        )

    @work(thread=True, exclusive=True, group="monitor-action", exit_on_error=False)
    def start_retrain(self, model: str, alert_id: int | None) -> None:
        from core.jobs.runner import start_job

        title = f"retrain {model}" + (f" (alert {alert_id})" if alert_id is not None else "")
        self.run_engine_action(
            lambda store: f"job {start_job(store, 'retrain', {'model': model, 'alert_id': alert_id}, title=title)} started: {title}")

    def palette_actions(self) -> list[PaletteAction]:
        if self.model is None:
            return []
        return [
            PaletteAction("Acknowledge the highlighted alert", "alerts ack (key a)", self.action_acknowledge),
            PaletteAction(f"Retrain {self.model}", "retrain (key R)", self.action_retrain),
            PaletteAction("Monitor another model", "key m", self.action_choose_model),
        ]


def _feature_cells(feature: dict[str, Any]) -> tuple[str | Text, ...]:
    verdict = Text("DRIFT", style="bold red") if feature["drifted"] else Text("ok", style="green")
    return (feature["feature"], verdict, feature["test"], format_value(feature["statistic"]),
            format_value(feature["p_value"]), format_value(feature["psi"]), f"{feature['missing']:,}")


def _alert_cells(alert: dict[str, Any]) -> tuple[str | Text, ...]:
    """One row of the alerts table, in the order of ALERT_COLUMNS."""
    from core.monitoring.alerts import window_span

    severity = Text(alert["severity"].upper(), style=SEVERITY_STYLE.get(alert["severity"], ""))
    state = Text(alert["state"], style="bold" if alert["state"] == "open" else "dim")
    return (str(alert["id"]), severity, state, alert["message"], alert["rule"], window_span(alert),
            iso(alert["opened_at"]))


def alert_detail(alert: dict[str, Any]) -> Text:
    """`alert 12 · prediction_psi · windows #11..#12 (2) · opened ...` over the whole message."""
    from core.monitoring.alerts import window_span

    return Text.assemble(
        (f"alert {alert['id']}", "bold"),
        f" · {alert['rule']} · windows {window_span(alert)} · opened {iso(alert['opened_at'])}\n",
        alert["message"],
    )
