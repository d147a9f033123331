"""Class labels -> small integer codes, cheaply, with scikit-learn's input errors.

Integer (and bool, and integral float) labels are used as codes directly, shifted by the
smallest label when they do not start at 0: one pass, no sort. Only labels spread over
more than 1,024 values and non-numeric labels (strings, objects) go through
`numpy.unique`, whose sorted order is also scikit-learn's class order. Either way the
classes of a result are the sorted distinct labels, as `sklearn.utils.multiclass.unique_labels`.
"""

from __future__ import annotations

import numpy as np

from core.kernels._jit import jit

FAST_PATH_WIDTH = 64
MAX_DIRECT_WIDTH = 1024


def label_array(y: object, name: str) -> np.ndarray:
    """Labels as int64 when they are numbers (ValueError on NaN or non-integral floats)."""
    array = np.asarray(y)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of labels, got shape {array.shape}")
    kind = array.dtype.kind
    if kind in "biu":
        return np.ascontiguousarray(array, dtype=np.int64)
    if kind == "f":
        if not np.isfinite(array).all():
            raise ValueError(f"{name}: input contains NaN or infinity")
        if not (array == np.round(array)).all():
            raise ValueError(f"{name}: continuous values are not class labels")
        return array.astype(np.int64)
    if kind in "OUST":
        return array
    raise ValueError(f"{name}: cannot use dtype {array.dtype} as class labels")


def check_lengths(first: np.ndarray, second: np.ndarray) -> None:
    """scikit-learn's checks: same number of samples, at least one."""
    if len(first) != len(second):
        raise ValueError(f"Found input variables with inconsistent numbers of samples: [{len(first)}, {len(second)}]")
    if len(first) == 0:
        raise ValueError("empty input: at least one sample is required")


def check_same_kind(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    if (y_true.dtype.kind == "i") != (y_pred.dtype.kind == "i"):
        raise ValueError("Mix of label input types (string and number)")


def encode(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, classes) of labels from `label_array`: classes[codes] == y."""
    if y.dtype.kind == "i":
        lo, hi = int_range(y)
        if hi - lo < MAX_DIRECT_WIDTH:
            present = presence(y, lo, hi - lo + 1)
            lookup = np.cumsum(present) - 1
            return remap(y, lo, lookup), np.flatnonzero(present) + lo
    try:
        classes, codes = np.unique(y, return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"labels mix types that cannot be ordered: {exc}") from exc
    return codes.astype(np.int64), classes


def joint_table(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The confusion table over the classes present in either array, and those classes."""
    if y_true.dtype.kind == "i":
        table, ok = binary_table(y_true, y_pred)
        if not ok:
            table, ok = pair_table(y_true, y_pred, 0, FAST_PATH_WIDTH)
        offset = 0
        if not ok:
            lo_t, hi_t = int_range(y_true)
            lo_p, hi_p = int_range(y_pred)
            offset, width = min(lo_t, lo_p), max(hi_t, hi_p) - min(lo_t, lo_p) + 1
            if width <= MAX_DIRECT_WIDTH:
                table, ok = pair_table(y_true, y_pred, offset, width)
        if ok:
            present = (table.sum(axis=0) + table.sum(axis=1)) > 0
            return table[present][:, present], np.flatnonzero(present) + offset
    try:
        classes, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    except TypeError as exc:
        raise ValueError(f"labels mix types that cannot be ordered: {exc}") from exc
    codes = codes.astype(np.int64)
    table, _ = pair_table(codes[: len(y_true)], codes[len(y_true) :], 0, len(classes))
    return table, classes


@jit
def binary_table(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, bool]:
    """The 2x2 counts of (t, p) when every label is 0 or 1, else (zeros, False).

    Four sums instead of a scatter: both-ones, true ones, predicted ones, and the OR of
    every bit but the lowest (any other label, negative ones included, sets one). The
    loop vectorises, so this costs what reading the two arrays costs.
    """
    both = 0
    true_ones = 0
    predicted_ones = 0
    other_bits = 0
    for i in range(t.size):
        a = t[i]
        b = p[i]
        both += a & b
        true_ones += a
        predicted_ones += b
        other_bits |= (a | b) & -2
    table = np.zeros((2, 2), dtype=np.int64)
    if other_bits != 0:
        return table, False
    table[1, 1] = both
    table[1, 0] = true_ones - both
    table[0, 1] = predicted_ones - both
    table[0, 0] = t.size - true_ones - predicted_ones + both
    return table, True


@jit
def pair_table(t: np.ndarray, p: np.ndarray, offset: int, width: int) -> tuple[np.ndarray, bool]:
    """Counts of (t - offset, p - offset) pairs; False as soon as one falls outside [0, width).

    Four interleaved tables break the store-to-load chain when most pairs hit the same
    cell (two classes), which is most of the cost of a naive loop.
    """
    cells = width * width
    counts = np.zeros(4 * cells, dtype=np.int64)
    for i in range(t.size):
        a = t[i] - offset
        b = p[i] - offset
        if a < 0 or a >= width or b < 0 or b >= width:
            return np.zeros((width, width), dtype=np.int64), False
        counts[(i & 3) * cells + a * width + b] += 1
    table = counts[:cells] + counts[cells : 2 * cells] + counts[2 * cells : 3 * cells] + counts[3 * cells :]
    return table.reshape((width, width)), True


@jit
def int_range(y: np.ndarray) -> tuple[int, int]:
    lo = y[0]
    hi = y[0]
    for v in y:
        lo = v if v < lo else lo
        hi = v if v > hi else hi
    return lo, hi


@jit
def presence(y: np.ndarray, lo: int, width: int) -> np.ndarray:
    seen = np.zeros(width, dtype=np.int64)
    for v in y:
        seen[v - lo] = 1
    return seen


@jit
def remap(y: np.ndarray, lo: int, lookup: np.ndarray) -> np.ndarray:
    codes = np.empty(y.size, dtype=np.int64)
    for i in range(y.size):
        codes[i] = lookup[y[i] - lo]
    return codes


@jit
def count_equal(a: np.ndarray, b: np.ndarray) -> int:
    same = 0
    for i in range(a.size):
        same += a[i] == b[i]
    return same
