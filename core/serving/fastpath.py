"""A fitted pipeline's preprocessing as plain numpy, used only where it is provably the same.

Why: scikit-learn's ColumnTransformer costs milliseconds per call whatever the number of
rows (pandas column selection, then input validation and feature-name checks in every
step), while the arithmetic of imputing, scaling and one-hot encoding a micro-batch takes
microseconds. Profiled under the serving benchmark, that per-call cost was 40% of the
service's CPU. Scoring many small batches needs the arithmetic without the overhead.

What: every fitted step of the kinds pitboard trains (`core.experiments.pipeline_builder`: SimpleImputer,
StandardScaler, MinMaxScaler, RobustScaler, OneHotEncoder, OrdinalEncoder, in Pipelines,
in one ColumnTransformer) is turned into the numpy operations scikit-learn itself applies
with the fitted attributes, in the same order and dtypes. Anything else -- another
transformer, or an option that changes the arithmetic (missing-value indicators, dropped
or infrequent categories, sparse output, a model fitted on named columns) -- raises
`Unsupported`, and the caller keeps scoring with the pipeline. The model (the last step)
is always scikit-learn's own, called on the matrix exactly as `Pipeline.predict_proba`
calls it.

Proof: `same_as_pipeline` transforms a probe batch both ways; the caller uses the compiled
form only when the two matrices are identical bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Step = Callable[[np.ndarray], np.ndarray]


class Unsupported(Exception):
    """A part of the pipeline this module does not translate (the reason is the message)."""


@dataclass(frozen=True)
class _Block:
    """One ColumnTransformer entry: its input columns and the steps applied to them."""

    columns: tuple[str, ...]
    numeric: bool
    steps: tuple[Step, ...]

    def apply(self, inputs: Mapping[str, np.ndarray], n_rows: int) -> np.ndarray:
        matrix = np.empty((n_rows, len(self.columns)), dtype=np.float64 if self.numeric else object)
        for j, name in enumerate(self.columns):
            matrix[:, j] = inputs[name]
        for step in self.steps:
            matrix = step(matrix)
        return matrix


@dataclass(frozen=True)
class CompiledPipeline:
    """The preprocessing of a fitted Pipeline as numpy steps, and its final estimator."""

    blocks: tuple[_Block, ...]
    after: tuple[Step, ...]
    model: Any

    def transform(self, inputs: Mapping[str, np.ndarray], n_rows: int) -> np.ndarray:
        """The matrix the model sees, from columns by name (numeric float64, the others object)."""
        matrix = np.hstack([block.apply(inputs, n_rows) for block in self.blocks])
        for step in self.after:
            matrix = step(matrix)
        return matrix


def compile_pipeline(pipeline: Any, numeric: set[str]) -> CompiledPipeline:
    """Translate `pipeline` (ColumnTransformer, numeric steps, model); raises `Unsupported`.

    `numeric` names the input columns that arrive as float64; all others arrive as objects.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if type(pipeline) is not Pipeline or len(pipeline.steps) < 2:
        raise Unsupported("not a Pipeline ending in a model")
    first = pipeline.steps[0][1]
    if type(first) is not ColumnTransformer:
        raise Unsupported(f"its first step is {type(first).__name__}, not a ColumnTransformer")
    model = pipeline.steps[-1][1]
    if hasattr(model, "feature_names_in_"):
        raise Unsupported(f"{type(model).__name__} was fitted on named columns")
    after: list[Step] = []
    for _, step in pipeline.steps[1:-1]:
        steps, is_numeric = _compile(step, True)
        if not is_numeric:
            raise Unsupported(f"{type(step).__name__} after the ColumnTransformer yields text")
        after.extend(steps)
    return CompiledPipeline(_column_transformer(first, numeric), tuple(after), model)


def same_as_pipeline(compiled: CompiledPipeline, pipeline: Any, frame: Any, inputs: Mapping[str, np.ndarray]) -> bool:
    """Whether `compiled` turns `inputs` into exactly the matrix the pipeline makes of `frame`."""
    expected = np.asarray(pipeline[:-1].transform(frame))
    got = compiled.transform(inputs, len(frame))
    return expected.shape == got.shape and expected.dtype == got.dtype and np.array_equal(expected, got, equal_nan=True)


