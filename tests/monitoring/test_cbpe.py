"""CBPE estimates agree with the performance actually reached when labels follow the scores."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from core.monitoring.cbpe import estimate, estimated_roc_auc


def test_estimates_match_the_mean_of_label_draws_from_calibrated_scores():
    rng = np.random.default_rng(7)
    p = rng.beta(2, 5, size=3000)
    draws = [rng.random(p.size) < p for _ in range(200)]
    actual_auc = np.mean([roc_auc_score(y, p) for y in draws])
    actual_acc = np.mean([accuracy_score(y, p > 0.5) for y in draws])
    found = estimate("classification", p, 2)
    assert abs(found["roc_auc"] - actual_auc) < 0.01
    assert abs(found["accuracy"] - actual_acc) < 0.01
    for name, metric in (("precision", precision_score), ("recall", recall_score), ("f1", f1_score)):
        actual = np.mean([metric(y, p > 0.5) for y in draws])
        assert abs(found[name] - actual) < 0.01, name


def test_confusion_estimates_follow_argmax_at_a_tie():
    found = estimate("classification", np.array([0.5, 0.5, 0.9]), 2)  # argmax predicts 0 at exactly 0.5
    assert found["precision"] == 0.9 and found["recall"] == 0.9 / 1.9


def test_ties_empty_and_certain_scores():
    assert abs(estimated_roc_auc(np.full(10, 0.3)) - 0.5) < 1e-12  # no ranking information at all
    assert estimated_roc_auc(np.array([])) is None
    assert estimated_roc_auc(np.ones(5)) is None  # every row surely positive: no negatives
    assert estimate("regression", np.ones(3), 0) == {}
    assert estimate("classification", np.array([0.9, 0.6]), 3) == {"accuracy": 0.75}
