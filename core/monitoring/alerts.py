"""Alert rules over windows, and the alert lifecycle (open -> acknowledged -> resolved).

Rules read only a window's aggregates and the version's reference, so they can run as
soon as a window is written and again when its labels arrive. One alert per model version
and rule stays open while the rule keeps failing: each failing window joins it (listed in
`alert_windows`, once however often it is evaluated) and its latest window sets the
alert's severity, value and message, so a persisting drift is one alert that says for how
many windows it has held, not a new alert per window. A later window that passes the rule
resolves it, so the status follows the traffic; people acknowledge (someone is on it) and
resolve by hand.
Acknowledged alerts still count in `monitor status`: the model is no healthier for it.

Thresholds come from `[alerts]` in pitboard.toml, per model from `[alerts.<model>]`:

- `min_rows`: drift rules judge only windows at least this big (distances such as
  Wasserstein are noisy on a few dozen rows and would cry wolf);
- `drift_share` / `drift_share_warning`: share of drifted features (Evidently calls the
  dataset drifted at one half);
- `top_k` / `top_k_drifted`: drift of the k features the run's permutation importance
  ranks highest; an important feature drifting matters before half the columns do;
- `prediction_psi` / `prediction_psi_warning`: PSI of the model's output (the usual
  reading: below 0.1 stable, 0.1-0.2 moderate shift, above 0.2 significant), raised to
  what chance alone reaches at the window's and the reference's sizes (`psi_noise`): PSI
  is biased upwards on small samples, and a small holdout must not cry wolf;
- `min_metric`: the primary metric (or `metric`) on labelled rows below this value
  (0 disables), and below the reference band `mean - band_sigmas * std` of the holdout's
  chunks, once `min_labelled` labels are in; until then the CBPE estimate stands in, as a
  warning only, judged against the band of the holdout chunks' own estimates, and only on
  windows of at least `min_rows` rows (an estimate from a handful of rows is noise);
- `max_latency_p99_ms`: p99 latency of served traffic;
- `max_error_rate` / `max_error_rate_warning`: share of prediction requests of served
  traffic answered with an error (invalid input, too large, 5xx; not 401, see
  `core.serving.service_errors`), judged once a window holds `min_requests` requests (one bad
  request in a quiet hour is not an outage);
- `consecutive`: a rule raises an alert only once it has failed in this many windows of
  the version in a row (windows where the rule had no verdict, e.g. under `min_rows`, are
  skipped, not counted). 1 by default: the demo's recession fails the drift rules in its
  first month and must be caught there; 2 trades a window of delay for quiet on a single
  odd window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.monitoring.cbpe import ESTIMATED
from core.store.config import SHARE, Range, above, at_least
from core.store.database import Store, os_user
from core.store.errors import NotFound, PitboardError
from core.store.model_settings import model_settings
from core.store.outbox import publish, severity_rank

DEFAULTS: dict[str, Any] = {
    "min_rows": 200,
    "drift_share": 0.5,
    "drift_share_warning": 0.3,
    "top_k": 3,
    "top_k_drifted": 1,
    "prediction_psi": 0.2,
    "prediction_psi_warning": 0.1,
    "metric": "",
    "min_metric": 0.0,
    "band_sigmas": 3.0,
    "min_labelled": 100,
    "max_latency_p99_ms": 250.0,
    "min_requests": 20,
    "max_error_rate": 0.05,
    "max_error_rate_warning": 0.01,
    "consecutive": 1,
}
RANGES: dict[str, Range] = {
    "min_rows": at_least(0), "min_labelled": at_least(0), "min_requests": at_least(0),
    "drift_share": SHARE, "drift_share_warning": SHARE, "max_error_rate": SHARE, "max_error_rate_warning": SHARE,
    "top_k": at_least(0, 100_000), "top_k_drifted": at_least(0, 100_000),
    "prediction_psi": at_least(0), "prediction_psi_warning": at_least(0),
    "min_metric": at_least(0), "band_sigmas": at_least(0, 100),
    "max_latency_p99_ms": above(0), "consecutive": at_least(1, 1000),
}

STATES = ("open", "acknowledged", "resolved")
# The monitoring plugin convention of Nagios, Icinga and Sensu, so cron and CI can read it.
EXIT_CODES = {"ok": 0, "warning": 1, "alert": 2, "unknown": 3}
LOWER_IS_BETTER = {"rmse", "mae", "log_loss"}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one window; `severity` None means the rule passed."""

    rule: str
    kind: str
    severity: str | None
    value: float | None
    threshold: float | None
    message: str


