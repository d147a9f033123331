"""Compiled preprocessing (`core.serving.fastpath`): the same numbers as the pipeline, or not used at all.

Every preprocessing a spec can ask for is built by `core.experiments.pipeline_builder`, fitted on seeded
data with missing values, and scored through `Scorer` on rows that hold every category,
missing values and unseen categories; the outputs must equal the pipeline's own on the
frame the pipeline was trained from, bit for bit. Pipelines the compiler does not
translate must say why and still score exactly like the pipeline.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from core.experiments.pipeline_builder import build_pipeline, signature
from core.experiments.specs import CATEGORICAL_IMPUTE, ENCODINGS, NUMERIC_IMPUTE, SCALERS, parse_spec
from core.serving.fastpath import compile_pipeline, same_as_pipeline
from core.serving.predict import Scorer

NUMERIC = ["income", "ratio", "years"]
CATEGORICAL = ["purpose", "region"]


def training_frame(seed: int, n: int = 240) -> pd.DataFrame:
    """Seeded data the way a dataset loads: text as pandas strings, NaN where missing."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.normal(50.0, 12.0, n),
        "ratio": rng.uniform(0.0, 0.8, n),
        "years": rng.integers(0, 30, n).astype(float),
        "purpose": pd.array(rng.choice(["car", "home", "education", "travel"], n), dtype="str"),
        "region": pd.array(rng.choice(["north", "south", "east"], n), dtype="str"),
    })
    frame.loc[::17, "income"] = np.nan
    frame.loc[::13, "purpose"] = np.nan
    return frame


def fitted(preprocessing: str, estimator: str = "LogisticRegression", params: str = "{ C = [1.0], max_iter = [1000] }", seed: int = 3) -> tuple:
    """A pipeline built by core.experiments.pipeline_builder from a spec with this [preprocessing], fitted."""
    spec = parse_spec(
        f'experiment = "e"\ndataset = "d"\ntarget = "y"\nseed = 5\n[preprocessing]\n{preprocessing}\n'
        f'[[candidates]]\nestimator = "{estimator}"\nparams = {params}\n', source="test spec")
    frame = training_frame(seed)
    y = (frame["ratio"] * 3 - frame["income"].fillna(50) / 50 + (frame["purpose"] == "car") > 0.4).astype(int)
    config = {key: values[0] for key, values in spec.candidates[0].params.items()}
    pipeline = build_pipeline(spec, spec.candidates[0], config, NUMERIC, CATEGORICAL)
    target = y if spec.candidates[0].task == "classification" else frame["ratio"] * 10 + y
    pipeline.fit(frame, target)
    task = spec.candidates[0].task
    info = {"task": task, "signature": signature(frame, NUMERIC, CATEGORICAL), "classes": [0, 1] if task == "classification" else None}
    return pipeline, Scorer.build(pipeline, info)


def request_rows() -> dict[str, list]:
    """Every category, a missing value in each column that may miss, an unseen category."""
    return {
        "income": [41.5, None, 77.0, 12.25, 50.0, 63.5],
        "ratio": [0.1, 0.5, 0.0, 0.79, 0.33, 0.2],
        "years": [3.0, 0.0, 29.0, 7.0, 15.0, 1.0],
        "purpose": ["car", "home", None, "education", "travel", "yacht"],
        "region": ["north", "south", "east", "north", "south", "east"],
    }


def as_trained(rows: dict[str, list]) -> pd.DataFrame:
    """The same rows as the pipeline saw data in training (missing text is NaN)."""
    frame = pd.DataFrame(rows).astype({name: float for name in NUMERIC})
    return frame.astype({name: "str" for name in CATEGORICAL})


def pipeline_outputs(pipeline, rows: dict[str, list]) -> np.ndarray:
    frame = as_trained(rows)
    return pipeline.predict_proba(frame) if hasattr(pipeline, "predict_proba") else pipeline.predict(frame)


def scorer_outputs(scorer: Scorer, rows: dict[str, list]) -> np.ndarray:
    outputs = scorer.score(scorer.check(rows))
    if "prediction" in outputs:
        return outputs["prediction"]
    return np.column_stack([outputs["proba_0"], outputs["proba_1"]])


