"""Monitoring: storing windows with their alerts, status, listing and retention.

Traffic becomes windows in `core.monitoring.ingest` (prediction log, feedback labels, batch files)
through the pure reduction of `core.monitoring.windows`; this module writes them and answers what
the app and `pitboard monitor status` ask. Status reads only small aggregates (windows,
their features, alerts), never the raw prediction log, so it stays instant however much
traffic was logged.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from core.monitoring import alerts as alert_rules
from core.monitoring.multivariate import MultivariateReference, MultivariateStats, verdict
from core.monitoring.references import Reference
from core.monitoring.settings import monitoring_settings
from core.monitoring.windows import WindowStats
from core.store.database import Store
from core.store.errors import PitboardError

# -- writing windows ----------------------------------------------------------------------


def reference_facts(reference: Reference) -> dict[str, Any]:
    """What the alert rules need of a reference."""
    prediction = reference.prediction
    return {"importance": reference.importance, "band": reference.band, "primary_metric": reference.primary_metric,
            "prediction_n": prediction.n if prediction is not None else None,
            "prediction_bins": len(prediction.psi_edges) + 1 if prediction is not None else None}


def write_window(
    store: Store,
    *,
    model_id: int,
    model: str,
    version_id: int,
    stream: str,
    stats: WindowStats,
    reference: Reference,
    deployment_id: int | None = None,
    outputs: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
) -> tuple[int, list[int]]:
    """Insert one window, its features (and outputs), and open its alerts; inside a transaction.

    Returns (window id, ids of the alerts it raised: opened, or joined; see `core.monitoring.alerts.record`).
    """
    now = store.clock()
    cursor = store.conn.execute(
        """INSERT INTO monitor_windows (model_id, version_id, stream, deployment_id, kind, window_key, start, end, seq_lo, seq_hi,
               n_rows, n_features, n_drifted, drift_share, prediction_test, prediction_stat, prediction_drifted,
               prediction_psi, positive_rate, mean_prediction, latency_p50, latency_p95, latency_p99, future_rows,
               n_labelled, metrics, estimated, n_requests, n_errors, n_server_errors, error_rate, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (model_id, version_id, stream, deployment_id, stats.kind, stats.key, stats.start, stats.end, stats.seq_lo, stats.seq_hi,
         stats.n_rows, len(stats.features), stats.n_drifted, stats.drift_share, stats.prediction_test,
         stats.prediction_stat, None if stats.prediction_drifted is None else int(stats.prediction_drifted),
         stats.prediction_psi, stats.positive_rate, stats.mean_prediction, stats.latency_p50, stats.latency_p95,
         stats.latency_p99, stats.future_rows, stats.n_labelled, json.dumps(stats.metrics), json.dumps(stats.estimated),
         stats.n_requests, stats.n_errors, stats.n_server_errors, stats.error_rate, now, now),
    )
    window_id = int(cursor.lastrowid)
    store.conn.executemany(
        "INSERT INTO monitor_window_features (window_id, feature, count, missing, test, statistic, p_value, drifted, psi, histogram)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(window_id, f.feature, f.count, f.missing, f.test, f.statistic, f.p_value, int(f.drifted), f.psi,
          json.dumps(f.histogram)) for f in stats.features],
    )
    if stats.multivariate is not None and isinstance(reference.multivariate, MultivariateReference):
        _write_multivariate(store, window_id, reference.multivariate, stats.multivariate)
    store.conn.executemany(
        "INSERT INTO monitor_window_segments (window_id, column_name, segment, n_rows, histograms, n_labelled, metrics)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(window_id, s.column, s.segment, s.n_rows, json.dumps(s.histograms), s.n_labelled, json.dumps(s.metrics))
         for s in stats.segments])
    if outputs is not None:
        seqs, scores, codes = outputs
        store.conn.execute(
            "INSERT INTO monitor_window_outputs (window_id, seqs, scores, codes) VALUES (?, ?, ?, ?)",
            (window_id, seqs.astype(np.int64).tobytes(), scores.astype(np.float64).tobytes(),
             None if codes is None else codes.astype(np.int64).tobytes()),
        )
    return window_id, evaluate_window(store, model_id, model, window_id, reference)