def evaluate(window: dict[str, Any], features: list[dict[str, Any]], reference: dict[str, Any], rules: dict[str, Any]) -> list[Finding]:
    """Every applicable rule on one window (pure: aggregates in, verdicts out).

    `window` is a monitor_windows row (metrics/estimated decoded), `features` its feature
    rows, `reference` has `importance` (feature -> value), `band` and `primary_metric`.
    """
    findings = []
    if window["n_rows"] >= rules["min_rows"]:
        findings.append(_drift_share(window, rules))
        top = _top_k(features, reference, rules)
        if top is not None:
            findings.append(top)
    if window.get("prediction_psi") is not None and window["n_rows"] >= rules["min_rows"]:
        findings.append(_prediction_psi(window, reference, rules))
    findings += _performance(window, reference, rules)
    if window.get("latency_p99") is not None:
        p99 = window["latency_p99"]
        limit = rules["max_latency_p99_ms"]
        findings.append(Finding("latency_p99", "service", "warning" if p99 > limit else None, p99, limit,
                                f"p99 latency {p99:.1f} ms (limit {limit:g} ms)"))
    error_rate = _error_rate(window, rules)
    if error_rate is not None:
        findings.append(error_rate)
    return findings


def error_rate_severity(rate: float, rules: dict[str, Any]) -> str | None:
    """"critical" above `max_error_rate`, "warning" above `max_error_rate_warning`, else None.

    Strictly above: a rate equal to a limit is allowed. The rule below adds its
    `min_requests`; the Monitor pane's tile grades every window's rate with this alone.
    """
    if rate > rules["max_error_rate"]:
        return "critical"
    if rate > rules["max_error_rate_warning"]:
        return "warning"
    return None


def _error_rate(window: dict[str, Any], rules: dict[str, Any]) -> Finding | None:
    """Failed requests above the limits (strictly: a rate equal to the maximum is allowed)."""
    rate = window.get("error_rate")
    if rate is None:
        return None
    total = window["n_requests"] + window["n_errors"]
    if total < rules["min_requests"]:
        return None
    critical, warning = rules["max_error_rate"], rules["max_error_rate_warning"]
    severity = error_rate_severity(rate, rules)
    threshold = warning if severity == "warning" else critical
    return Finding("error_rate", "service", severity, rate, threshold,
                   f"{window['n_errors']} of {total} requests failed ({window['n_server_errors']} with 5xx): "
                   f"error rate {rate:.3f} (warning above {warning:g}, critical above {critical:g})")


def _graded(rule: str, kind: str, value: float, critical: float, warning: float, what: str) -> Finding:
    severity = "critical" if value >= critical else "warning" if value >= warning else None
    threshold = critical if severity != "warning" else warning
    return Finding(rule, kind, severity, value, threshold, f"{what} {value:.3f} (warning at {warning:.3g}, critical at {critical:.3g})")


def psi_noise(n_reference: int, n_current: int, bins: int, quantile: float = 0.95) -> float:
    """The PSI two samples of one distribution reach by chance alone, at this quantile.

    PSI is a symmetrised Kullback-Leibler divergence over the bins; between samples of
    one distribution, n_eff * PSI follows a chi-square with bins - 1 degrees of freedom
    (n_eff = 1 / (1/n_reference + 1/n_current)). With a holdout of 86 rows and a window of
    426, PSI reaches 0.24 by chance; with 2,000 and 1,500 rows, 0.02.
    """
    from scipy.stats import chi2

    return float(chi2.ppf(quantile, bins - 1) * (1.0 / n_reference + 1.0 / n_current))


