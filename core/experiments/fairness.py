"""How a model treats groups of people: per-group rates and the standard disparities.

A spec names sensitive attributes (`[fairness] attributes = ["gender"]`): columns of the
data that are, by default, not features. On the holdout each run records, per attribute
and group: its size, selection rate (share predicted positive) and, for a binary
classifier, true and false positive rates; for a regressor its error metrics; and the
run's primary metric. From the groups large enough to judge (`min_group_rows`) come the
disparities, as fairlearn defines them: demographic parity difference (largest minus
smallest selection rate) and ratio (smallest over largest), equalized odds difference
(the larger of the TPR and FPR gaps) and the largest gap in the primary metric. Smaller
groups are shown, marked not judged, and left out of the disparities, since a handful of
rows would swing them at random.

Counts come from the numba metric kernels, one pass per group.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MISSING_GROUP = "(missing)"
DISPARITIES = ("demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference",
               "primary_metric_gap")
# Disparities where more is fairer: a gate's threshold on them is a floor, on the others a ceiling.
HIGHER_IS_FAIRER = frozenset({"demographic_parity_ratio"})


def group_labels(values: Any) -> np.ndarray:
    """An attribute's values as group names (text), a missing value as its own group."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        missing = value is None or (isinstance(value, float) and np.isnan(value))
        out[i] = MISSING_GROUP if missing else str(value)
    return out


def fairness_report(attributes: dict[str, Any], y_true: np.ndarray, prediction: np.ndarray, proba: np.ndarray | None,
                    *, task: str, primary_metric: str, min_group_rows: int) -> dict[str, Any]:
    """Per attribute: its groups and disparities. `y_true`/`prediction` are class codes
    (1 is the positive class of a binary classifier) or values."""
    return {name: attribute_report(group_labels(values), y_true, prediction, proba, task=task,
                                   primary_metric=primary_metric, min_group_rows=min_group_rows)
            for name, values in attributes.items()}


def attribute_report(groups: np.ndarray, y_true: np.ndarray, prediction: np.ndarray, proba: np.ndarray | None, *,
                     task: str, primary_metric: str, min_group_rows: int) -> dict[str, Any]:
    """One attribute: its groups (largest first) and the disparities between the judged ones."""
    binary = task == "classification" and (proba is None or proba.shape[1] == 2)
    rows = []
    for group in sorted(set(groups)):
        mask = groups == group
        entry: dict[str, Any] = {"group": group, "rows": int(mask.sum()), "judged": bool(mask.sum() >= min_group_rows)}
        entry.update(group_rates(y_true[mask], prediction[mask], task, binary))
        entry["primary"] = _primary(task, primary_metric, y_true[mask], prediction[mask],
                                    None if proba is None else proba[mask])
        rows.append(entry)
    rows.sort(key=lambda r: (-r["rows"], r["group"]))
    return {"groups": rows, "disparities": disparities(rows, task, binary), "min_group_rows": min_group_rows}


def group_rates(y_true: np.ndarray, prediction: np.ndarray, task: str, binary: bool) -> dict[str, float | None]:
    """A group's selection rate, TPR and FPR (binary), accuracy (classes) or errors (regression)."""
    from core.kernels import metrics as k

    if task == "regression":
        y, p = np.asarray(y_true, dtype=np.float64), np.asarray(prediction, dtype=np.float64)
        return {"mean_prediction": float(p.mean()), "mae": float(k.mae(y, p)), "rmse": float(k.rmse(y, p))}
    y, p = np.asarray(y_true, dtype=np.int64), np.asarray(prediction, dtype=np.int64)
    if not binary:
        return {"accuracy": float(k.accuracy(y, p))}
    counts = k.confusion_counts(y, p, 2)
    tn, fp, fn, tp = (float(counts[0, 0]), float(counts[0, 1]), float(counts[1, 0]), float(counts[1, 1]))
    return {
        "selection_rate": (tp + fp) / len(y),
        "tpr": tp / (tp + fn) if tp + fn else None,
        "fpr": fp / (fp + tn) if fp + tn else None,
    }


def _primary(task: str, metric: str, y_true: np.ndarray, prediction: np.ndarray, proba: np.ndarray | None) -> float | None:
    """The run's primary metric on one group; None where it is undefined (one class only)."""
    from core.experiments.evaluation import score

    try:
        value = score(task, y_true, prediction, proba).get(metric)
    except ValueError:
        return None
    return None if value is None or not np.isfinite(value) else float(value)


def disparities(rows: list[dict[str, Any]], task: str, binary: bool) -> dict[str, float | None]:
    """The disparities between judged groups; None where fewer than two groups can be judged."""
    judged = [r for r in rows if r["judged"]]
    found: dict[str, float | None] = dict.fromkeys(DISPARITIES)
    primary = [r["primary"] for r in judged if r["primary"] is not None]
    if len(primary) >= 2:
        found["primary_metric_gap"] = max(primary) - min(primary)
    if len(judged) < 2 or not binary:
        return found
    rates = [r["selection_rate"] for r in judged]
    found["demographic_parity_difference"] = max(rates) - min(rates)
    found["demographic_parity_ratio"] = min(rates) / max(rates) if max(rates) > 0 else None
    gaps = []
    for key in ("tpr", "fpr"):
        values = [r[key] for r in judged]
        gaps.append(None if any(v is None for v in values) else max(values) - min(values))
    found["equalized_odds_difference"] = None if None in gaps else max(gaps)
    return found
