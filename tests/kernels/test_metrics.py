"""Metric kernels against scikit-learn on the same labels, scores and values."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from core.kernels import metrics

SCALES = [1e-150, 1e-8, 1.0, 1e8, 1e150]


@st.composite
def labelled(draw, n_classes: int = 2, min_size: int = 1, max_size: int = 80):
    """(y_true, y_pred) as ints, shifted ints or strings."""
    size = draw(st.integers(min_size, max_size))
    true = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=size, max_size=size)))
    pred = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=size, max_size=size)))
    form = draw(st.sampled_from(["codes", "shifted", "huge", "strings", "bool"] if n_classes == 2 else ["codes", "shifted", "huge", "strings"]))
    if form == "shifted":
        return true - 3, pred - 3
    if form == "huge":
        return true * 10_000 - 7, pred * 10_000 - 7
    if form == "strings":
        names = np.array(["cat", "dog", "eel", "fox", "gnu"])
        return names[true], names[pred]
    if form == "bool":
        return true.astype(bool), pred.astype(bool)
    return true, pred


def quiet(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@given(labelled(n_classes=2), st.data())
def test_roc_auc_equals_sklearn_with_ties(pair, data):
    y_true, _ = pair
    scores = np.array(data.draw(st.lists(st.integers(0, 6), min_size=len(y_true), max_size=len(y_true))), dtype=float)
    scores *= data.draw(st.sampled_from(SCALES))
    if len(np.unique(y_true)) < 2:
        with pytest.raises(ValueError, match="Only one class"):
            metrics.roc_auc(y_true, scores)
        return
    assert metrics.roc_auc(y_true, scores) == pytest.approx(sk.roc_auc_score(y_true, scores), rel=1e-12)


@settings(max_examples=60)
@given(labelled(n_classes=4))
def test_confusion_counts_accuracy_and_macro_scores_equal_sklearn(pair):
    y_true, y_pred = pair
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred), rel=1e-15)
    for average in ("macro", "weighted", "micro"):
        for ours, theirs in ((metrics.precision, sk.precision_score), (metrics.recall, sk.recall_score), (metrics.f1, sk.f1_score)):
            assert ours(y_true, y_pred, average=average) == pytest.approx(quiet(theirs, y_true, y_pred, average=average), rel=1e-12)
    if y_true.dtype.kind == "i" and y_true.min() >= 0 and y_pred.min() >= 0 and max(y_true.max(), y_pred.max()) < 4:
        expected = sk.confusion_matrix(y_true, y_pred, labels=range(4))
        assert np.array_equal(metrics.confusion_counts(y_true, y_pred, 4), expected)


@settings(max_examples=100)
@given(labelled(n_classes=2))
def test_binary_scores_equal_sklearn(pair):
    y_true, y_pred = pair
    pos_label = {"i": 1, "b": 1, "U": "dog"}[y_true.dtype.kind]
    if y_true.dtype.kind == "i" and y_true.min() < 0:
        pos_label = int(max(y_true.max(), y_pred.max()))
    for ours, theirs in ((metrics.precision, sk.precision_score), (metrics.recall, sk.recall_score), (metrics.f1, sk.f1_score)):
        assert ours(y_true, y_pred, pos_label=pos_label) == pytest.approx(quiet(theirs, y_true, y_pred, pos_label=pos_label), rel=1e-12)


@settings(max_examples=100)
@given(labelled(n_classes=2, min_size=2), st.data())
def test_log_loss_equals_sklearn_including_clipping(pair, data):
    y_true, _ = pair
    proba = np.array(data.draw(st.lists(st.sampled_from([0.0, 1e-300, 1e-17, 0.25, 0.5, 0.9, 1 - 1e-17, 1.0]) | st.floats(0, 1), min_size=len(y_true), max_size=len(y_true))))
    if len(np.unique(y_true)) < 2:
        with pytest.raises(ValueError, match="only one label"):
            metrics.log_loss(y_true, proba)
        return
    assert metrics.log_loss(y_true, proba) == pytest.approx(sk.log_loss(y_true, proba), rel=1e-12)


def test_multiclass_log_loss_equals_sklearn():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 500)
    proba = rng.dirichlet([0.3, 1, 1, 2], 500)
    assert metrics.log_loss(y, proba) == pytest.approx(sk.log_loss(y, proba), rel=1e-12)
    assert metrics.log_loss(np.array(["b", "a", "c"]), np.eye(3)[[1, 0, 2]]) == pytest.approx(sk.log_loss(["b", "a", "c"], np.eye(3)[[1, 0, 2]]))


@given(st.data(), st.integers(1, 80), st.sampled_from(SCALES[1:4]), st.booleans())
def test_regression_metrics_equal_sklearn(data, size, scale, integers):
    element = st.integers(-1000, 1000) if integers else st.floats(-1e3, 1e3)
    y_true = np.array(data.draw(st.lists(element, min_size=size, max_size=size)))
    y_pred = np.array(data.draw(st.lists(element, min_size=size, max_size=size)))
    if not integers:
        y_true, y_pred = y_true * scale, y_pred * scale
    assert metrics.rmse(y_true, y_pred) == pytest.approx(sk.root_mean_squared_error(y_true, y_pred), rel=1e-9)
    assert metrics.mae(y_true, y_pred) == pytest.approx(sk.mean_absolute_error(y_true, y_pred), rel=1e-9)
    expected = quiet(sk.r2_score, y_true, y_pred)
    if math.isnan(expected):
        assert math.isnan(metrics.r2(y_true, y_pred))
    else:
        assert metrics.r2(y_true, y_pred) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_constant_target_r2_follows_sklearn():
    assert metrics.r2(np.ones(4), np.ones(4)) == sk.r2_score(np.ones(4), np.ones(4)) == 1.0
    assert metrics.r2(np.ones(4), np.zeros(4)) == sk.r2_score(np.ones(4), np.zeros(4)) == 0.0


def test_million_rows_match_sklearn():
    rng = np.random.default_rng(4)
    y = (rng.random(1_000_000) < 0.3).astype(np.int64)
    score = rng.random(1_000_000).round(3)
    pred = (score > 0.6).astype(np.int64)
    assert metrics.roc_auc(y, score) == pytest.approx(sk.roc_auc_score(y, score), rel=1e-12)
    assert metrics.f1(y, pred) == pytest.approx(sk.f1_score(y, pred), rel=1e-12)
    assert metrics.log_loss(y, score) == pytest.approx(sk.log_loss(y, score), rel=1e-10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: metrics.roc_auc([0, 1, 1], [0.1, np.nan, 0.3]), "NaN"),
        (lambda: metrics.roc_auc([0, 1, 2], [0.1, 0.2, 0.3]), "binary"),
        (lambda: metrics.roc_auc([], []), "empty"),
        (lambda: metrics.accuracy([0, 1], [0, 1, 1]), "inconsistent numbers of samples: \\[2, 3\\]"),
        (lambda: metrics.accuracy([0, 1], ["a", "b"]), "Mix of label input types"),
        (lambda: metrics.accuracy([0.5, 1.0], [0, 1]), "continuous"),
        (lambda: metrics.f1([0, 1, 2], [0, 1, 1]), "multiclass but average='binary'"),
        (lambda: metrics.f1(["a", "b"], ["a", "a"]), "pos_label=1 is not a valid label"),
        (lambda: metrics.f1([0, 1], [0, 1], average="samples"), "average has to be one of"),
        (lambda: metrics.confusion_counts([0, 3], [0, 1], 3), "class code 3 is outside 0..2"),
        (lambda: metrics.log_loss([0, 1], [0.2, 1.2]), "greater than 1"),
        (lambda: metrics.log_loss([0, 1], [-0.2, 0.5]), "lower than 0"),
        (lambda: metrics.log_loss([0, 1, 2], [0.2, 0.5, 0.1]), "different number of classes"),
        (lambda: metrics.rmse([1.0, np.nan], [1.0, 2.0]), "NaN"),
        (lambda: metrics.mae([], []), "empty"),
    ],
)
def test_bad_input_raises_value_error_like_sklearn(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_single_sample_r2_is_nan():
    assert math.isnan(metrics.r2([1.0], [2.0]))