def _prediction_psi(window: dict[str, Any], reference: dict[str, Any], rules: dict[str, Any]) -> Finding:
    """PSI of the model's output, graded only above what the sample sizes produce by chance."""
    psi = window["prediction_psi"]
    n_reference, bins = reference.get("prediction_n"), reference.get("prediction_bins")
    noise = psi_noise(n_reference, window["n_rows"], bins) if n_reference and bins and bins > 1 else 0.0
    finding = _graded("prediction_psi", "drift", psi, max(rules["prediction_psi"], noise),
                      max(rules["prediction_psi_warning"], noise), "prediction PSI")
    if noise <= rules["prediction_psi_warning"]:
        return finding
    said = f"{finding.message}; chance alone reaches {noise:.3f} with {n_reference} reference and {window['n_rows']} rows"
    return Finding(finding.rule, finding.kind, finding.severity, finding.value, finding.threshold, said)


def _drift_share(window: dict[str, Any], rules: dict[str, Any]) -> Finding:
    finding = _graded("drift_share", "drift", window["drift_share"], rules["drift_share"], rules["drift_share_warning"],
                      "share of drifted features")
    return Finding(finding.rule, finding.kind, finding.severity, finding.value, finding.threshold,
                   f"{window['n_drifted']} of {window['n_features']} features drifted; {finding.message}")


def _top_k(features: list[dict[str, Any]], reference: dict[str, Any], rules: dict[str, Any]) -> Finding | None:
    importance = reference.get("importance") or {}
    ranked = sorted((f for f in features if importance.get(f["feature"]) is not None),
                    key=lambda f: (-importance[f["feature"]], f["feature"]))[: rules["top_k"]]
    if not ranked:
        return None
    drifted = [f["feature"] for f in ranked if f["drifted"]]
    needed = rules["top_k_drifted"]
    severity = "critical" if len(drifted) >= needed else None
    names = ", ".join(f["feature"] for f in ranked)
    message = (f"drifted among the top {len(ranked)} features ({names}): {', '.join(drifted)}" if drifted
               else f"none of the top {len(ranked)} features ({names}) drifted")
    return Finding("top_features", "drift", severity, float(len(drifted)), float(needed), message)


def _performance(window: dict[str, Any], reference: dict[str, Any], rules: dict[str, Any]) -> list[Finding]:
    metric = rules["metric"] or reference.get("primary_metric") or ""
    band = (reference.get("band") or {}).get(metric)
    lower_better = metric in LOWER_IS_BETTER
    findings = []
    value = window["metrics"].get(metric)
    if value is not None and window["n_labelled"] >= rules["min_labelled"]:
        findings.append(_metric_finding("performance", "critical", metric, value, band, rules, lower_better, "measured"))
    # The estimate stands in for labels only until enough have arrived, and is judged
    # against the band of the holdout's own estimates where the reference has one.
    estimate = window["estimated"].get(metric)
    estimated_band = (reference.get("band") or {}).get(ESTIMATED + metric, band)
    if (estimate is not None and estimated_band is not None and window["n_rows"] >= rules["min_rows"]
            and window["n_labelled"] < rules["min_labelled"]):
        findings.append(_metric_finding("estimated_performance", "warning", metric, estimate, estimated_band, rules,
                                        lower_better, "estimated (CBPE)"))
    return findings


def _metric_finding(rule: str, severity: str, metric: str, value: float, band: dict[str, Any] | None,
                    rules: dict[str, Any], lower_better: bool, how: str) -> Finding:
    limits = []
    if rules["min_metric"] and not lower_better:
        limits.append(rules["min_metric"])
    if band is not None:
        sigma = rules["band_sigmas"] * band["std"]
        limits.append(band["mean"] + sigma if lower_better else band["mean"] - sigma)
    if not limits:
        return Finding(rule, "performance", None, value, None, f"{metric} {value:.3f} {how}; no threshold set")
    threshold = min(limits) if lower_better else max(limits)
    bad = value > threshold if lower_better else value < threshold
    word = "above" if lower_better else "below"
    message = f"{metric} {value:.3f} {how}, {word if bad else 'within'} {'limit' if bad else 'the limit'} {threshold:.3f}"
    return Finding(rule, "performance", severity if bad else None, value, threshold, message)