def _column_transformer(transformer: Any, numeric: set[str]) -> tuple[_Block, ...]:
    if getattr(transformer, "sparse_output_", False):
        raise Unsupported("the ColumnTransformer returns a sparse matrix")
    blocks = []
    for name, step, columns in transformer.transformers_:
        if isinstance(step, str) and step == "drop" or _selects_nothing(columns):
            continue
        names = _column_names(name, columns)
        kinds = {column in numeric for column in names}
        if len(kinds) != 1:
            raise Unsupported(f"transformer {name!r} mixes numeric and text columns")
        block_numeric = kinds.pop()
        steps, out_numeric = _compile(step, block_numeric)
        if not out_numeric:
            raise Unsupported(f"transformer {name!r} passes text through to the model")
        blocks.append(_Block(names, block_numeric, tuple(steps)))
    if not blocks:
        raise Unsupported("the ColumnTransformer uses no column")
    return tuple(blocks)


def _selects_nothing(columns: Any) -> bool:
    """An empty selection (such as an unused remainder), which ColumnTransformer skips."""
    return isinstance(columns, (list, tuple, np.ndarray)) and len(columns) == 0


def _column_names(name: str, columns: Any) -> tuple[str, ...]:
    names = tuple(columns) if isinstance(columns, (list, tuple, np.ndarray)) else ()
    if not names or not all(isinstance(column, str) for column in names):
        raise Unsupported(f"transformer {name!r} selects columns by {type(columns).__name__}, not by name")
    return names


