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


def estimate(task: str, scores: np.ndarray, n_classes: int) -> dict[str, float]:
    """CBPE estimates for a window: accuracy (and ROC AUC for binary classifiers).

    `scores` is the positive-class probability for binary models and the probability of
    the predicted class for multi-class ones. Regression has no estimate.
    """
    if task != "classification" or len(scores) == 0:
        return {}
    if n_classes == 2:
        confidence = np.maximum(scores, 1.0 - scores)
        result = {"accuracy": estimated_accuracy(confidence), "roc_auc": estimated_roc_auc(scores)}
    else:
        result = {"accuracy": estimated_accuracy(scores)}
    return {name: value for name, value in result.items() if value is not None}