def unconfirmed(findings: list[Finding], earlier: list[list[Finding]], consecutive: int) -> set[str]:
    """The failing rules of `findings` that have not failed `consecutive` windows in a row yet.

    `earlier` holds the findings of the version's previous windows, newest first. A window
    without a verdict of the rule (too few rows, no labels) neither counts nor breaks the
    streak; a window that passed breaks it.
    """
    waiting = set()
    for finding in findings:
        if finding.severity is None or consecutive <= 1:
            continue
        streak = 1
        for past in earlier:
            verdict = next((f for f in past if f.rule == finding.rule), None)
            if verdict is None:
                continue
            if verdict.severity is None:
                break
            streak += 1
            if streak >= consecutive:
                break
        if streak < consecutive:
            waiting.add(finding.rule)
    return waiting


# -- recording -----------------------------------------------------------------------------


def record(store: Store, model_id: int, model: str, window: dict[str, Any], findings: list[Finding]) -> list[int]:
    """Raise an alert per failed rule and resolve the rules this window passes.

    One alert per (model version, rule) stays open while the rule keeps failing: a failing
    window joins that alert (`alert_windows`) and, when it is the alert's latest window,
    gives it its severity, value and message. Only a rule with no unresolved alert of the
    version opens a new one. A window is counted once per rule whatever the number of
    evaluations, and a window that already belongs to a resolved alert of the rule does not
    raise it again. Must run inside the transaction that wrote or updated the window.

    Returns the ids of the alerts this window raised, opened or joined for the first time:
    while a condition holds, each new window raises its alert again (retraining counts on
    it), but evaluating the same window again raises nothing.
    """
    raised = []
    for finding in findings:
        if finding.severity is None:
            _resolve_passed(store, model_id, model, window, finding)
            continue
        alert_id = _raise(store, model_id, model, window, finding)
        if alert_id is not None:
            raised.append(alert_id)
    return raised


def _resolve_passed(store: Store, model_id: int, model: str, window: dict[str, Any], finding: Finding) -> None:
    """Resolve the model's unresolved alerts of a rule whose latest failing window is not after this one."""
    resolved = store.conn.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = 'pitboard', resolution = ?"
        " WHERE model_id = ? AND rule = ? AND state != 'resolved'"
        " AND last_window_id IN (SELECT id FROM monitor_windows WHERE model_id = ? AND end <= ?)",
        (store.clock(), f"window {window['id']} passed: {finding.message}", model_id, finding.rule, model_id,
         window["end"]),
    ).rowcount
    if resolved:
        store.audit("alert.auto_resolve", f"{model} {finding.rule}", {"window": window["id"], "alerts": resolved})
        publish(store, "alert.resolved", f"{model}: {finding.rule} passes again in window {window['id']}", model=model,
                details={"rule": finding.rule, "window": window["id"], "alerts": resolved, "message": finding.message})


# An alert with what joining it needs: its state, severity and the end of its latest window.
_JOINED_ALERT = ("SELECT a.id, a.state, a.severity, w.end AS last_end"
                 " FROM alerts a JOIN monitor_windows w ON w.id = a.last_window_id")


def _raise(store: Store, model_id: int, model: str, window: dict[str, Any], finding: Finding) -> int | None:
    """The alert this failing window opened or joined; None if the window had joined it before.

    A window evaluated again (its labels arrived) updates what it says in its alert but
    does not raise it again; a window of an alert resolved since changes nothing.
    """
    known = store.row(
        f"{_JOINED_ALERT} JOIN alert_windows aw ON aw.alert_id = a.id WHERE aw.window_id = ? AND a.rule = ?",
        (window["id"], finding.rule))
    if known is not None and known["state"] == "resolved":
        return None
    alert = known or store.row(
        f"{_JOINED_ALERT} WHERE a.version_id = ? AND a.rule = ? AND a.state != 'resolved'",
        (window["version_id"], finding.rule))
    now = store.clock()
    if alert is None:
        alert_id = int(store.conn.execute(
            "INSERT INTO alerts (model_id, version_id, window_id, last_window_id, rule, kind, severity, value,"
            " threshold, message, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (model_id, window["version_id"], window["id"], window["id"], finding.rule, finding.kind,
             finding.severity, finding.value, finding.threshold, finding.message, now),
        ).lastrowid)
        store.audit("alert.open", f"alert {alert_id}", {
            "model": model, "rule": finding.rule, "severity": finding.severity, "window": window["id"],
            "message": finding.message,
        })
        publish(store, "alert.opened", f"{model}: {finding.severity.upper()} {finding.message}", model=model,
                severity=finding.severity, details={"alert": alert_id, "rule": finding.rule, "window": window["id"],
                                                    "value": finding.value, "threshold": finding.threshold})
    else:
        alert_id = alert["id"]
    store.conn.execute(
        "INSERT INTO alert_windows (alert_id, window_id, severity, value, message, seen_at) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (alert_id, window_id) DO UPDATE SET severity = excluded.severity, value = excluded.value,"
        " message = excluded.message, seen_at = excluded.seen_at",
        (alert_id, window["id"], finding.severity, finding.value, finding.message, now),
    )
    if alert is not None:
        _follow_latest_window(store, alert, model, finding, window)
    return None if known is not None else alert_id


