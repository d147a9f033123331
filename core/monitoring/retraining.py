"""Continuous training: retrain on recent labelled traffic, register a challenger, maybe promote.

A model's policy (`[retraining]`, per model `[retraining.<model>]`):

    retrain_on = []           # alert kinds that start a retrain: "drift", "performance"
    auto_promote = false      # promote a challenger that wins, through the normal gates
    windows = 3               # recent labelled windows added to the training data
    search = "champion"       # "champion": refit the champion's configuration; "spec": its whole search
    cooldown_windows = 3      # an alert starts a retrain only once this many windows closed since the last

The cooldown stops a retrain storm: while drift persists every new window raises its alert
again, and retraining on each would learn from nearly the same rows and promote on noise.
It counts windows ingested since the model's last retrain that did not fail; `pitboard
retrain NAME` by hand ignores it.

A retrain (`retrain`, run as the `retrain` job kind or by `pitboard retrain NAME`):

1. takes the champion's run, its spec and training data;
2. collects the rows of the most recent labelled windows of served traffic (features from
   the prediction log, labels from /feedback); the newest labelled window is held out,
   the `windows` before it are added to the training data, registered as a dataset
   version (`<model>-retrain`) and validated;
3. trains the spec on it, registers the best run as a new version with alias `challenger`;
4. scores champion and challenger on the held-out window with the metric kernels;
5. with `auto_promote`, a challenger that wins there goes through `core.registry.gates.promote`
   (the gates every promotion passes); otherwise it waits for a person, announced in the
   audit log and in `retrains` (state `waiting`), which the app and `monitor status` show.

Every step writes an audit row. The champion alias is only ever moved by the gated
promotion at the very end, so a retrain that fails anywhere leaves it untouched; the
attempt is recorded as `failed` with the error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.store.config import at_least
from core.store.database import Store
from core.store.errors import PitboardError
from core.store.model_settings import model_settings
from core.store.outbox import publish

DEFAULTS: dict[str, Any] = {
    "retrain_on": [],
    "auto_promote": False,
    "windows": 3,
    "search": "champion",
    "cooldown_windows": 3,
}
RANGES = {"windows": at_least(1, 1000), "cooldown_windows": at_least(0, 100_000)}
TRIGGERS = ("drift", "performance")
CHALLENGER = "challenger"


def policy_for(store: Store, model: str) -> dict[str, Any]:
    """The retraining policy of `model`, checked."""
    policy = model_settings(store, "retraining", model, DEFAULTS, RANGES)
    unknown = [kind for kind in policy["retrain_on"] if kind not in TRIGGERS]
    if unknown:
        raise PitboardError(f"{store.config_path}: [retraining] retrain_on: unknown {unknown[0]!r}; valid: {', '.join(TRIGGERS)}")
    if policy["search"] not in ("champion", "spec"):
        raise PitboardError(f"{store.config_path}: [retraining] search = {policy['search']!r}; valid: champion, spec")
    return policy


def on_alerts(store: Store, model: str, alert_ids: list[int], *, inline: bool = False,
              at: float | None = None) -> int | None:
    """Start a retrain when an alert the new windows raised has a kind in the policy's `retrain_on`.

    Raised means opened, or joined by a window in which its rule still fails (see
    `core.monitoring.alerts.record`): a condition that persists past the cooldown retrains again.

    Returns the job id (or the retrain id when `inline`), or None when nothing started:
    no matching alert, a retrain of this model is already running, or the last one was
    fewer than `cooldown_windows` windows ago (audited as `retrain.skip`). `at` pins the time
    the job's records carry (see `retrain_job`): a simulation passes its virtual now.
    """
    if not alert_ids:
        return None
    policy = policy_for(store, model)
    marks = ", ".join("?" for _ in alert_ids)
    matching = store.rows(f"SELECT id, kind FROM alerts WHERE id IN ({marks}) ORDER BY id", alert_ids)
    trigger = next((a["id"] for a in matching if a["kind"] in policy["retrain_on"]), None)
    if trigger is None or _running(store, model):
        return None
    since = _windows_since_last_retrain(store, model)
    if since is not None and since < policy["cooldown_windows"]:
        with store.transaction():
            store.audit("retrain.skip", model, {"alert": trigger, "windows_since_last": since,
                                                "cooldown_windows": policy["cooldown_windows"]})
        return None
    if inline:
        return retrain(store, model, alert_id=trigger)["retrain"]
    from core.jobs.runner import start_job

    args: dict[str, Any] = {"model": model, "alert_id": trigger}
    if at is not None:
        args["at"] = at
    return start_job(store, "retrain", args, title=f"retrain {model} (alert {trigger})")


def _windows_since_last_retrain(store: Store, model: str) -> int | None:
    """Windows of `model` created after its last retrain that did not fail; None: no such retrain."""
    last = store.value(
        "SELECT MAX(r.created_at) FROM retrains r JOIN models m ON m.id = r.model_id WHERE m.name = ? AND r.state != 'failed'",
        (model,))
    if last is None:
        return None
    return int(store.value(
        "SELECT COUNT(*) FROM monitor_windows w JOIN models m ON m.id = w.model_id WHERE m.name = ? AND w.created_at > ?",
        (model, last)))


def _running(store: Store, model: str) -> bool:
    running = store.value(
        "SELECT COUNT(*) FROM retrains r JOIN models m ON m.id = r.model_id WHERE m.name = ? AND r.state = 'running'", (model,))
    jobs = store.value(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'retrain' AND state IN ('queued', 'running') AND json_extract(args, '$.model') = ?",
        (model,),
    )
    return bool(running or jobs)


def retrain_job(store: Store, job: Any, *, model: str, alert_id: int | None = None,
                at: float | None = None) -> dict[str, Any]:
    """The `retrain` job kind (see core.jobs.runner).

    With `at` (a simulation on a virtual clock started it), the retrain's records and
    audit rows carry that time, as they do when the simulation retrains inline: the
    story stays in one timeline, and an alert is never resolved before it opened. The
    job's own times stay real (`core.jobs.runner.job_time`).
    """
    if at is not None:
        from core.store.clock import fixed_clock

        store.clock = fixed_clock(at)
    return retrain(store, model, alert_id=alert_id, progress=job.progress, job_id=job.id)


def retrain(store: Store, model: str, *, alert_id: int | None = None, progress: Any = None,
            job_id: int | None = None) -> dict[str, Any]:
    """Run one retrain of `model` end to end (see the module docstring); returns its record."""
    from core.registry.versions import alias_holder, model_id

    policy = policy_for(store, model)
    mid = model_id(store, model)
    champion = alias_holder(store, model, "champion")
    if champion is None:
        raise PitboardError(f"{model}: has no champion to retrain; promote a version first")
    with store.transaction():
        retrain_id = int(store.conn.execute(
            "INSERT INTO retrains (model_id, alert_id, job_id, champion_version_id, created_at) VALUES (?, ?, ?, ?, ?)",
            (mid, alert_id, job_id, champion.id, store.clock()),
        ).lastrowid)
        store.audit("retrain.start", f"{model} retrain {retrain_id}", {"alert": alert_id, "champion": champion.version})
    try:
        outcome = _retrain(store, model, champion, policy, retrain_id, progress or (lambda fraction, message: None))
    except BaseException as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with store.transaction():
            store.conn.execute("UPDATE retrains SET state = 'failed', message = ?, ended_at = ? WHERE id = ?",
                               (message, store.clock(), retrain_id))
            store.audit("retrain.fail", f"{model} retrain {retrain_id}", {"error": message, "champion": champion.version})
            publish(store, "retrain.failed", f"{model}: retrain {retrain_id} failed: {message}", model=model,
                    details={"retrain": retrain_id, "error": message, "champion": champion.version})
        raise
    return {"retrain": retrain_id, **outcome}


def _retrain(store: Store, model: str, champion: Any, policy: dict[str, Any], retrain_id: int, progress: Any) -> dict[str, Any]:
    import pandas as pd

    from core.data import datasets
    from core.data.validation import validate
    from core.experiments.runs import get_run
    from core.experiments.specs import LOWER_IS_BETTER, parse_spec
    from core.experiments.training import train_spec
    from core.monitoring.labelled import labelled_windows, window_frame, window_xy
    from core.monitoring.promotion import promote
    from core.monitoring.references import register
    from core.registry.gates import holdout_metric
    from core.registry.versions import load_estimator, move_alias

    if champion.run_id is None:
        raise PitboardError(f"{champion.ref}: was imported from a bundle; there is no spec to retrain")
    run = get_run(store, champion.run_id)
    base = datasets.version_by_id(store, run.dataset_version_id)
    spec = parse_spec(run.spec_text, source=f"run {run.id} spec")
    target = spec.target or base.target
    progress(0.05, "collecting labelled windows")
    windows = labelled_windows(store, model, policy["windows"] + 1)
    if len(windows) < 2:
        raise PitboardError(f"{model}: needs at least 2 labelled windows of production traffic (served with /feedback,"
                            f" or ingested with --labels): one to train on, one to judge; has {len(windows)}")
    held_out, recent = windows[0], windows[1:]
    original = datasets.load_frame(store, base)
    recent_frame = pd.concat([window_frame(store, w, target, original, base.time_column, base.id_column) for w in recent],
                             ignore_index=True)
    if base.id_column:  # a champion retrained before already learned from some of these rows
        recent_frame = recent_frame[~recent_frame[base.id_column].isin(original[base.id_column])]
    combined = pd.concat([original, recent_frame[original.columns]], ignore_index=True)
    batches = sorted({datasets.version_by_id(store, w["dataset_version_id"]).ref
                      for w in recent if w.get("dataset_version_id") is not None})
    kept = f" (labelled rows kept in {', '.join(batches)})" if batches else ""
    dv, _ = datasets.add_frame(
        store, f"{model}-retrain", combined, source=f"{base.ref} + windows {', '.join(str(w['id']) for w in recent)}{kept}",
        target=target, time_column=base.time_column, id_column=base.id_column,
    )
    validate(store, dv)
    with store.transaction():
        store.audit("retrain.data", f"{model} retrain {retrain_id}", {
            "dataset": dv.ref, "base": base.ref, "windows": [w["id"] for w in recent], "batches": batches,
            "added_rows": len(recent_frame)})
    progress(0.2, f"training on {dv.ref}")
    spec = spec.with_dataset(dv.ref)
    if policy["search"] == "champion":
        spec = _champion_only(spec, run)
    result = train_spec(store, spec, progress=lambda f, m: progress(0.2 + 0.6 * f, m))
    if result.best_run_id is None:
        raise PitboardError(f"{model}: every retraining run failed; see runs {', '.join(map(str, result.run_ids))}")
    challenger = register(store, result.best_run_id, model, description=f"retrained on {dv.ref} (retrain {retrain_id})")
    move_alias(store, model, CHALLENGER, challenger, action="set", reason=f"retrain {retrain_id}")
    progress(0.85, f"scoring {champion.ref} and {challenger.ref} on window {held_out['id']}")
    X, y = window_xy(store, held_out, target, original)
    metric = run.primary_metric
    champion_score = holdout_metric(load_estimator(store, champion), champion.info, X, y, metric)
    challenger_score = holdout_metric(load_estimator(store, challenger), challenger.info, X, y, metric)
    wins = challenger_score < champion_score if metric in LOWER_IS_BETTER else challenger_score > champion_score
    with store.transaction():
        store.conn.execute(
            "UPDATE retrains SET challenger_version_id = ?, eval_window_id = ?, metric = ?, champion_score = ?,"
            " challenger_score = ? WHERE id = ?",
            (challenger.id, held_out["id"], metric, champion_score, challenger_score, retrain_id),
        )
        store.audit("retrain.evaluate", f"{model} retrain {retrain_id}", {
            "window": held_out["id"], "rows": len(y), "metric": metric, "champion": [champion.version, champion_score],
            "challenger": [challenger.version, challenger_score], "challenger_wins": wins})
    state, message, gates = _decide(store, model, champion, challenger, wins, policy, metric, champion_score,
                                     challenger_score, promote)
    with store.transaction():
        store.conn.execute("UPDATE retrains SET state = ?, message = ?, ended_at = ? WHERE id = ?",
                           (state, message, store.clock(), retrain_id))
        if state == "promoted":
            from core.monitoring.alerts import resolve_for_version

            resolved = resolve_for_version(store, champion.id, f"{champion.ref} replaced by {challenger.ref} (retrain {retrain_id})")
            store.audit("alert.resolve", f"{champion.ref}", {"alerts": resolved, "retrain": retrain_id})
        store.audit(f"retrain.{state}", f"{model} retrain {retrain_id}", {"challenger": challenger.version,
                                                                          "message": message, "gates": gates})
        publish(store, "retrain.finished", f"{model}: retrain {retrain_id} {state}: {message}", model=model,
                details={"retrain": retrain_id, "state": state, "challenger": challenger.version,
                         "champion": champion.version, "metric": metric, "champion_score": champion_score,
                         "challenger_score": challenger_score})
    progress(1.0, message)
    return {"state": state, "message": message, "dataset": dv.ref, "run": result.best_run_id,
            "challenger": challenger.version, "champion": champion.version, "metric": metric,
            "champion_score": champion_score, "challenger_score": challenger_score, "window": held_out["id"],
            "gates": gates}


def _decide(store: Store, model: str, champion: Any, challenger: Any, wins: bool, policy: dict[str, Any], metric: str,
            champion_score: float, challenger_score: float, promote: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """promoted / waiting / rejected, with a sentence saying why."""
    versus = f"{metric} {challenger_score:.4f} vs {champion_score:.4f} for {champion.ref} on the latest labelled window"
    if not wins:
        return "rejected", f"{challenger.ref} does not beat {champion.ref}: {versus}", []
    if not policy["auto_promote"]:
        return "waiting", f"{challenger.ref} beats {champion.ref} ({versus}); waiting for `pitboard model promote {challenger.ref}`", []
    promotion = promote(store, challenger.ref, "champion", reason=f"auto_promote: {versus}")
    gates = [g.to_dict() for g in promotion.gates]
    if promotion.moved is None:
        failed = ", ".join(g.name for g in promotion.gates if not g.passed)
        return "rejected", f"{challenger.ref} wins ({versus}) but failed the gates: {failed}", gates
    return "promoted", f"{challenger.ref} promoted to champion ({versus})", gates


def _champion_only(spec: Any, run: Any) -> Any:
    """The spec narrowed to the champion's candidate and configuration (a refit, not a search)."""
    from dataclasses import replace

    candidate = spec.candidates[run.candidate - 1]
    fixed = replace(candidate, params={key: [value] for key, value in run.config.items()})
    return replace(spec, candidates=(fixed,), search=replace(spec.search, method="grid"))


def list_retrains(store: Store, model: str | None = None) -> list[dict[str, Any]]:
    """Retrain attempts, newest first (the app shows waiting challengers from here)."""
    rows = store.rows(
        """SELECT r.id, m.name AS model, r.state, c.version AS champion, n.version AS challenger, r.alert_id,
                  r.job_id, r.eval_window_id, r.metric, r.champion_score, r.challenger_score, r.message,
                  r.created_at, r.ended_at
           FROM retrains r JOIN models m ON m.id = r.model_id
           LEFT JOIN model_versions c ON c.id = r.champion_version_id
           LEFT JOIN model_versions n ON n.id = r.challenger_version_id
           WHERE (? IS NULL OR m.name = ?) ORDER BY r.id DESC""",
        (model, model),
    )
    return [dict(r) for r in rows]