def _compile(step: Any, numeric: bool) -> tuple[list[Step], bool]:
    """The numpy steps for one fitted transformer and whether its output is numeric."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, OrdinalEncoder, RobustScaler, StandardScaler

    if step is None or isinstance(step, str) and step == "passthrough":
        return [], numeric
    kind = type(step)
    if kind is Pipeline:
        steps: list[Step] = []
        for _, inner in step.steps:
            more, numeric = _compile(inner, numeric)
            steps.extend(more)
        return steps, numeric
    if kind is SimpleImputer:
        return [_imputer(step, numeric)], numeric
    if kind in (OneHotEncoder, OrdinalEncoder):
        if numeric:
            raise Unsupported(f"{kind.__name__} on numeric columns")
        return [_one_hot(step) if kind is OneHotEncoder else _ordinal(step)], True
    scalers = {StandardScaler: _standard, MinMaxScaler: _min_max, RobustScaler: _robust}
    if kind in scalers:
        if not numeric:
            raise Unsupported(f"{kind.__name__} on text columns")
        return [scalers[kind](step)], True
    raise Unsupported(f"no translation for {kind.__name__}")


def _is_nan(values: np.ndarray) -> np.ndarray:
    """NaN test that works on object arrays too (what scikit-learn's masks use)."""
    return np.isnan(values) if values.dtype.kind == "f" else values != values


def _imputer(imputer: Any, numeric: bool) -> Step:
    missing = imputer.missing_values
    if imputer.add_indicator or not (isinstance(missing, float) and missing != missing):
        raise Unsupported("SimpleImputer with indicators or a missing value other than NaN")
    statistics = np.asarray(imputer.statistics_)
    if _is_nan(statistics).any():
        raise Unsupported("SimpleImputer with a column that had no observed value")
    if numeric:
        statistics = statistics.astype(np.float64)

    def impute(matrix: np.ndarray) -> np.ndarray:
        return np.where(_is_nan(matrix), statistics, matrix)

    return impute


def _standard(scaler: Any) -> Step:
    return _center_and_scale(scaler.mean_ if scaler.with_mean else None, scaler.scale_ if scaler.with_std else None)


def _robust(scaler: Any) -> Step:
    return _center_and_scale(scaler.center_ if scaler.with_centering else None, scaler.scale_ if scaler.with_scaling else None)


def _center_and_scale(center: np.ndarray | None, scale: np.ndarray | None) -> Step:
    """Subtract, then divide, as StandardScaler and RobustScaler do (either may be off)."""

    def center_and_scale(matrix: np.ndarray) -> np.ndarray:
        if center is not None:
            matrix = matrix - center
        if scale is not None:
            matrix = matrix / scale
        return matrix

    return center_and_scale


def _min_max(scaler: Any) -> Step:
    low, high = scaler.feature_range
    scale, shift, clip = scaler.scale_, scaler.min_, scaler.clip

    def rescale(matrix: np.ndarray) -> np.ndarray:
        matrix = matrix * scale
        matrix += shift
        return np.clip(matrix, low, high, out=matrix) if clip else matrix

    return rescale


def _lookups(encoder: Any) -> list[dict[str, int]]:
    """Category -> code per column; only plain text categories, none dropped or grouped."""
    if getattr(encoder, "_infrequent_enabled", False):
        raise Unsupported(f"{type(encoder).__name__} with infrequent categories")
    lookups = []
    for categories in encoder.categories_:
        if not all(isinstance(c, str) for c in categories):
            raise Unsupported(f"{type(encoder).__name__} with categories that are not text")
        lookups.append({c: code for code, c in enumerate(categories)})
    return lookups


def _codes(column: np.ndarray, lookup: Mapping[str, int]) -> np.ndarray:
    """Each value's category code, -1 where it is not a known category (NaN included)."""
    get = lookup.get
    return np.fromiter((get(value, -1) if isinstance(value, str) else -1 for value in column), dtype=np.intp, count=len(column))


def _unknown(column: int, codes: np.ndarray, values: np.ndarray) -> ValueError:
    return ValueError(f"Found unknown categories {sorted(set(map(str, values[codes < 0])))} in column {column} during transform")


def _one_hot(encoder: Any) -> Step:
    if encoder.drop_idx_ is not None or encoder.sparse_output:
        raise Unsupported("OneHotEncoder with dropped categories or sparse output")
    lookups = _lookups(encoder)
    offsets = np.cumsum([0] + [len(lookup) for lookup in lookups])
    refuse = encoder.handle_unknown == "error"
    dtype = encoder.dtype

    def one_hot(matrix: np.ndarray) -> np.ndarray:
        out = np.zeros((matrix.shape[0], int(offsets[-1])), dtype=dtype)
        for i, lookup in enumerate(lookups):
            codes = _codes(matrix[:, i], lookup)
            known = codes >= 0
            if refuse and not known.all():
                raise _unknown(i, codes, matrix[:, i])
            rows = np.flatnonzero(known)
            out[rows, offsets[i] + codes[rows]] = 1
        return out

    return one_hot


def _ordinal(encoder: Any) -> Step:
    if getattr(encoder, "_missing_indices", None):
        raise Unsupported("OrdinalEncoder with a missing-value category")
    lookups = _lookups(encoder)
    unknown_value = encoder.unknown_value if encoder.handle_unknown == "use_encoded_value" else None
    dtype = encoder.dtype

    def ordinal(matrix: np.ndarray) -> np.ndarray:
        out = np.empty(matrix.shape, dtype=dtype)
        for i, lookup in enumerate(lookups):
            codes = _codes(matrix[:, i], lookup)
            unknown = codes < 0
            if unknown.any() and unknown_value is None:
                raise _unknown(i, codes, matrix[:, i])
            out[:, i] = codes
            if unknown.any():
                out[unknown, i] = unknown_value
        return out

    return ordinal


def probe_values(numeric: bool, categories: Sequence[str] | None, unseen: bool) -> list[Any]:
    """Values that exercise every branch of a column's steps: each category, missing, unseen."""
    if numeric:
        return [0.0, 1.0, -2.5, 1234.5678, np.nan, 0.125]
    values: list[Any] = [*(categories or ()), np.nan]
    if unseen:
        values.append("\x00never seen in training")
    return values
