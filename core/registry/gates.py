"""Promotion gates: what a version must show before an alias moves to it.

The policy is read with `core.store.model_settings` from `pitboard.toml`: `[models]` for every
model, `[models.<name>]` for one. Defaults (`DEFAULTS`):

    min_metrics = {}            # e.g. {roc_auc = 0.7}: holdout metrics at or above
    max_metrics = {}            # e.g. {rmse = 12.5}: error metrics at or below
    must_beat_current = true    # beat the alias's current holder on the same rows (below)
    min_improvement = 0.0       # ... by at least this much on the primary metric
    require_validation = true   # the training data's latest validation report passed
    max_disparity = {}          # e.g. {demographic_parity_ratio = 0.8, equalized_odds_difference = 0.1}:
                                # the run's holdout fairness, worst [fairness] attribute; a ratio is a
                                # floor, a difference or gap a ceiling

"The same rows": the rows of live traffic that the caller passes as `live_rows` (the
monitoring stage passes the newest labelled window of the model's served traffic, the
data the model will really face: `core.monitoring.promotion`); without them, the
candidate run's holdout rebuilt by `core.experiments.training.holdout`. Both the candidate and the current holder
score exactly those rows with the same metric kernels, so the comparison is not flattered
by one model's easier split.

`evaluate_gates` has no side effects and returns every gate's result (name, value,
threshold, verdict), so the TUI can show them before asking to confirm; `promote` runs
them and moves the alias only when all pass, or when forced with a reason (audited).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.registry.versions import CHAMPION, ModelVersion, alias_holder, check_alias_name, load_estimator, move_alias, resolve
from core.store.config import at_least
from core.store.database import Store
from core.store.errors import PitboardError
from core.store.model_settings import model_settings

# Rows of live traffic to compare on, shaped like a run's training data: given the
# candidate and its run, (what they are, X, y), or None when there are none yet.
LiveRows = Callable[[ModelVersion, Any], "tuple[str, Any, Any] | None"]

DEFAULTS: dict[str, Any] = {
    "min_metrics": None,
    "max_metrics": None,
    "must_beat_current": True,
    "min_improvement": 0.0,
    "require_validation": True,
    "max_disparity": None,
}
RANGES = {"min_improvement": at_least(0)}


@dataclass(frozen=True)
class GateResult:
    """One gate: what was measured, against what, and whether it passed."""

    name: str
    value: Any
    threshold: Any
    passed: bool
    message: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def policy_for(store: Store, name: str) -> dict[str, Any]:
    """The gate policy of model `name`, checked: metric tables must map names to numbers."""
    policy = model_settings(store, "models", name, DEFAULTS, RANGES)
    for key in ("min_metrics", "max_metrics"):
        table = policy[key] or {}
        if not isinstance(table, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in table.values()
        ):
            raise PitboardError(f"{store.config_path}: [models.{name}] {key} must be a table of metric = number")
        policy[key] = table
    policy["max_disparity"] = _disparity_policy(store, name, policy["max_disparity"])
    return policy


def _disparity_policy(store: Store, name: str, table: Any) -> dict[str, float]:
    from core.experiments.fairness import DISPARITIES

    table = table or {}
    where = f"{store.config_path}: [models.{name}] max_disparity"
    if not isinstance(table, dict):
        raise PitboardError(f"{where} must be a table of disparity = number")
    for key, value in table.items():
        if key not in DISPARITIES:
            raise PitboardError(f"{where}: unknown disparity {key!r}; choose from {', '.join(DISPARITIES)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1e6:
            raise PitboardError(f"{where}: {key} = {value!r} must be a number of at least 0")
    return table


def evaluate_gates(store: Store, candidate: ModelVersion, alias: str = CHAMPION, policy: dict[str, Any] | None = None,
                   *, live_rows: LiveRows | None = None) -> list[GateResult]:
    """Every gate of the policy for moving `alias` to `candidate`; changes nothing."""
    policy = policy if policy is not None else policy_for(store, candidate.name)
    metrics = candidate.info.get("metrics", {})
    results = []
    for metric, minimum in sorted(policy["min_metrics"].items()):
        value = metrics.get(metric)
        results.append(GateResult(f"min {metric}", value, f">= {minimum}", value is not None and value >= minimum,
                                  "" if value is not None else f"{metric} was not recorded for this run"))
    for metric, maximum in sorted(policy["max_metrics"].items()):
        value = metrics.get(metric)
        results.append(GateResult(f"max {metric}", value, f"<= {maximum}", value is not None and value <= maximum,
                                  "" if value is not None else f"{metric} was not recorded for this run"))
    for disparity, threshold in sorted((policy.get("max_disparity") or {}).items()):
        results.append(_fairness_gate(store, candidate, disparity, float(threshold)))
    if policy["require_validation"]:
        results.append(_validation_gate(store, candidate))
    if policy["must_beat_current"]:
        results.append(_beat_current_gate(store, candidate, alias, float(policy["min_improvement"]), live_rows))
    return results


def _fairness_gate(store: Store, candidate: ModelVersion, disparity: str, threshold: float) -> GateResult:
    """A disparity of the candidate's run on its holdout, the worst over its [fairness] attributes.

    A ratio must stay at or above its threshold, a difference or gap at or below. A version
    without a recorded fairness report, or whose groups were too small to judge, fails:
    a gate that cannot see is not a gate that passed.
    """
    from core.experiments.fairness import HIGHER_IS_FAIRER
    from core.experiments.runs import get_run

    floor = disparity in HIGHER_IS_FAIRER
    name = f"{'min' if floor else 'max'} {disparity}"
    bound = f"{'>=' if floor else '<='} {threshold:g}"
    report = get_run(store, candidate.run_id).fairness if candidate.run_id is not None else {}
    if not report:
        return GateResult(name, None, bound, False, "no fairness recorded: name [fairness] attributes in the run's spec")
    values = {attribute: found["disparities"].get(disparity) for attribute, found in report.items()}
    unjudged = sorted(a for a, v in values.items() if v is None)
    if unjudged:
        return GateResult(name, None, bound, False,
                          f"not judged for {', '.join(unjudged)}: fewer than two groups large enough (or no such rates)")
    worst = min(values, key=values.get) if floor else max(values, key=values.get)
    value = values[worst]
    passed = value >= threshold if floor else value <= threshold
    groups = ", ".join(f"{g['group']} {g['selection_rate']:.3f}" for g in report[worst]["groups"]
                       if g.get("judged") and g.get("selection_rate") is not None)
    detail = f"; selection rates {groups}" if groups else ""
    return GateResult(name, round(value, 6), bound, passed, f"worst attribute {worst} on the holdout{detail}")


def _validation_gate(store: Store, candidate: ModelVersion) -> GateResult:
    dataset = candidate.info.get("dataset")
    name = "training data validated"
    if not dataset:
        return GateResult(name, "unknown", "passed", False, "the version records no training dataset")
    from core.data.datasets import resolve as resolve_dataset
    from core.data.validation import latest_report

    report = latest_report(store, resolve_dataset(store, dataset))
    if report is None:
        return GateResult(name, "no report", "passed", False, f"run `pitboard data validate {dataset}` first")
    failed = [c.name for c in report.checks if c.severity == "error" and not c.passed]
    return GateResult(name, "passed" if report.ok else "failed", "passed", report.ok,
                      "" if report.ok else f"{dataset}: failed {', '.join(failed)}")


def _beat_current_gate(store: Store, candidate: ModelVersion, alias: str, min_improvement: float,
                       live_rows: LiveRows | None) -> GateResult:
    primary = candidate.info.get("primary_metric")
    holder = alias_holder(store, candidate.name, alias)
    if holder is None:
        return GateResult(f"beats {alias} on {primary}", None, None, True, f"{candidate.name}@{alias} is free: nothing to beat")
    if candidate.run_id is None:
        return GateResult(f"beats {alias} on {primary}", None, None, False,
                          f"{candidate.ref} was imported from a bundle: no holdout to compare on")
    from core.experiments.runs import get_run
    from core.experiments.specs import LOWER_IS_BETTER
    from core.experiments.training import holdout

    run = get_run(store, candidate.run_id)
    why_holdout = ""
    try:
        production = live_rows(candidate, run) if live_rows is not None else None
    except PitboardError as exc:
        production, why_holdout = None, f"newest labelled window unusable ({exc}); "
    if production is not None:
        rows, X, y = production
        name = f"beats {alias} on {rows} {primary}"
    else:
        X, y = holdout(store, run)
        name = f"beats {alias} on holdout {primary}"
    try:
        mine = holdout_metric(load_estimator(store, candidate), candidate.info, X, y, primary)
        theirs = holdout_metric(load_estimator(store, holder), holder.info, X, y, primary)
    except PitboardError as exc:
        return GateResult(name, None, None, False, str(exc))
    if primary in LOWER_IS_BETTER:
        passed, threshold = mine < theirs - min_improvement, f"< {theirs - min_improvement:.6g} ({holder.ref})"
    else:
        passed, threshold = mine > theirs + min_improvement, f"> {theirs + min_improvement:.6g} ({holder.ref})"
    return GateResult(name, round(mine, 6), threshold, passed,
                      f"{why_holdout}{holder.ref} scores {theirs:.6g} on the same {len(y)} rows")


def holdout_metric(estimator: Any, info: dict[str, Any], X: Any, y: Any, metric: str) -> float:
    """`metric` of a fitted pipeline on (X, y), with the kernels the runs were scored with."""
    from core.experiments.evaluation import score

    task = info.get("task")
    missing = [f["name"] for f in info.get("signature", []) if f["name"] not in X.columns]
    if missing:
        raise PitboardError(f"holdout lacks features this model needs: {', '.join(missing)}")
    X = X[[f["name"] for f in info["signature"]]]
    if task == "regression":
        values = score("regression", np.asarray(y, dtype=np.float64), estimator.predict(X), None)
    else:
        classes = list(estimator.classes_)
        index = {c: i for i, c in enumerate(classes)}
        unknown = sorted({str(v) for v in y if v not in index})
        if unknown:
            raise PitboardError(f"holdout has labels the model never learned: {', '.join(unknown)}")
        y_idx = np.array([index[v] for v in y], dtype=np.int64)
        proba = estimator.predict_proba(X)
        values = score("classification", y_idx, proba.argmax(axis=1), proba)
    if metric not in values:
        raise PitboardError(f"metric {metric!r} cannot be computed for a {task} model")
    return float(values[metric])


@dataclass
class Promotion:
    """What `promote` did: the gates, whether the alias moved, and the move itself."""

    gates: list[GateResult]
    moved: dict[str, Any] | None

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


def promote(store: Store, ref: str, alias: str = CHAMPION, *, force: bool = False, reason: str = "",
            live_rows: LiveRows | None = None) -> Promotion:
    """Move `alias` to `ref` if every gate passes (or `force` with a reason); one transaction."""
    check_alias_name(alias)  # before the gates run: a bad alias must not wait for a verdict to be refused
    if force and not reason.strip():
        raise PitboardError("--force needs --reason TEXT: a forced promotion is audited with why")
    candidate = resolve(store, ref)
    before = alias_holder(store, candidate.name, alias)
    if before is not None and before.id == candidate.id:
        raise PitboardError(f"{candidate.ref} already holds {alias}")
    gates = evaluate_gates(store, candidate, alias, live_rows=live_rows)
    passed = all(g.passed for g in gates)
    if not passed and not force:
        return Promotion(gates, None)
    with store.transaction():
        now = alias_holder(store, candidate.name, alias)
        if (now and now.id) != (before and before.id):
            raise PitboardError(f"{candidate.name}@{alias} moved while the gates ran; run promote again")
        moved = move_alias(
            store, candidate.name, alias, candidate, action="promote", reason=reason,
            forced=force and not passed, gates=[g.to_dict() for g in gates],
        )
    return Promotion(gates, moved)