def _write_multivariate(store: Store, window_id: int, reference: MultivariateReference, stats: MultivariateStats) -> None:
    judged = verdict(reference, stats)
    store.conn.execute(
        "INSERT INTO monitor_window_multivariate (window_id, n_rows, error_sum, sse, error, lower, upper, drifted, top)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (window_id, stats.n_rows, stats.error_sum, json.dumps(dict(zip(reference.features, stats.sse))), judged["error"],
         judged["lower"], judged["upper"], int(judged["drifted"]), json.dumps(judged["top"])))


def evaluate_window(store: Store, model_id: int, model: str, window_id: int, reference: Reference) -> list[int]:
    """Run the alert rules on a stored window (again, after labels arrive); inside a transaction.

    Returns the alerts it raised that stay open (opened, or joined while their rule kept
    failing; see `core.monitoring.alerts.record`). A window of traffic a version served before
    its alias moved on (reduced, or labelled, after the move) still gets its alerts, for
    the record, but they are resolved at once, as the version's open alerts were when it
    was replaced: they describe a model that no longer answers, so they neither hold the
    status at alert nor start a retrain of its successor.
    """
    window = alert_rules.decode_window(store.row(
        "SELECT w.*, v.version FROM monitor_windows w JOIN model_versions v ON v.id = w.version_id WHERE w.id = ?",
        (window_id,)))
    rules = alert_rules.rules_for(store, model)
    findings = _findings(store, window, reference, rules)
    if rules["consecutive"] > 1:  # a rule that has not failed long enough yet neither raises nor resolves
        waiting = alert_rules.unconfirmed(findings, _earlier_findings(store, window, reference, rules), rules["consecutive"])
        findings = [f for f in findings if f.rule not in waiting]
    raised = alert_rules.record(store, model_id, model, window, findings)
    replaced = _replaced_by(store, window)
    if raised and replaced:
        alert_rules.resolve_ids(store, raised, f"{model} v{window['version']} no longer serves: {replaced}")
        return []
    return raised


def _findings(store: Store, window: dict[str, Any], reference: Reference, rules: dict[str, Any]) -> list[alert_rules.Finding]:
    features = [dict(r) for r in store.rows("SELECT * FROM monitor_window_features WHERE window_id = ?", (window["id"],))]
    return alert_rules.evaluate(window, features, reference_facts(reference), rules)


EARLIER_WINDOWS = 100
"""How far back a `consecutive` streak is looked for (windows without a verdict are skipped)."""


def _earlier_findings(store: Store, window: dict[str, Any], reference: Reference,
                      rules: dict[str, Any]) -> list[list[alert_rules.Finding]]:
    """The rules' verdicts on the version's windows that ended before this one, newest first.

    Any stream: monthly batch files are separate streams, and their months still follow
    one another."""
    rows = store.rows(
        "SELECT * FROM monitor_windows WHERE version_id = ? AND (end < ? OR (end = ? AND id < ?))"
        " ORDER BY end DESC, id DESC LIMIT ?",
        (window["version_id"], window["end"], window["end"], window["id"], EARLIER_WINDOWS))
    return [_findings(store, alert_rules.decode_window(row), reference, rules) for row in rows]


def _replaced_by(store: Store, window: dict[str, Any]) -> str | None:
    """How the alias the window's deployment followed moved away from the window's version, or None."""
    row = store.row(
        """SELECT d.alias, v.version FROM deployments d JOIN model_aliases a ON a.model_id = d.model_id AND a.alias = d.alias
           JOIN model_versions v ON v.id = a.version_id WHERE d.id = ? AND a.version_id != ?""",
        (window["deployment_id"], window["version_id"]),
    )
    return None if row is None else f"{row['alias']} is v{row['version']} now"


# -- reading ------------------------------------------------------------------------------


