"""ROC AUC as the Mann-Whitney U statistic, from each class's sorted scores.

scikit-learn argsorts all scores together and walks the ROC curve. Here one pass splits
the scores by class and, within each class, at a pivot near the median; the four parts
are sorted two per thread, and U comes from merging each class pair: positives above the
pivot beat every negative below it, so only the two halves need merging.
"""

from __future__ import annotations

import numpy as np

from core.kernels._jit import jit
from core.kernels._parallel import halves
from core.kernels._sample import estimated_median


def area(labels: np.ndarray, positive: int, negative: int, scores: np.ndarray) -> float | None:
    """AUC of `scores` (float64) for int64 `labels` taking the values `positive` and `negative`.

    Ties count one half, as in `roc_auc_score`. None when a score is NaN or infinite or a
    label is neither class (the caller says which); both classes must be present.
    """
    pivot = estimated_median(scores)
    pos, pos_low, pos_high, neg, neg_low, neg_high, finite, third = split_classes(labels, positive, negative, scores, pivot)
    if not finite or third:
        return None
    n = scores.size

    def below() -> int:
        return _sorted_twice_u(pos[:pos_low], neg[:neg_low])

    def above() -> int:
        return _sorted_twice_u(pos[n - pos_high :], neg[n - neg_high :])

    low, high = halves(n, below, above)
    n_pos = pos_low + pos_high
    n_neg = neg_low + neg_high
    return (low + high + 2 * pos_high * neg_low) / (2.0 * n_pos * n_neg)


def _sorted_twice_u(positives: np.ndarray, negatives: np.ndarray) -> int:
    positives.sort()
    negatives.sort()
    return int(twice_u(positives, negatives))


@jit
def split_classes(labels, positive, negative, scores, pivot):
    """Scores of each class, below `pivot` at the front of its buffer and the rest at the back.

    Returns (positives, n below, n at or above, negatives, n below, n at or above, all
    scores finite, some label is neither class). Branch-free like `_walk.partition_finite`:
    each score is written to all four free ends and only the matching one moves on.
    """
    n = scores.size
    pos = np.empty(n)
    neg = np.empty(n)
    pos_low = 0
    pos_high = n - 1
    neg_low = 0
    neg_high = n - 1
    nonfinite = 0
    third = 0
    for k in range(n):
        x = scores[k]
        label = labels[k]
        is_pos = np.int64(label == positive)
        is_neg = np.int64(label == negative)
        low = np.int64(x < pivot)
        pos[pos_low] = x
        pos[pos_high] = x
        neg[neg_low] = x
        neg[neg_high] = x
        pos_low += is_pos & low
        pos_high -= is_pos & (1 - low)
        neg_low += is_neg & low
        neg_high -= is_neg & (1 - low)
        nonfinite |= np.int64(x - x != 0.0)
        third |= 1 - (is_pos | is_neg)
    return pos, pos_low, n - 1 - pos_high, neg, neg_low, n - 1 - neg_high, nonfinite == 0, third != 0


@jit
def twice_u(positives: np.ndarray, negatives: np.ndarray) -> int:
    """2U: for each positive, the negatives below it plus the negatives at or below it.

    Two branch-free merges run in lockstep (independent chains, so they overlap): one
    takes a positive before an equal negative (it sees the negatives strictly below),
    the other after (it sees those at or below). Both inputs sorted, NaN-free.
    """
    n_pos = positives.size
    n_neg = negatives.size
    i_strict = 0
    j_strict = 0
    i_tied = 0
    j_tied = 0
    total = 0
    while True:
        steps = min(min(n_pos - i_strict, n_neg - j_strict), min(n_pos - i_tied, n_neg - j_tied))
        if steps <= 0:
            break
        for _ in range(steps):
            take = np.int64(positives[np.uint64(i_strict)] <= negatives[np.uint64(j_strict)])
            total += take * j_strict
            i_strict += take
            j_strict += 1 - take
            take = np.int64(positives[np.uint64(i_tied)] < negatives[np.uint64(j_tied)])
            total += take * j_tied
            i_tied += take
            j_tied += 1 - take
    total += _finish_u(positives, negatives, i_strict, j_strict, False)
    total += _finish_u(positives, negatives, i_tied, j_tied, True)
    return total


@jit
def _finish_u(positives, negatives, i, j, ties_below):
    """The rest of one merge of `twice_u`, from (i, j) to the end."""
    total = 0
    while i < positives.size and j < negatives.size:
        p = positives[i]
        q = negatives[j]
        if p < q or (p == q and not ties_below):
            total += j
            i += 1
        else:
            j += 1
    return total + (positives.size - i) * j