@pytest.mark.parametrize(
    ("numeric_impute", "scale", "categorical_impute", "encoding"),
    list(itertools.product(NUMERIC_IMPUTE, SCALERS, CATEGORICAL_IMPUTE, ENCODINGS)),
)
def test_every_spec_preprocessing_compiles_and_scores_exactly_like_the_pipeline(numeric_impute, scale, categorical_impute, encoding) -> None:
    preprocessing = (f'numeric_impute = "{numeric_impute}"\nscale = "{scale}"\n'
                     f'categorical_impute = "{categorical_impute}"\nencoding = "{encoding}"')
    pipeline, scorer = fitted(preprocessing)
    assert scorer.compiled is not None, scorer.preprocessing
    assert scorer.preprocessing.startswith("compiled")
    rows = request_rows()
    np.testing.assert_array_equal(scorer_outputs(scorer, rows), pipeline_outputs(pipeline, rows))


@pytest.mark.parametrize(("estimator", "params"), [
    ("RandomForestClassifier", "{ n_estimators = [15], max_depth = [4] }"),
    ("HistGradientBoostingClassifier", "{ max_iter = [20] }"),
    ("Ridge", "{ alpha = [1.0] }"),
])
def test_the_model_step_is_any_estimator_called_on_the_compiled_matrix(estimator, params) -> None:
    pipeline, scorer = fitted('scale = "standard"', estimator, params)
    assert scorer.compiled is not None
    rows = request_rows()
    np.testing.assert_array_equal(scorer_outputs(scorer, rows), pipeline_outputs(pipeline, rows))


def test_a_missing_category_is_imputed_as_in_training_not_treated_as_unseen() -> None:
    pipeline, scorer = fitted('categorical_impute = "most_frequent"')
    most_frequent = pipeline[0].named_transformers_["categorical"][0].statistics_[0]
    missing = {**{k: v[:1] for k, v in request_rows().items()}, "purpose": [None]}
    filled = {**missing, "purpose": [most_frequent]}
    assert scorer.check(missing).unknown == []
    np.testing.assert_array_equal(scorer_outputs(scorer, missing), scorer_outputs(scorer, filled))
    np.testing.assert_array_equal(scorer_outputs(scorer, missing), pipeline_outputs(pipeline, missing))


@pytest.mark.parametrize(("name", "step", "replacement", "reason"), [
    ("categorical", "encode", "drop-first", "dropped categories"),
    ("categorical", "encode", "infrequent", "infrequent categories"),
    ("numeric", "impute", "indicator", "indicators"),
    ("numeric", "scale", "function", "FunctionTransformer"),
])
def test_a_pipeline_it_cannot_translate_keeps_scikit_learn_and_says_why(name, step, replacement, reason) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    pipeline, _ = fitted('scale = "standard"')
    steps = {
        "drop-first": OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False),
        "infrequent": OneHotEncoder(min_frequency=40, handle_unknown="infrequent_if_exist", sparse_output=False),
        "indicator": SimpleImputer(strategy="median", add_indicator=True),
        "function": FunctionTransformer(np.log1p),
    }
    pipeline.set_params(**{f"preprocess__{name}__{step}": steps[replacement]})
    frame = training_frame(3)
    pipeline.fit(frame, (frame["ratio"] > 0.4).astype(int))
    scorer = Scorer.build(pipeline, {"task": "classification", "signature": signature(frame, NUMERIC, CATEGORICAL), "classes": [0, 1]})
    assert scorer.compiled is None
    assert scorer.preprocessing.startswith("scikit-learn (") and reason in scorer.preprocessing
    rows = {**request_rows(), "income": [41.5, None, 77.0, 12.25, 50.0, 63.5]}
    np.testing.assert_array_equal(scorer_outputs(scorer, rows), pipeline_outputs(pipeline, rows))


def test_the_probe_tells_a_compiled_form_from_another_pipelines() -> None:
    first, scorer = fitted('scale = "standard"', seed=3)
    other, _ = fitted('scale = "standard"', seed=4)  # same shape, other fitted statistics
    inputs = scorer._probe()  # missing text is already NaN there, as the pipeline sees it
    frame = as_trained({name: list(values) for name, values in inputs.items()})
    compiled = compile_pipeline(first, set(NUMERIC))
    assert same_as_pipeline(compiled, first, frame, inputs)
    assert not same_as_pipeline(compiled, other, frame, inputs)


def test_a_compiled_form_that_differs_on_the_probe_is_not_used(monkeypatch) -> None:
    import core.serving.predict

    monkeypatch.setattr(core.serving.predict, "same_as_pipeline", lambda *args: False)
    pipeline, scorer = fitted('scale = "standard"')
    assert scorer.compiled is None and "differed from the pipeline" in scorer.preprocessing
    rows = request_rows()
    np.testing.assert_array_equal(scorer_outputs(scorer, rows), pipeline_outputs(pipeline, rows))