def list_windows(store: Store, model: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest windows of a model, newest first, with their drifted features."""
    from core.registry.versions import model_id

    rows = store.rows(
        """SELECT w.*, v.version FROM monitor_windows w JOIN model_versions v ON v.id = w.version_id
           WHERE w.model_id = ? ORDER BY w.end DESC, w.id DESC LIMIT ?""",
        (model_id(store, model), limit),
    )
    windows = []
    for row in rows:
        window = alert_rules.decode_window(row)
        window["drifted_features"] = [
            r["feature"] for r in store.rows(
                "SELECT feature FROM monitor_window_features WHERE window_id = ? AND drifted = 1 ORDER BY feature",
                (row["id"],),
            )
        ]
        window["multivariate"] = window_multivariate(store, row["id"])
        windows.append(window)
    return windows


def segment_report(store: Store, model: str, window_id: int | None = None) -> dict[str, Any]:
    """The segments of a window of `model` (default: its newest window with segments), ranked
    by how far they moved (`core.monitoring.segments.judge`) under the model's settings."""
    from core.monitoring.segments import SegmentReference, SegmentStats, judge
    from core.registry.versions import model_id

    wanted = model_id(store, model)
    if window_id is None:
        window_id = store.value(
            "SELECT w.id FROM monitor_windows w WHERE w.model_id = ? AND EXISTS"
            " (SELECT 1 FROM monitor_window_segments s WHERE s.window_id = w.id) ORDER BY w.end DESC, w.id DESC LIMIT 1",
            (wanted,))
        if window_id is None:
            raise PitboardError(f"{model}: no window has segments yet; set [monitoring] segments in {store.config_path}"
                                " and ingest traffic")
    window = store.row("SELECT * FROM monitor_windows WHERE id = ? AND model_id = ?", (window_id, wanted))
    if window is None:
        raise PitboardError(f"window {window_id}: no such window of {model}")
    settings = monitoring_settings(store, model)
    references = [SegmentReference.from_json(r["spec"]) for r in store.rows(
        "SELECT spec FROM monitor_reference_segments WHERE version_id = ? AND bins = ?",
        (window["version_id"], settings["segment_bins"]))]
    segments = [SegmentStats(r["column_name"], r["segment"], r["n_rows"], json.loads(r["histograms"]), r["n_labelled"],
                             json.loads(r["metrics"]))
                for r in store.rows("SELECT * FROM monitor_window_segments WHERE window_id = ?", (window_id,))]
    ranked = judge(references, segments, min_rows=settings["segment_min_rows"], fdr=settings["fdr"],
                   min_effect=settings["min_effect"], overall=json.loads(window["metrics"]))
    return {"model": model, "window": window_id, "rows": window["n_rows"], "fdr": settings["fdr"],
            "min_rows": settings["segment_min_rows"], "segments": ranked}


def window_multivariate(store: Store, window_id: int) -> dict[str, Any] | None:
    """A window's multivariate drift: error, band, verdict, top features; None without one."""
    row = store.row("SELECT error, lower, upper, drifted, top FROM monitor_window_multivariate WHERE window_id = ?",
                    (window_id,))
    if row is None:
        return None
    return {"error": row["error"], "lower": row["lower"], "upper": row["upper"], "drifted": bool(row["drifted"]),
            "top": [{"feature": name, "rise": rise} for name, rise in json.loads(row["top"])]}


def window_features(store: Store, window_id: int) -> list[dict[str, Any]]:
    """Per-feature statistics of one window (histograms decoded)."""
    rows = store.rows("SELECT * FROM monitor_window_features WHERE window_id = ? ORDER BY feature", (window_id,))
    return [{**dict(r), "drifted": bool(r["drifted"]), "histogram": json.loads(r["histogram"])} for r in rows]


def status(store: Store, model: str) -> dict[str, Any]:
    """The model's monitoring state: ok / warning / alert / unknown, with why and the latest window.

    `exit_code` follows the monitoring plugin convention (Nagios, Icinga, Sensu): 0 ok,
    1 warning, 2 alert (CRITICAL), 3 unknown: a model with no windows yet has no state to
    report. Open and acknowledged alerts both count.
    """
    from core.registry.versions import alias_holder, model_id

    monitoring_settings(store, model)  # broken [monitoring] or [alerts] sections must fail here, not pass silently
    alert_rules.rules_for(store, model)
    mid = model_id(store, model)
    open_alerts = alert_rules.list_alerts(store, model=model)
    severities = {a["severity"] for a in open_alerts}
    n_windows = store.value("SELECT COUNT(*) FROM monitor_windows WHERE model_id = ?", (mid,))
    state = ("alert" if "critical" in severities else "warning" if "warning" in severities
             else "ok" if n_windows else "unknown")
    latest = list_windows(store, model, limit=1)
    champion = alias_holder(store, model, "champion")
    waiting = store.row(
        "SELECT r.id, v.version FROM retrains r JOIN model_versions v ON v.id = r.challenger_version_id"
        " WHERE r.model_id = ? AND r.state = 'waiting' ORDER BY r.id DESC LIMIT 1",
        (mid,),
    )
    window = latest[0] if latest else None
    return {
        "model": model,
        "state": state,
        "exit_code": alert_rules.EXIT_CODES[state],
        "champion": champion.version if champion else None,
        "primary_metric": champion.info.get("primary_metric") if champion else None,
        "alerts": [{k: a[k] for k in ("id", "severity", "state", "rule", "version", "windows", "message")}
                   for a in open_alerts],
        "challenger_waiting": None if waiting is None else {"retrain": waiting["id"], "version": waiting["version"]},
        "windows": n_windows,
        "latest_window": None if window is None else {
            "id": window["id"], "version": window["version"], "start": window["start"], "end": window["end"],
            "rows": window["n_rows"], "drift_share": window["drift_share"], "drifted": window["drifted_features"],
            "prediction_psi": window["prediction_psi"], "labelled": window["n_labelled"], "metrics": window["metrics"],
            "estimated": window["estimated"], "errors": window["n_errors"], "error_rate": window["error_rate"],
        },
    }


# -- retention --------------------------------------------------------------------------


def drop_old_log(store: Store) -> dict[str, int]:
    """`pitboard gc`: drop reduced prediction-log flushes past retention; windows stay.

    Only flushes already reduced into windows (below the deployment's cursor) are dropped,
    so retention never loses traffic that was not counted; the same holds for the flushes
    of failed requests (counted up to `done_until` in time windows, `error_seq` in row
    windows). Window outputs and feedback labels go when their window stops taking labels
    (`label_days`).
    """
    now = store.clock()
    dropped_batches = dropped_errors = dropped_outputs = dropped_feedback = 0
    with store.transaction():
        for dep in store.rows(
            "SELECT d.id, m.name, c.next_seq, c.done_until, c.error_seq FROM deployments d"
            " JOIN models m ON m.id = d.model_id JOIN monitor_cursors c ON c.deployment_id = d.id"
        ):
            settings = monitoring_settings(store, dep["name"])
            cutoff = now - settings["retention_days"] * 86400.0
            dropped_batches += store.conn.execute(
                "DELETE FROM prediction_batches WHERE deployment_id = ? AND ts_max < ? AND first_seq + n_rows <= ?",
                (dep["id"], cutoff, dep["next_seq"]),
            ).rowcount
            dropped_errors += store.conn.execute(
                "DELETE FROM request_errors WHERE deployment_id = ? AND ts_max < ? AND (ts_max < ? OR seq_max < ?)",
                (dep["id"], cutoff, dep["done_until"], dep["error_seq"]),
            ).rowcount
            label_cutoff = now - settings["label_days"] * 86400.0
            for window in store.rows(
                "SELECT w.id, o.seqs FROM monitor_windows w JOIN monitor_window_outputs o ON o.window_id = w.id"
                " WHERE w.deployment_id = ? AND w.end < ?",
                (dep["id"], label_cutoff),
            ):
                seqs = np.frombuffer(window["seqs"], dtype=np.int64)
                dropped_feedback += store.conn.executemany(
                    "DELETE FROM feedback WHERE deployment_id = ? AND seq = ?", [(dep["id"], int(s)) for s in seqs],
                ).rowcount
                dropped_outputs += store.conn.execute(
                    "DELETE FROM monitor_window_outputs WHERE window_id = ?", (window["id"],)).rowcount
        if dropped_batches or dropped_errors or dropped_outputs:
            store.audit("monitor.gc", "prediction log", {
                "batches": dropped_batches, "error_flushes": dropped_errors, "window_outputs": dropped_outputs,
                "feedback": dropped_feedback})
    return {"log_batches_deleted": dropped_batches, "error_flushes_deleted": dropped_errors,
            "window_outputs_deleted": dropped_outputs, "feedback_deleted": dropped_feedback}
