"""Each kind of report, built from what the engine already recorded (nothing is recomputed
except a promotion that never happened, whose gates are judged now without moving anything).

Kinds and their references: `validation DATASET[@V]` (its latest recorded validation),
`run RUN`, `compare RUN RUN...`, `promotion NAME@VERSION` (the recorded promotion of that
version to `alias`, else its gates judged now), `model NAME[@REF]` (the version's card),
`monitoring NAME` (windows, estimated and real metrics, drift and alerts of a period).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.reports.document import Report, Section
from core.store.clock import iso
from core.store.database import Store
from core.store.errors import NotFound, PitboardError

KINDS = ("validation", "run", "compare", "promotion", "model", "monitoring")
MAX_COMPARED = 20


def build(store: Store, kind: str, refs: Sequence[str], *, alias: str = "champion", since: float | None = None,
          until: float | None = None) -> Report:
    """The report of `kind` on `refs`; a PitboardError names what is wrong with them."""
    if kind not in KINDS:
        raise PitboardError(f"report kind {kind!r}: valid kinds are {', '.join(KINDS)}")
    if kind == "compare":
        if not 2 <= len(refs) <= MAX_COMPARED:
            raise PitboardError(f"report compare: give 2 to {MAX_COMPARED} runs, not {len(refs)}")
        return compare_report(store, [_run_id(r) for r in refs])
    ref = single_ref(kind, refs)
    if kind == "monitoring":
        return monitoring_report(store, ref, since=since, until=until)
    if kind == "promotion":
        return promotion_report(store, ref, alias)
    builders: dict[str, Callable[[Store, Any], Report]] = {
        "validation": validation_report, "model": model_report, "run": lambda s, r: run_report(s, _run_id(r))}
    return builders[kind](store, ref)


def single_ref(kind: str, refs: Sequence[str], *, number: bool = False) -> str:
    """The one reference a kind takes (a number when `number`)."""
    if len(refs) != 1:
        raise PitboardError(f"report {kind}: give exactly one reference, not {len(refs)}")
    if number and (not refs[0].isdigit() or len(refs[0]) > 18):
        raise PitboardError(f"report {kind}: {refs[0]!r} is not a number")
    return refs[0]


def _run_id(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise PitboardError(f"run {text!r}: a run is a number (see `pitboard runs list`)")
    return int(text)


def validation_report(store: Store, ref: str) -> Report:
    from core.data.datasets import resolve
    from core.data.validation import latest_report

    dv = resolve(store, ref)
    found = latest_report(store, dv)
    if found is None:
        raise NotFound(f"{dv.ref}: has no recorded validation; run `pitboard data validate {dv.ref}` first")
    passed = sum(c.passed for c in found.checks)
    status = "fail" if found.errors else "warn" if found.warnings else "pass"
    report = Report("validation", dv.ref, f"Data validation: {dv.ref}", status, store.clock(), facts=found.to_dict())
    report.summary = [
        f"{passed} of {len(found.checks)} checks passed: {len(found.errors)} errors, {len(found.warnings)} warnings",
        f"compared with {found.against}" if found.against else "checked on its own (no reference version)",
        f"validated {iso(found.created_at)} UTC (validation {found.id})",
    ]
    report.table("Failed checks", ["severity", "check", "column", "value", "threshold", "message"],
                 [[c.severity, c.name, c.column or "", c.value, c.threshold, c.message] for c in found.failed])
    passed_by_check: dict[str, list[str]] = {}
    for c in found.checks:
        if c.passed:
            passed_by_check.setdefault(c.name, []).append(c.column or "(table)")
    report.table("Passed checks", ["check", "columns", "on"],
                 [[name, len(cols), ", ".join(cols[:6]) + (f" and {len(cols) - 6} more" if len(cols) > 6 else "")]
                  for name, cols in passed_by_check.items()])
    return report


def run_report(store: Store, run_id: int) -> Report:
    from dataclasses import asdict

    from core.experiments.runs import get_run

    run = get_run(store, run_id)
    status = "pass" if run.status.upper() == "FINISHED" else "fail"
    facts = {k: v for k, v in asdict(run).items() if k not in ("spec_text", "env")}
    facts["python"] = run.env.get("python")
    report = Report("run", str(run.id), f"Run {run.id}: {run.estimator} in {run.experiment}", status, store.clock(),
                    facts=facts)
    config = ", ".join(f"{k}={v}" for k, v in run.config.items()) or "(defaults)"
    report.summary = [
        f"{run.primary_metric} {_num(run.primary_value)} on a holdout of {run.holdout_size} rows; status {run.status}",
        f"{run.task} with {run.estimator}: {config}",
        f"data {run.tags.get('dataset', run.dataset_version_id)}, commit {run.git_commit or 'unknown'}"
        + (" (dirty)" if run.git_dirty else "") + f", seed {run.seed}, {run.duration:.1f} s",
    ]
    if run.error:
        report.summary.append(f"error: {run.error}")
    report.table("Metrics", ["metric", "value"], [[k, v] for k, v in run.metrics.items()])
    report.table("Permutation importance (holdout)", ["feature", "mean", "std"],
                 [[f["feature"], f["mean"], f["std"]] for f in run.feature_importance[:15]])
    return report


def compare_report(store: Store, run_ids: list[int]) -> Report:
    from core.experiments.runs import compare_runs

    found = compare_runs(store, run_ids)
    heads = [f"run {r['id']}" for r in found["runs"]]
    base = found["runs"][0]["id"]
    report = Report("compare", " ".join(map(str, run_ids)), f"Runs compared: {', '.join(heads)}", "info", store.clock(),
                    facts=found)
    primary = _primary_of(store, base)
    best = _best(found["metrics"], primary, heads)
    report.summary = [f"{len(heads)} runs: " + ", ".join(f"{h} {r['estimator']} ({r['status']})"
                                                        for h, r in zip(heads, found["runs"]))]
    if best:
        report.summary.append(best)
    report.summary.append(f"deltas are against run {base}; {len(found['params'])} params differ"
                          + (f", {found['hidden_identical_params']} are identical" if found["hidden_identical_params"] else ""))
    rows = []
    for m in found["metrics"]:
        row = [m["key"], m["values"][0]]
        for value, delta in zip(m["values"][1:], m["deltas"][1:]):
            row.append("" if value is None else f"{_num(value)} ({'+' if delta and delta > 0 else ''}{_num(delta)})")
        rows.append(row)
    report.table("Metrics", ["metric", *heads], rows)
    report.table("Params that differ", ["param", *heads], [[p["key"], *p["values"]] for p in found["params"]])
    return report


def _primary_of(store: Store, run_id: int) -> str:
    from core.experiments.runs import get_run

    return get_run(store, run_id).primary_metric


def _best(metrics: list[dict[str, Any]], primary: str, heads: list[str]) -> str | None:
    for m in metrics:
        if m["key"] == primary and any(v is not None for v in m["values"]):
            pairs = [(v, h) for v, h in zip(m["values"], heads) if v is not None]
            value, head = (min if m["lower_is_better"] else max)(pairs)
            return f"best {primary}: {head} with {_num(value)}"
    return None


def promotion_report(store: Store, ref: str, alias: str) -> Report:
    from core.registry.versions import check_alias_name, history, resolve

    check_alias_name(alias)
    mv = resolve(store, ref)
    moves = [h for h in history(store, mv.name, alias) if h["action"] == "promote" and h["to_version"] == mv.version]
    if moves:
        move = moves[-1]
        gates, recorded = move["gates"], True
        moved = f"{mv.name}@{alias} moved from v{move['from_version']} to v{mv.version}" if move["from_version"] else \
            f"{mv.name}@{alias} given to v{mv.version}"
        decision = f"promoted on {iso(move['ts'])} UTC by {move['user']}" + (f", forced: {move['reason']}" if move["forced"]
                                                                          else "")
    else:
        from core.monitoring.promotion import evaluate_gates

        gates, recorded = [g.to_dict() for g in evaluate_gates(store, mv, alias)], False
        passed = all(g["passed"] for g in gates)
        moved = f"{mv.ref} has not been promoted to {alias}"
        decision = f"gates judged now: {'it would be promoted' if passed else 'it would be refused'}"
    failed = [g["name"] for g in gates if not g["passed"]]
    status = "pass" if not failed else ("warn" if recorded else "fail")
    report = Report("promotion", mv.ref, f"Promotion: {mv.ref} to {alias}", status, store.clock(),
                    facts={"model": mv.name, "version": mv.version, "alias": alias, "recorded": recorded,
                           "move": moves[-1] if moves else None, "gates": gates})
    report.summary = [moved, decision,
                      f"{len(gates) - len(failed)} of {len(gates)} gates passed" + (f"; failed: {', '.join(failed)}"
                                                                                  if failed else "")]
    report.table("Gates", ["gate", "value", "threshold", "verdict", "note"],
                 [[g["name"], _gate_value(g["value"]), _gate_value(g["threshold"]), g["verdict"], g.get("message", "")]
                  for g in gates])
    return report


def _gate_value(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str)) else str(value)


def model_report(store: Store, ref: str) -> Report:
    from core.registry.modelcard import model_card
    from core.registry.packaging import build_manifest, promotion_gates
    from core.registry.versions import describe, resolve

    mv = resolve(store, ref)
    facts = describe(store, mv)
    promotions = promotion_gates(store, mv)
    facts["promotions"] = promotions
    report = Report("model", mv.ref, f"Model: {mv.ref}", "info", store.clock(), facts=facts)
    report.summary = [
        f"{facts['task']} with {facts['estimator']}; {facts['primary_metric']} {_num(facts['primary_value'])} on its holdout",
        f"aliases: {', '.join(mv.aliases) or '(none)'}; registered {iso(mv.created_at)} UTC by {mv.created_by}",
        f"trained on {facts['lineage']['dataset'] or 'unknown data'} (run {facts['lineage']['run'] or 'imported'}),"
        f" model SHA-256 {mv.model_sha256[:12]}",
    ]
    card = model_card(build_manifest(store, mv), promotions).splitlines()
    body = [("##" + line) if line.startswith("#") else line for line in card[1:]]  # under this report's own title
    report.sections.append(Section("Model card", text=[line for line in body[1:]] if body and not body[0] else body))
    return report


def monitoring_report(store: Store, model: str, *, since: float | None = None, until: float | None = None) -> Report:
    from core.monitoring.alerts import STATES, list_alerts
    from core.monitoring.status import list_windows, status

    if since is not None and until is not None and until <= since:
        raise PitboardError(f"report monitoring: --until {iso(until)} is not after --since {iso(since)}")
    state = status(store, model)
    windows = [w for w in reversed(list_windows(store, model, limit=10_000))
               if (since is None or w["end"] > since) and (until is None or w["start"] < until)]
    if windows:
        ids = {w["id"] for w in windows}
        alerts = [a for a in list_alerts(store, model=model, states=STATES)
                  if a["last_window_id"] in ids or a["window_id"] in ids]
    else:
        alerts = []
    period = f"{iso(windows[0]['start'])} .. {iso(windows[-1]['end'])} UTC" if windows else "no windows"
    word = {"ok": "pass", "warning": "warn", "alert": "fail", "unknown": "info"}[state["state"]]
    primary = state["primary_metric"]
    report = Report("monitoring", model, f"Monitoring: {model}", word, store.clock(),
                    facts={"status": state, "since": since, "until": until, "windows": [_window_facts(w) for w in windows],
                           "alerts": alerts})
    drifted = sorted({f for w in windows for f in w["drifted_features"]})
    report.summary = [
        f"state now: {state['state'].upper()} (champion v{state['champion']}, {len(state['alerts'])} open alerts)",
        f"{len(windows)} windows, {sum(w['n_rows'] for w in windows)} rows: {period}",
        f"features drifted in the period: {', '.join(drifted) if drifted else 'none'}",
        f"{len(alerts)} alerts raised in the period"
        + (f" ({sum(a['state'] != 'resolved' for a in alerts)} still open)" if alerts else ""),
    ]
    report.table("Windows", ["window", "version", "start", "rows", "drift share", "prediction PSI",
                             f"{primary} (real)", f"{primary} (estimated)", "labelled", "error rate"],
                 [[w["id"], w["version"], iso(w["start"]), w["n_rows"], w["drift_share"], w["prediction_psi"],
                   (w["metrics"] or {}).get(primary), (w["estimated"] or {}).get(primary), w["n_labelled"],
                   w.get("error_rate")] for w in windows])
    report.table("Alerts", ["alert", "severity", "state", "rule", "opened", "message"],
                 [[a["id"], a["severity"].upper(), a["state"], a["rule"], iso(a["opened_at"]), a["message"]]
                  for a in alerts])
    return report


def _window_facts(window: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "version", "start", "end", "n_rows", "drift_share", "prediction_psi", "metrics", "estimated",
            "n_labelled", "n_errors", "error_rate", "drifted_features")
    return {k: window.get(k) for k in keys}


def _num(value: Any) -> str:
    from core.reports.markdown import number

    return number(value) if value is not None else "n/a"
