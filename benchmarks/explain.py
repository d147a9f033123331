"""Explanations per second: pitboard's against shap's, on the same models in the same run.

Two pipelines on seeded credit-like data (5 numeric and 4 categorical columns, one-hot
encoded): a LogisticRegression (pitboard: exact linear contributions; shap:
LinearExplainer) and the demo's RandomForestClassifier (100 trees, depth 12, min 3 rows
a leaf; pitboard: its numba TreeSHAP; shap: TreeExplainer). Both sides are prepared once
(background means, flattened trees) and then timed on single rows (the /explain case)
and on batches of 1,000 rows; both include the pipeline's preprocessing, since a user
explains raw rows. The largest difference between the two sides' values is printed too.

    .venv/bin/python benchmarks/explain.py [--train-rows 5000] [--singles 200] [--batches 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def credit(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.lognormal(10.6, 0.5, n), "debt_to_income": rng.uniform(0, 0.8, n),
        "credit_history_years": rng.uniform(0, 30, n), "utilization": rng.uniform(0, 1, n),
        "delinquencies": rng.poisson(0.4, n).astype(float),
        "employment_type": rng.choice(["salaried", "self_employed", "part_time", "retired", "unemployed"], n).astype(object),
        "home_ownership": rng.choice(["rent", "own", "mortgage"], n).astype(object),
        "purpose": rng.choice(["car", "medical", "debt_consolidation", "credit_card", "other"], n).astype(object),
        "region": rng.choice(["north", "south", "east", "west", "central"], n).astype(object),
    })
    logit = (-1.2 * np.log(frame["income"] / 40000) + 3 * frame["debt_to_income"] + 1.5 * frame["utilization"]
             + 0.6 * frame["delinquencies"] + (frame["employment_type"] == "unemployed") - 2)
    return frame, (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)


def pipeline(estimator, numeric, categorical):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
        ("categorical", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                                  ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), categorical),
    ])
    return Pipeline([("preprocess", pre), ("classifier", estimator)])


def rate(function, calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        function(i)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=5000)
    parser.add_argument("--singles", type=int, default=200, help="single-row explanations timed per side")
    parser.add_argument("--batches", type=int, default=3, help="batches of 1,000 rows timed per side")
    args = parser.parse_args()

    import shap
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from core.experiments.explanations import Explainer, column_groups

    frame, y = credit(args.train_rows, 0)
    queries, _ = credit(1000 * args.batches + args.singles, 1)
    numeric = list(frame.columns[:5])
    categorical = list(frame.columns[5:])
    features = list(frame.columns)
    background = frame.sample(1000, random_state=0)
    models = {
        "LogisticRegression": pipeline(LogisticRegression(max_iter=1000), numeric, categorical),
        "RandomForest (100 trees, depth 12)": pipeline(
            RandomForestClassifier(n_estimators=100, max_depth=12, min_samples_leaf=3, random_state=0, n_jobs=1),
            numeric, categorical),
    }
    print(f"training rows {args.train_rows}, {len(features)} features; single rows x{args.singles}, "
          f"batches of 1,000 x{args.batches}")
    print(f"{'model':<36} {'case':<12} {'pitboard/s':>12} {'shap/s':>12} {'ratio':>7} {'max |diff|':>11}")
    for name, model in models.items():
        model.fit(frame, y)
        ours = Explainer(model, features, task="classification", classes=[0, 1], background=background)
        pre = model[:-1]
        if "Logistic" in name:
            theirs = shap.LinearExplainer(model[-1], shap.maskers.Independent(pre.transform(background), max_samples=1000))
        else:
            theirs = shap.TreeExplainer(model[-1])

        def shap_values(rows):
            values = np.asarray(theirs.shap_values(pre.transform(rows)))
            return values[..., 1] if values.ndim == 3 else values

        ours.explain(queries.iloc[:2])  # compile / load the kernel before timing
        shap_values(queries.iloc[:2])
        groups = column_groups(pre, features)
        batch = queries.iloc[:1000]
        diff = np.abs(ours.explain(batch).contributions - shap_values(batch) @ groups).max()
        singles = queries.iloc[1000 * args.batches:]
        ours_single = rate(lambda i: ours.explain(singles.iloc[[i]]), args.singles)
        shap_single = rate(lambda i: shap_values(singles.iloc[[i]]), args.singles)
        ours_batch = rate(lambda i: ours.explain(queries.iloc[1000 * i:1000 * (i + 1)]), args.batches)
        shap_batch = rate(lambda i: shap_values(queries.iloc[1000 * i:1000 * (i + 1)]), args.batches)
        for case, mine, reference, rows in (("single row", ours_single, shap_single, args.singles),
                                            ("1,000 rows", ours_batch, shap_batch, 1000 * args.batches)):
            print(f"{name:<36} {case:<12} {rows / mine:>12,.0f} {rows / reference:>12,.0f} "
                  f"{reference / mine:>6.1f}x {diff:>11.1e}", flush=True)


if __name__ == "__main__":
    main()
