"""Model metrics equal to scikit-learn's, computed by numba kernels after one cheap check.

Most of scikit-learn's time on large arrays goes to input validation and label handling
(`type_of_target`, `unique_labels`, sorting). Here inputs are validated once, integer
labels are used as codes directly, and each metric is one or two passes.

Labels: any integers, bools, integral floats, or strings. Numbers are used as codes
directly (shifted by the smallest label); strings and labels spread over more than 1,024
integer values are mapped with `numpy.unique` (sorted order, scikit-learn's class order).
Mixing strings and numbers is a ValueError, as in scikit-learn.

NaN and empty input, everywhere: NaN or infinity in labels, scores, probabilities or
regression values raises ValueError (scikit-learn: "Input contains NaN"); empty input
and arrays of different lengths raise ValueError. Where scikit-learn would warn and
return 0 for an undefined ratio (precision with no predicted positives, ...), these
return 0.0 without a warning.
"""

from __future__ import annotations

import math

import numpy as np

from core.kernels import _auc, _log
from core.kernels._inputs import as_float_array
from core.kernels._jit import jit
from core.kernels._labels import (
    binary_table,
    check_lengths,
    check_same_kind,
    count_equal,
    encode,
    int_range,
    joint_table,
    label_array,
    pair_table,
)
from core.kernels._parallel import halves

__all__ = ["accuracy", "confusion_counts", "f1", "log_loss", "mae", "precision", "r2", "recall", "rmse", "roc_auc"]