def _follow_latest_window(store: Store, alert: Any, model: str, finding: Finding, window: dict[str, Any]) -> None:
    """Give a joined alert (a `_JOINED_ALERT` row) this window's verdict if the window is its
    latest; a change of severity is audited."""
    if window["end"] < alert["last_end"]:
        return
    alert_id = alert["id"]
    store.conn.execute(
        "UPDATE alerts SET last_window_id = ?, severity = ?, value = ?, threshold = ?, message = ? WHERE id = ?",
        (window["id"], finding.severity, finding.value, finding.threshold, finding.message, alert_id),
    )
    if finding.severity != alert["severity"]:
        store.audit("alert.severity", f"alert {alert_id}", {
            "model": model, "rule": finding.rule, "from": alert["severity"], "to": finding.severity,
            "window": window["id"]})
        if severity_rank(finding.severity) > severity_rank(alert["severity"]):
            publish(store, "alert.escalated", f"{model}: alert {alert_id} {alert['severity']} -> {finding.severity}:"
                    f" {finding.message}", model=model, severity=finding.severity,
                    details={"alert": alert_id, "rule": finding.rule, "window": window["id"], "from": alert["severity"]})


def resolve_ids(store: Store, alert_ids: list[int], resolution: str) -> None:
    """Resolve the given alerts on pitboard's behalf, saying why (inside a transaction)."""
    marks = ", ".join("?" for _ in alert_ids)
    store.conn.execute(
        f"UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = 'pitboard', resolution = ? WHERE id IN ({marks})",
        (store.clock(), resolution, *alert_ids),
    )
    store.audit("alert.auto_resolve", f"alerts {', '.join(map(str, alert_ids))}", {"resolution": resolution})
    _announce_resolved(store, alert_ids, resolution)


def resolve_for_version(store: Store, version_id: int, resolution: str) -> int:
    """Resolve the open alerts of a version that no longer serves (inside a transaction)."""
    ids = [r[0] for r in store.rows("SELECT id FROM alerts WHERE version_id = ? AND state != 'resolved'", (version_id,))]
    count = store.conn.execute(
        "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ?"
        " WHERE version_id = ? AND state != 'resolved'",
        (store.clock(), os_user(), resolution, version_id),
    ).rowcount
    _announce_resolved(store, ids, resolution)
    return count


def _announce_resolved(store: Store, alert_ids: list[int], resolution: str) -> None:
    """One `alert.resolved` event per model whose alerts pitboard resolved."""
    if not alert_ids:
        return
    marks = ", ".join("?" for _ in alert_ids)
    by_model: dict[str, list[int]] = {}
    for row in store.rows(f"SELECT a.id, m.name FROM alerts a JOIN models m ON m.id = a.model_id WHERE a.id IN ({marks})"
                          " ORDER BY a.id", alert_ids):
        by_model.setdefault(row["name"], []).append(row["id"])
    for model, ids in by_model.items():
        publish(store, "alert.resolved", f"{model}: alerts {', '.join(map(str, ids))} resolved: {resolution}",
                model=model, details={"alerts": ids, "resolution": resolution})


# -- reading and people's actions ----------------------------------------------------------


_LIST_SQL = """
    SELECT a.id, m.name AS model, v.version, a.window_id, a.last_window_id,
           (SELECT COUNT(*) FROM alert_windows aw WHERE aw.alert_id = a.id) AS windows, a.rule, a.kind, a.severity,
           a.state, a.value,
           a.threshold, a.message, a.opened_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at,
           a.resolved_by, a.resolution
    FROM alerts a JOIN models m ON m.id = a.model_id JOIN model_versions v ON v.id = a.version_id
"""


