"""From a spec and a table to a scikit-learn pipeline, and back to words.

The pipeline is always `preprocess` (a ColumnTransformer choosing imputation, scaling and
encoding per column type) followed by `classifier` or `regressor`. Naming the last step
after the task makes the flattened params read like MLflow's: `params.classifier =
'RandomForestClassifier'`, `params.classifier__max_depth = '8'`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.experiments.specs import Candidate, Spec
from core.store.errors import PitboardError


def model_step(task: str) -> str:
    """The name of the estimator step: `classifier` or `regressor`."""
    return "classifier" if task == "classification" else "regressor"


def select_features(spec: Spec, frame: pd.DataFrame, target: str, reserved: tuple[str | None, ...]) -> tuple[list[str], list[str]]:
    """(numeric, categorical) input columns: `[features]` or every non-reserved column."""
    columns = list(frame.columns)
    for key, names in (("include", spec.features or ()), ("exclude", spec.exclude)):
        unknown = [name for name in names if name not in columns]
        if unknown:
            raise PitboardError(f"{spec.source}: [features] {key}: unknown column {unknown[0]!r}; columns: {', '.join(columns)}")
    if spec.features is not None:
        if target in spec.features:
            raise PitboardError(f"{spec.source}: [features] include: {target!r} is the target; it cannot be a feature")
        chosen = [name for name in spec.features if name not in spec.exclude]
    else:
        skip = {target, *reserved, *spec.exclude}
        chosen = [name for name in columns if name not in skip and not pd.api.types.is_datetime64_any_dtype(frame[name])]
    numeric, categorical = [], []
    for name in chosen:
        dtype = frame[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            raise PitboardError(f"{spec.source}: [features] include: {name!r} is a date/time column; exclude it or split on it")
        (numeric if pd.api.types.is_numeric_dtype(dtype) else categorical).append(name)
    if not numeric and not categorical:
        raise PitboardError(f"{spec.source}: [features]: no feature column left to train on")
    return numeric, categorical


def estimator_params(candidate: Candidate, config: dict[str, Any], seed: int) -> dict[str, Any]:
    """The estimator's keyword arguments: the run's config, plus the spec seed as random_state."""
    params = dict(config)
    if "random_state" in candidate.estimator_class()().get_params() and "random_state" not in params:
        params["random_state"] = seed
    return params


def build_pipeline(spec: Spec, candidate: Candidate, config: dict[str, Any], numeric: list[str], categorical: list[str]) -> Any:
    """An unfitted Pipeline for one configuration of one candidate."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler, StandardScaler

    prep = spec.preprocessing
    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
    numeric_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy=prep.numeric_impute))]
    if prep.scale != "none":
        numeric_steps.append(("scale", scalers[prep.scale]()))
    if prep.encoding == "onehot":
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1)
    impute = SimpleImputer(strategy=prep.categorical_impute, fill_value="missing")
    transformers = []
    if numeric:
        transformers.append(("numeric", Pipeline(numeric_steps), list(numeric)))
    if categorical:
        transformers.append(("categorical", Pipeline([("impute", impute), ("encode", encoder)]), list(categorical)))
    estimator = candidate.estimator_class()(**estimator_params(candidate, config, spec.seed))
    return Pipeline([("preprocess", ColumnTransformer(transformers)), (model_step(spec.task), estimator)])


def flatten_params(pipeline: Any) -> dict[str, str]:
    """Every `get_params(deep=True)` entry as text; nested estimators by their class name.

    Values are text as in MLflow, so `params.x = '0.1'` compares the way it is written.
    Lists of (name, estimator) steps are left out: their contents are already flattened.
    """
    flat = {}
    for key, value in pipeline.get_params(deep=True).items():
        if hasattr(value, "get_params"):
            flat[key] = type(value).__name__
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, tuple) for v in value):
            continue
        else:
            flat[key] = str(value)
    return flat


def signature(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> list[dict[str, Any]]:
    """What the model takes: each input column's name, dtype, role, categories, nullability.

    `nullable` says whether training data had missing values there: serving refuses a
    missing value the model never saw, rather than guessing it is harmless.
    """
    entries = []
    for name in [*numeric, *categorical]:
        column = frame[name]
        categories = None
        if name in categorical:
            categories = sorted(str(v) for v in column.dropna().unique())
        entries.append({
            "name": name,
            "dtype": str(column.dtype),
            "role": "numeric" if name in numeric else "categorical",
            "categories": categories,
            "nullable": bool(column.isna().any()),
        })
    return entries