AVERAGES = ("binary", "micro", "macro", "weighted")


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve of a binary problem, equal to `roc_auc_score` (ties count 1/2).

    The positive class is the larger of the two labels (scikit-learn's convention).
    ValueError on NaN or infinite scores, then when y_true holds one class only or more
    than two. Computed as the Mann-Whitney U statistic from each class's sorted scores
    (see `_auc`); integer labels are used as they are, without encoding.
    """
    y = label_array(y_true, "y_true")
    scores = as_float_array(y_score, "y_score")
    check_lengths(y, scores)
    if y.dtype.kind == "i":
        negative, positive = int_range(y)
        labels = y
    else:
        labels, classes = encode(y)
        negative, positive = 0, len(classes) - 1
    auc = _auc.area(labels, positive, negative, scores) if negative != positive else None
    if auc is None:
        raise _roc_auc_input_error(y, scores)
    return auc


def _roc_auc_input_error(y: np.ndarray, scores: np.ndarray) -> ValueError:
    """What is wrong with an input `_auc.area` refused (or a single class), scikit-learn's order."""
    if not _all_finite(scores):
        return ValueError("y_score: input contains NaN or infinity")
    n_classes = len(encode(y)[1])
    if n_classes < 2:
        return ValueError("Only one class is present in y_true. ROC AUC score is not defined in that case.")
    return ValueError(f"y_true has {n_classes} classes; roc_auc is defined for binary targets only")


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """n_classes x n_classes counts (rows: true class, columns: predicted) of integer codes.

    Equal to `confusion_matrix(y_true, y_pred, labels=range(n_classes))`. Codes must be
    integers in 0..n_classes-1: anything else is a ValueError naming the value (scikit-learn
    would silently drop it).
    """
    t = label_array(y_true, "y_true")
    p = label_array(y_pred, "y_pred")
    check_lengths(t, p)
    if t.dtype.kind != "i" or p.dtype.kind != "i":
        raise ValueError("confusion_counts takes integer class codes; map labels first (numpy.unique)")
    if n_classes < 1:
        raise ValueError(f"n_classes must be at least 1, got {n_classes}")
    if n_classes == 2:
        table, ok = binary_table(t, p)
        if ok:
            return table
    table, ok = pair_table(t, p, 0, n_classes)
    if not ok:
        both = np.concatenate([t, p])
        bad = both[(both < 0) | (both >= n_classes)][0]
        raise ValueError(f"class code {bad} is outside 0..{n_classes - 1}")
    return table


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of exact matches, equal to `accuracy_score`."""
    t, p = _label_pair(y_true, y_pred)
    if t.dtype.kind == "i":
        return count_equal(t, p) / t.size
    return float(np.count_nonzero(t == p) / t.size)


def precision(y_true: np.ndarray, y_pred: np.ndarray, average: str = "binary", pos_label: object = 1) -> float:
    """tp / (tp + fp), equal to `precision_score` (0.0 where that is 0/0)."""
    return _from_table(y_true, y_pred, average, pos_label, _precision)


def recall(y_true: np.ndarray, y_pred: np.ndarray, average: str = "binary", pos_label: object = 1) -> float:
    """tp / (tp + fn), equal to `recall_score` (0.0 where that is 0/0)."""
    return _from_table(y_true, y_pred, average, pos_label, _recall)


def f1(y_true: np.ndarray, y_pred: np.ndarray, average: str = "binary", pos_label: object = 1) -> float:
    """2tp / (2tp + fp + fn), equal to `f1_score` (0.0 where that is 0/0).

    `average="binary"` scores `pos_label` and needs at most two classes; "macro" is the
    unweighted mean over every class in either array, "weighted" weights by true counts,
    "micro" pools the counts.
    """
    return _from_table(y_true, y_pred, average, pos_label, _f1)


def log_loss(y_true: np.ndarray, y_proba: np.ndarray) -> float:
    """Mean negative log-likelihood, equal to `sklearn.metrics.log_loss`.

    `y_proba` is the positive-class probability (1-D, binary) or one column per class in
    sorted label order (2-D). Probabilities are clipped to [eps, 1 - eps] with eps of their
    dtype, as scikit-learn does; rows are not renormalised. ValueError on values outside
    [0, 1], on a single class in y_true, or on a column count that does not match the classes.
    """
    y = label_array(y_true, "y_true")
    proba = np.asarray(y_proba)
    if proba.dtype.kind not in "biuf":
        raise ValueError(f"y_proba: expected numbers, got dtype {proba.dtype}")
    eps = float(np.finfo(proba.dtype if proba.dtype.kind == "f" else np.float64).eps)
    proba = np.ascontiguousarray(proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] == 1:
        proba = proba[:, 0]
    if proba.ndim not in (1, 2):
        raise ValueError(f"y_proba: expected a 1-D or 2-D array, got shape {proba.shape}")
    check_lengths(y, proba)
    if proba.ndim == 1 and y.dtype.kind == "i":
        negative, positive = int_range(y)
        if positive - negative == 1:
            return _two_label_log_loss(y, positive, proba, eps)
    lo, hi, finite = _proba_range(proba.reshape(-1))
    _check_probabilities(not finite, hi > 1, lo < 0)
    codes, classes = encode(y)
    if len(classes) == 1:
        raise ValueError(f"y_true contains only one label ({classes[0]}). Please provide the list of all expected labels explicitly through the labels argument.")
    columns = 2 if proba.ndim == 1 else proba.shape[1]
    if columns != len(classes):
        raise ValueError(f"y_true and y_prob contain different number of classes: {len(classes)} vs {columns}")
    if proba.ndim == 1:
        return float(_binary_log_loss(codes, proba, eps))
    return float(_multiclass_log_loss(codes, proba, eps))


def _two_label_log_loss(y: np.ndarray, positive: int, proba: np.ndarray, eps: float) -> float:
    """Binary log loss of integer labels `positive` and `positive - 1`, without encoding them.

    One pass per half of the rows (on two threads when large) checks the probabilities
    and sums the logs, the cost of the whole function.
    """
    middle = y.size // 2
    first, second = halves(
        y.size,
        lambda: _checked_log_loss_sum(y[:middle], positive, proba[:middle], eps),
        lambda: _checked_log_loss_sum(y[middle:], positive, proba[middle:], eps),
    )
    _check_probabilities(first[1] or second[1], first[2] or second[2], first[3] or second[3])
    return float((first[0] + second[0]) / y.size)


def _check_probabilities(nonfinite: bool, above_one: bool, below_zero: bool) -> None:
    """scikit-learn's checks of probabilities, in its order."""
    if nonfinite:
        raise ValueError("y_proba: input contains NaN or infinity")
    if above_one:
        raise ValueError("y_prob contains values greater than 1.")
    if below_zero:
        raise ValueError("y_prob contains values lower than 0.")


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error, equal to `root_mean_squared_error`."""
    t, p = _regression_pair(y_true, y_pred)
    squared, _ = _error_sums(t, p)
    return math.sqrt(squared / t.size)


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error, equal to `mean_absolute_error`."""
    t, p = _regression_pair(y_true, y_pred)
    _, absolute = _error_sums(t, p)
    return absolute / t.size


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination, equal to `r2_score`.

    Constant y_true gives 1.0 for a perfect prediction and 0.0 otherwise (scikit-learn's
    `force_finite`); fewer than two samples give NaN (scikit-learn warns and returns NaN).
    """
    t, p = _regression_pair(y_true, y_pred)
    if t.size < 2:
        return float("nan")
    residual, total = _r2_sums(t, p)
    if total == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / total


# -- validation ------------------------------------------------------------------------------


def _label_pair(y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    t = label_array(y_true, "y_true")
    p = label_array(y_pred, "y_pred")
    check_lengths(t, p)
    check_same_kind(t, p)
    return t, p


def _finite_floats(values: object, name: str) -> np.ndarray:
    array = as_float_array(values, name)
    if not _all_finite(array):
        raise ValueError(f"{name}: input contains NaN or infinity")
    return array


def _regression_pair(y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
    t = _finite_floats(y_true, "y_true")
    p = _finite_floats(y_pred, "y_pred")
    check_lengths(t, p)
    return t, p


# -- precision / recall / F1 from the confusion table ----------------------------------------


def _from_table(y_true: object, y_pred: object, average: str, pos_label: object, score) -> float:
    if average not in AVERAGES:
        raise ValueError(f"average has to be one of {AVERAGES}, got {average!r}")
    t, p = _label_pair(y_true, y_pred)
    table, classes = joint_table(t, p)
    tp = np.diag(table).astype(np.float64)
    predicted = table.sum(axis=0).astype(np.float64)
    actual = table.sum(axis=1).astype(np.float64)
    if average == "binary":
        present = classes.tolist()
        if len(present) > 2:
            raise ValueError("Target is multiclass but average='binary'. Please choose another average setting, one of ['micro', 'macro', 'weighted'].")
        if pos_label not in present:
            if len(present) >= 2:
                raise ValueError(f"pos_label={pos_label!r} is not a valid label. It should be one of {present}")
            return 0.0
        k = present.index(pos_label)
        return float(score(tp[k : k + 1], predicted[k : k + 1], actual[k : k + 1])[0])
    if average == "micro":
        return float(score(tp.sum(keepdims=True), predicted.sum(keepdims=True), actual.sum(keepdims=True))[0])
    per_class = score(tp, predicted, actual)
    if average == "macro":
        return float(per_class.mean())
    return float((per_class * actual).sum() / actual.sum()) if actual.sum() else 0.0


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _precision(tp: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return _ratio(tp, predicted)


def _recall(tp: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return _ratio(tp, actual)


def _f1(tp: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return _ratio(2.0 * tp, predicted + actual)


# -- kernels ---------------------------------------------------------------------------------


@jit
def _all_finite(values: np.ndarray) -> bool:
    for v in values:
        if not math.isfinite(v):
            return False
    return True


@jit
def _proba_range(values: np.ndarray) -> tuple[float, float, bool]:
    lo = np.inf
    hi = -np.inf
    for v in values:
        if not math.isfinite(v):
            return lo, hi, False
        lo = min(lo, v)
        hi = max(hi, v)
    return lo, hi, True


@jit
def _checked_log_loss_sum(labels: np.ndarray, positive: int, proba: np.ndarray, eps: float) -> tuple[float, bool, bool, bool]:
    """(sum of -log(clipped p of the true label), any p non-finite, any above 1, any below 0).

    Per block: one vectorised pass picks and clips p and raises the flags (flags, not a
    min and max: float min/max reductions do not vectorise), then `_log` sums the logs.
    """
    picked = np.empty(_log.BLOCK)
    mantissas, exponents = _log.scratch()
    total = 0.0
    nonfinite = 0
    above = 0
    below = 0
    for start in range(0, labels.size, _log.BLOCK):
        size = min(_log.BLOCK, labels.size - start)
        for i in range(size):
            q = proba[start + i]
            nonfinite |= np.int64(q - q != 0.0)
            above |= np.int64(q > 1.0)
            below |= np.int64(q < 0.0)
            p = q if labels[start + i] == positive else 1.0 - q
            p = p if p > eps else eps
            picked[i] = p if p < 1.0 - eps else 1.0 - eps
        total -= _log.log_sum_block(picked[:size], mantissas, exponents)
    return total, nonfinite != 0, above != 0, below != 0


@jit
def _binary_log_loss(codes: np.ndarray, proba: np.ndarray, eps: float) -> float:
    total = 0.0
    for i in range(codes.size):
        p = proba[i] if codes[i] == 1 else 1.0 - proba[i]
        total -= math.log(min(max(p, eps), 1.0 - eps))
    return total / codes.size


@jit
def _multiclass_log_loss(codes: np.ndarray, proba: np.ndarray, eps: float) -> float:
    total = 0.0
    for i in range(codes.size):
        total -= math.log(min(max(proba[i, codes[i]], eps), 1.0 - eps))
    return total / codes.size


@jit
def _error_sums(t: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    squared = 0.0
    absolute = 0.0
    for i in range(t.size):
        e = t[i] - p[i]
        squared += e * e
        absolute += abs(e)
    return squared, absolute


@jit
def _r2_sums(t: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    mean = 0.0
    for v in t:
        mean += v
    mean /= t.size
    residual = 0.0
    total = 0.0
    for i in range(t.size):
        e = t[i] - p[i]
        residual += e * e
        d = t[i] - mean
        total += d * d
    return residual, total