def list_alerts(store: Store, *, model: str | None = None, states: tuple[str, ...] = ("open", "acknowledged")) -> list[dict[str, Any]]:
    """Alerts newest first, optionally of one model, in the given states."""
    for state in states:
        if state not in STATES:
            raise PitboardError(f"alert state {state!r}: valid states are {', '.join(STATES)}")
    marks = ", ".join("?" for _ in states)
    clauses, params = [f"a.state IN ({marks})"], list(states)
    if model is not None:
        clauses.append("m.name = ?")
        params.append(model)
    rows = store.rows(_LIST_SQL + f" WHERE {' AND '.join(clauses)} ORDER BY a.id DESC", params)
    return [dict(r) for r in rows]


def opened_by(store: Store, alert_ids: list[int], window_ids: list[int]) -> list[int]:
    """Those of the alerts that one of the windows opened (the others were already open)."""
    if not alert_ids or not window_ids:
        return []
    alerts, windows = ", ".join("?" * len(alert_ids)), ", ".join("?" * len(window_ids))
    return [r[0] for r in store.rows(
        f"SELECT id FROM alerts WHERE id IN ({alerts}) AND window_id IN ({windows}) ORDER BY id",
        (*alert_ids, *window_ids))]


def alert_count(raised: list[int], opened: list[int]) -> str:
    """`3 alerts (1 new)` for progress lines; `0 alerts` when none was raised."""
    return f"{len(raised)} alerts ({len(opened)} new)" if raised else "0 alerts"


def window_span(alert: dict[str, Any]) -> str:
    """The windows an alert's rule failed in, for tables: `#12`, or `#12..#15 (4)`."""
    if alert["windows"] <= 1:
        return f"#{alert['window_id']}"
    return f"#{alert['window_id']}..#{alert['last_window_id']} ({alert['windows']})"


def get_alert(store: Store, alert_id: int) -> dict[str, Any]:
    """One alert, or NotFound."""
    row = store.row(_LIST_SQL + " WHERE a.id = ?", (alert_id,))
    if row is None:
        raise NotFound(f"alert {alert_id}: no such alert")
    return dict(row)


def acknowledge(store: Store, alert_id: int, *, note: str = "") -> dict[str, Any]:
    """Mark an open alert as being looked at."""
    with store.transaction():
        alert = get_alert(store, alert_id)
        if alert["state"] != "open":
            raise PitboardError(f"alert {alert_id}: is {alert['state']}, only open alerts can be acknowledged")
        store.conn.execute(
            "UPDATE alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
            (store.clock(), os_user(), alert_id),
        )
        store.audit("alert.ack", f"alert {alert_id}", {"model": alert["model"], "rule": alert["rule"], "note": note})
    return get_alert(store, alert_id)


def resolve(store: Store, alert_id: int, *, note: str = "") -> dict[str, Any]:
    """Close an open or acknowledged alert by hand."""
    with store.transaction():
        alert = get_alert(store, alert_id)
        if alert["state"] == "resolved":
            raise PitboardError(f"alert {alert_id}: is already resolved ({alert['resolution']})")
        store.conn.execute(
            "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?",
            (store.clock(), os_user(), note or "resolved by hand", alert_id),
        )
        store.audit("alert.resolve", f"alert {alert_id}", {"model": alert["model"], "rule": alert["rule"], "note": note})
        publish(store, "alert.resolved", f"{alert['model']}: alert {alert_id} ({alert['rule']}) resolved by hand"
                + (f": {note}" if note else ""), model=alert["model"], details={"alerts": [alert_id], "note": note})
    return get_alert(store, alert_id)


def rules_for(store: Store, model: str) -> dict[str, Any]:
    """The alert thresholds of `model`: defaults, `[alerts]`, `[alerts.<model>]`."""
    return model_settings(store, "alerts", model, DEFAULTS, RANGES)


def decode_window(row: Any) -> dict[str, Any]:
    """A monitor_windows row as a dict with its JSON columns decoded."""
    window = dict(row)
    window["metrics"] = json.loads(window["metrics"])
    window["estimated"] = json.loads(window["estimated"])
    return window
