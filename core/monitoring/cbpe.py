"""Performance estimated before labels arrive: confidence-based performance estimation.

Labels come days or months after a prediction (a loan defaults, or does not, later). In
the meantime a classifier's own probabilities say how often it should be right, if they
are calibrated: a row scored 0.9 is a true positive with probability 0.9 and a false
positive with probability 0.1. Summing those expectations over a window gives an expected
confusion matrix and an expected ROC curve, as NannyML's CBPE does. The estimate is only
as good as the calibration on the reference data, so windows mark it as estimated and
alerts treat a low estimate as a warning, never as a measured failure. These are
expectations of counts, not tests, so they live here and not among the kernels.
"""

from __future__ import annotations

import numpy as np

ESTIMATED = "estimated "
"""Band key prefix: the reference band of an estimate (`estimated roc_auc`) holds the CBPE
estimates of the holdout's chunks, so an estimate is judged against estimates and a
model's miscalibration, which biases both alike, cancels out."""


def estimated_accuracy(confidence: np.ndarray) -> float | None:
    """Expected accuracy: the mean probability of the predicted class (None when empty)."""
    if len(confidence) == 0:
        return None
    return float(np.mean(confidence))


def estimated_roc_auc(score: np.ndarray) -> float | None:
    """Expected ROC AUC of a binary classifier from its positive-class probabilities.

    Each row counts as `p` of a positive and `1 - p` of a negative; walking the scores from
    the highest down, the expected true and false positive counts trace the expected ROC
    curve, whose area is the estimate. None when the window is empty or all-certain.
    """
    p = np.asarray(score, dtype=np.float64)
    p = p[np.isfinite(p)]
    if len(p) == 0:
        return None
    p = np.sort(p)[::-1]
    positives, negatives = p.sum(), (1.0 - p).sum()
    if positives <= 0 or negatives <= 0:
        return None
    tpr = np.concatenate(([0.0], np.cumsum(p) / positives))
    fpr = np.concatenate(([0.0], np.cumsum(1.0 - p) / negatives))
    return float(np.trapezoid(tpr, fpr))


def estimated_confusion_rates(score: np.ndarray) -> dict[str, float]:
    """Expected precision, recall and F1 of a binary classifier that predicts 1 at p > 0.5 (argmax).

    A row predicted positive is a true positive with probability p and a false positive
    with 1 - p; a row predicted negative is a false negative with probability p. The
    expected counts give the rates (a ratio of expectations, as CBPE computes them).
    """
    p = np.asarray(score, dtype=np.float64)
    p = p[np.isfinite(p)]
    positive = p > 0.5
    tp, fp, fn = p[positive].sum(), (1.0 - p[positive]).sum(), p[~positive].sum()
    rates = {}
    if tp + fp > 0:
        rates["precision"] = float(tp / (tp + fp))
    if tp + fn > 0:
        rates["recall"] = float(tp / (tp + fn))
    if 2 * tp + fp + fn > 0:
        rates["f1"] = float(2 * tp / (2 * tp + fp + fn))
    return rates


def estimate(task: str, scores: np.ndarray, n_classes: int) -> dict[str, float]:
    """CBPE estimates for a window: accuracy; for binary classifiers also ROC AUC,
    precision, recall and F1 (whichever is the model's primary metric is then estimated).

    `scores` is the positive-class probability for binary models and the probability of
    the predicted class for multi-class ones, which is enough for accuracy only: a
    multi-class F1 would need every class's probability. Regression has no estimate.
    """
    if task != "classification" or len(scores) == 0:
        return {}
    if n_classes == 2:
        confidence = np.maximum(scores, 1.0 - scores)
        result = {"accuracy": estimated_accuracy(confidence), "roc_auc": estimated_roc_auc(scores),
                  **estimated_confusion_rates(scores)}
    else:
        result = {"accuracy": estimated_accuracy(scores)}
    return {name: value for name, value in result.items() if value is not None}
