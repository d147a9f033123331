"""Contributions of single predictions: exact for linear models and trees, estimated otherwise.

Linear contributions are checked against the model's own decision function, tree
contributions against `shap.TreeExplainer` on the same transformed columns, and the
estimate against the exact values a linear model allows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.experiments.explanations import LINEAR, SAMPLING, TREE, column_groups, explain, method_for

shap = pytest.importorskip("shap")


def credit_like(seed: int, n: int = 400, classes: int = 2) -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric and categorical columns with a target that depends on both."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.lognormal(10.5, 0.4, n),
        "debt_to_income": rng.uniform(0, 0.8, n),
        "delinquencies": rng.poisson(0.5, n).astype(float),
        "employment": rng.choice(["salaried", "self", "none"], n).astype(object),
        "region": rng.choice(["north", "south", "east", "west"], n).astype(object),
    })
    frame.loc[rng.choice(n, 10, replace=False), "debt_to_income"] = np.nan
    score = (-np.log(frame["income"]) * 2 + 3 * frame["debt_to_income"].fillna(0.3) + frame["delinquencies"]
             + (frame["employment"] == "none") * 1.5 + rng.normal(0, 0.5, n))
    if classes == 0:
        return frame, score.to_numpy() * 1000.0
    cuts = np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1])
    return frame, np.digitize(score, cuts)


def pipeline_for(estimator, scale: bool = True):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [("impute", SimpleImputer(strategy="median"))] + ([("scale", StandardScaler())] if scale else [])
    pre = ColumnTransformer([
        ("numeric", Pipeline(numeric), ["income", "debt_to_income", "delinquencies"]),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                                  ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]),
         ["employment", "region"]),
    ])
    return Pipeline([("preprocess", pre), ("model", estimator)])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("classes", [2, 3, 0])
def test_linear_contributions_sum_to_the_decision_function(seed, classes):
    from sklearn.linear_model import LogisticRegression, Ridge

    frame, y = credit_like(seed, classes=classes)
    task = "regression" if classes == 0 else "classification"
    model = pipeline_for(Ridge(alpha=0.5) if classes == 0 else LogisticRegression(max_iter=2000)).fit(frame, y)
    assert method_for(model) == LINEAR
    rows = frame.iloc[:60]
    got = explain(model, rows, task=task, classes=None, background=frame)
    decision = model.decision_function(rows) if classes else model.predict(rows)
    if classes == 2:
        expected_out = decision
    elif classes == 3:
        expected_out = decision[np.arange(len(rows)), decision.argmax(axis=1)]
    else:
        expected_out = decision
    np.testing.assert_allclose(got.prediction, expected_out, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.contributions.sum(axis=1) + got.expected, expected_out, rtol=0, atol=1e-9)
    # the expected output is the mean decision function over the background
    mean = model.decision_function(frame) if classes else model.predict(frame)
    if classes == 3:
        mean = mean[:, decision.argmax(axis=1)]
    np.testing.assert_allclose(got.expected, np.broadcast_to(mean.mean(axis=0), got.expected.shape), atol=1e-9)
    assert got.error is None and got.exact
    assert got.output.startswith({2: "log-odds of 1", 3: "raw score", 0: "prediction"}[classes])


def test_a_linear_contribution_is_coefficient_times_distance_from_the_mean():
    from sklearn.linear_model import LinearRegression

    frame, y = credit_like(3, classes=0)
    model = pipeline_for(LinearRegression(), scale=False).fit(frame, y)
    got = explain(model, frame.iloc[:5], task="regression", classes=None, background=frame)
    income = list(got.features).index("income")
    coef = model[-1].coef_[0]
    np.testing.assert_allclose(got.contributions[:, income], coef * (frame["income"].iloc[:5] - frame["income"].mean()),
                               atol=1e-9)


def _tree_models():
    from sklearn.ensemble import (
        ExtraTreesRegressor,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.tree import DecisionTreeClassifier

    return [
        (RandomForestClassifier(n_estimators=25, max_depth=6, min_samples_leaf=3, random_state=0), 2),
        (RandomForestClassifier(n_estimators=10, max_depth=8, random_state=1), 3),
        (RandomForestRegressor(n_estimators=15, max_depth=7, random_state=0), 0),
        (ExtraTreesRegressor(n_estimators=10, max_depth=5, random_state=0), 0),
        (DecisionTreeClassifier(max_depth=10, random_state=0), 2),
        (GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0), 2),
        (GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0), 0),
        (HistGradientBoostingClassifier(max_iter=30, random_state=0), 2),
        (HistGradientBoostingRegressor(max_iter=30, random_state=0), 0),
    ]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", range(9))
def test_tree_contributions_match_shap_tree_explainer(seed, case):
    estimator, classes = _tree_models()[case]
    frame, y = credit_like(seed, classes=classes)
    task = "regression" if classes == 0 else "classification"
    model = pipeline_for(estimator).fit(frame, y)
    assert method_for(model) == TREE
    rows = frame.iloc[:40]
    got = explain(model, rows, task=task, classes=None)

    matrix = model[:-1].transform(rows)
    reference = shap.TreeExplainer(model[-1])
    values = reference.shap_values(matrix)
    values = np.asarray(values)
    if values.ndim == 2:
        values = values[:, :, None]
    base = np.atleast_1d(reference.expected_value)
    if classes == 2 and values.shape[2] == 2:
        k = np.ones(len(rows), dtype=int)
    elif classes == 3:
        k = model.predict_proba(rows).argmax(axis=1)
    else:
        k = np.zeros(len(rows), dtype=int)
    groups = column_groups(model[:-1], list(rows.columns))
    by_feature = np.einsum("ntk,tf->nfk", values, groups)[np.arange(len(rows)), :, k]
    np.testing.assert_allclose(got.contributions, by_feature, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.expected, base[k], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.contributions.sum(axis=1) + got.expected, got.prediction, rtol=0, atol=1e-9)


def test_other_models_get_an_estimate_with_its_error_that_sums_exactly():
    from sklearn.neighbors import KNeighborsClassifier

    frame, y = credit_like(4)
    model = pipeline_for(KNeighborsClassifier(n_neighbors=15)).fit(frame, y)
    assert method_for(model) == SAMPLING
    rows = frame.iloc[:3]
    got = explain(model, rows, task="classification", classes=None, background=frame)
    assert not got.exact and got.error is not None and got.error.shape == got.contributions.shape
    assert (got.error >= 0).all() and got.error.max() > 0
    np.testing.assert_allclose(got.prediction, model.predict_proba(rows)[:, 1], atol=1e-12)
    np.testing.assert_allclose(got.contributions.sum(axis=1) + got.expected, got.prediction, atol=1e-9)
    assert all("error" in entry for entry in got.rows()[0]["contributions"])


def test_the_estimate_agrees_with_the_exact_values_within_its_error():
    """On a linear regression the estimate must land near the exact contributions (4 standard errors)."""
    from sklearn.linear_model import LinearRegression

    frame, y = credit_like(5, classes=0)
    model = pipeline_for(LinearRegression()).fit(frame, y)
    rows = frame.iloc[:10]
    background = frame.iloc[:50]
    exact = explain(model, rows, task="regression", classes=None, background=background)
    estimate = explain(model, rows, task="regression", classes=None, background=background, method=SAMPLING)
    np.testing.assert_allclose(estimate.expected, exact.expected, atol=1e-9)
    # For an additive model each walk's step is exactly the linear term: the estimate is exact too.
    np.testing.assert_allclose(estimate.contributions, exact.contributions, atol=1e-6)
