"""Scoring a model's predictions: holdout and fold metrics, curves, training curves.

Metric values come from `core.kernels.metrics` (numba, the same numbers as scikit-learn),
computed in the process that records runs; the search's workers only return predictions.
Multiclass problems get macro averages (precision, recall, F1, and one-vs-rest ROC AUC).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.experiments.specs import METRICS


def score(task: str, y_true: np.ndarray, prediction: np.ndarray, proba: np.ndarray | None) -> dict[str, float]:
    """Every metric of `task`: y_true and prediction are class indices (0..k-1) or values."""
    from core.kernels import metrics as k

    if task == "regression":
        y, p = np.asarray(y_true, dtype=np.float64), np.asarray(prediction, dtype=np.float64)
        return {"rmse": float(k.rmse(y, p)), "mae": float(k.mae(y, p)), "r2": float(k.r2(y, p))}
    y, p = np.asarray(y_true, dtype=np.int64), np.asarray(prediction, dtype=np.int64)
    result = {"accuracy": float(k.accuracy(y, p))}
    n_classes = proba.shape[1] if proba is not None else int(max(y.max(), p.max())) + 1
    if n_classes == 2:
        result.update(precision=float(k.precision(y, p)), recall=float(k.recall(y, p)), f1=float(k.f1(y, p)))
        if proba is not None:
            score1 = np.ascontiguousarray(proba[:, 1], dtype=np.float64)
            result.update(roc_auc=float(k.roc_auc(y, score1)), log_loss=float(k.log_loss(y, score1)))
        return result
    result.update(precision=float(k.precision(y, p, average="macro")), recall=float(k.recall(y, p, average="macro")),
                  f1=float(k.f1(y, p, average="macro")))
    if proba is not None:
        aucs = [k.roc_auc((y == label).astype(np.int64), np.ascontiguousarray(proba[:, label], dtype=np.float64))
                for label in range(n_classes) if 0 < (y == label).sum() < len(y)]
        result.update(roc_auc=float(np.mean(aucs)), log_loss=float(k.log_loss(y, proba)))
    return {name: result[name] for name in METRICS["classification"] if name in result}


def summarise_folds(folds: list[dict[str, float]]) -> tuple[dict[str, float], list[tuple[str, int, float]]]:
    """(cv_<m>_mean / cv_<m>_std metrics, (cv_<m>, fold, value) points) from per-fold scores."""
    summary, points = {}, []
    for name in folds[0] if folds else ():
        values = np.array([fold[name] for fold in folds], dtype=np.float64)
        summary[f"cv_{name}_mean"] = float(values.mean())
        summary[f"cv_{name}_std"] = float(values.std())
        points += [(f"cv_{name}", step, float(v)) for step, v in enumerate(values)]
    return summary, points


def downsample(xs: np.ndarray, ys: np.ndarray, max_points: int) -> tuple[list[float], list[float]]:
    """At most `max_points` evenly spaced points of a curve, always keeping both ends."""
    if len(xs) > max_points:
        keep = np.unique(np.linspace(0, len(xs) - 1, max_points).round().astype(int))
        xs, ys = xs[keep], ys[keep]
    return [round(float(x), 6) for x in xs], [round(float(y), 6) for y in ys]


def binary_curves(y_true: np.ndarray, proba: np.ndarray, max_points: int) -> dict[str, tuple[list[float], list[float]]]:
    """ROC (fpr, tpr) and precision-recall (recall, precision) curves of a binary classifier."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(y_true, proba[:, 1])
    precision, recall, _ = precision_recall_curve(y_true, proba[:, 1])
    return {"roc": downsample(fpr, tpr, max_points), "pr": downsample(recall[::-1], precision[::-1], max_points)}


def staged_curve(model: Any, X: Any, y: np.ndarray, task: str, max_points: int) -> list[tuple[str, int, float]]:
    """Holdout loss after each boosting stage, as (key, stage, value) points.

    Only estimators that expose stages (gradient boosting) have one; others give [].
    """
    from sklearn.metrics import log_loss, mean_squared_error

    staged = getattr(model, "staged_predict_proba" if task == "classification" else "staged_predict", None)
    if staged is None:
        return []
    losses = []
    for prediction in staged(X):
        if task == "classification":
            losses.append(log_loss(y, prediction, labels=list(range(prediction.shape[1]))))
        else:
            losses.append(float(np.sqrt(mean_squared_error(y, prediction))))
    steps = np.arange(1, len(losses) + 1)
    xs, ys = downsample(steps, np.array(losses), max_points)
    key = "holdout_log_loss" if task == "classification" else "holdout_rmse"
    return [(key, int(step), value) for step, value in zip(xs, ys)]
