"""Scoring with the input checked against the model's signature first.

The same checks serve `pitboard predict FILE` and `POST /predict`: every feature the model
was trained on must be there with the right kind of value, nothing else may be, and a
missing value is refused where the training data had none. All problems are collected
(one entry per field, FastAPI's `loc`/`msg`/`type` shape) rather than stopping at the
first, so a client can fix a whole request at once. A category never seen in training
is not an error in itself: it is answered the way the pipeline's encoder was told to
(`handle_unknown`), and each occurrence is reported with the handling applied.

A value at fault is quoted in its message through `shown`, which bounds its depth and
length: a client may send a list nested a thousand deep or a string of megabytes where a
number belongs, and its 422 must neither recurse past Python's limit nor echo it whole.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.serving.fastpath import CompiledPipeline, Unsupported, compile_pipeline, probe_values, same_as_pipeline
from core.store.errors import PitboardError

NUMERIC, CATEGORICAL, BOOLEAN = "numeric", "categorical", "boolean"
_CATEGORICAL_DTYPES = ("object", "str", "string", "category")

# What each encoder setting does with a category it never saw, in words for the response.
UNKNOWN_HANDLING = {
    "ignore": "ignored: encoded as all zeros",
    "infrequent_if_exist": "mapped to the infrequent category (all zeros if none)",
    "use_encoded_value": "encoded as the encoder's unknown_value",
    "passthrough": "passed to the model unchanged",
}


_QUOTE = reprlib.Repr()
_QUOTE.maxlevel, _QUOTE.maxlist, _QUOTE.maxdict, _QUOTE.maxstring, _QUOTE.maxlong, _QUOTE.maxother = 2, 4, 4, 60, 40, 60


def shown(value: Any) -> str:
    """`repr(value)` for a message, at most two levels deep and about 60 characters a part."""
    return _QUOTE.repr(value)


class InvalidInput(PitboardError):
    """Input that does not match the signature; `errors` lists every field at fault."""

    def __init__(self, errors: list[dict[str, Any]], source: str = "input") -> None:
        self.errors = errors
        first = errors[0]
        location = ".".join(str(part) for part in first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{source}: {location}: {first['msg']}{more}")


@dataclass(frozen=True)
class Feature:
    """One input column of the signature, reduced to what validation needs."""

    name: str
    kind: str
    nullable: bool
    categories: frozenset[str] | None = None
    numeric_categories: bool = False  # a categorical column whose values were numbers


def features_from_signature(signature: Sequence[Mapping[str, Any]]) -> list[Feature]:
    """The signature's features (runs record name, dtype, role, categories, nullable)."""
    features = []
    for entry in signature:
        dtype = str(entry.get("dtype", "")).lower()
        categories = entry.get("categories")
        if dtype.startswith("bool"):
            kind = BOOLEAN
        elif categories is not None or entry.get("role") == CATEGORICAL or dtype.startswith(_CATEGORICAL_DTYPES):
            kind = CATEGORICAL
        else:
            kind = NUMERIC
        features.append(
            Feature(
                name=str(entry["name"]),
                kind=kind,
                nullable=bool(entry.get("nullable", True)),
                categories=frozenset(str(c) for c in categories) if categories is not None else None,
                numeric_categories=kind == CATEGORICAL and dtype.startswith(("int", "uint", "float")),
            )
        )
    return features


def unknown_category_policy(pipeline: Any) -> dict[str, str]:
    """Column -> `handle_unknown` of the encoder that sees it, read from the fitted pipeline."""
    policy: dict[str, str] = {}
    for step in _walk(pipeline):
        for name, transformer, columns in getattr(step, "transformers_", ()):
            handling = _handle_unknown(transformer)
            if handling is None or not isinstance(columns, (list, tuple, np.ndarray)):
                continue
            for column in columns:
                if isinstance(column, str):
                    policy[column] = handling
    return policy


def _walk(estimator: Any) -> list[Any]:
    found = [estimator]
    for _, step in getattr(estimator, "steps", ()):
        found.extend(_walk(step))
    return found


def _handle_unknown(transformer: Any) -> str | None:
    if transformer == "passthrough":
        return "passthrough"
    for step in _walk(transformer):
        if hasattr(step, "handle_unknown"):
            return str(step.handle_unknown)
    return None


def to_columns(body: Any, *, max_rows: int) -> tuple[dict[str, list[Any]], str]:
    """`{"records": [{...}, ...]}` or `{"columns": {name: [...]}}` -> (columns, which)."""
    if not isinstance(body, Mapping) or len(set(body) & {"records", "columns"}) != 1:
        raise InvalidInput([_error(("body",), "send exactly one of 'records' (a list of objects) or 'columns' (an object of lists)", "value_error")])
    extra = sorted(set(body) - {"records", "columns"})
    if extra:
        raise InvalidInput([_error(("body", extra[0]), "unexpected key; send 'records' or 'columns'", "extra_forbidden")])
    if "records" in body:
        records = body["records"]
        if not isinstance(records, list) or not records:
            raise InvalidInput([_error(("body", "records"), "must be a non-empty list of objects", "list_type")])
        _check_size(len(records), max_rows, ("body", "records"))
        bad = next((i for i, record in enumerate(records) if not isinstance(record, Mapping)), None)
        if bad is not None:
            raise InvalidInput([_error(("body", "records", bad), "must be an object of feature values", "dict_type")])
        names = list(dict.fromkeys(name for record in records for name in record))
        return {name: [record.get(name, _MISSING) for record in records] for name in names}, "records"
    columns = body["columns"]
    if not isinstance(columns, Mapping) or not columns:
        raise InvalidInput([_error(("body", "columns"), "must be a non-empty object of equal-length lists", "dict_type")])
    lengths = {name: len(values) if isinstance(values, list) else -1 for name, values in columns.items()}
    bad_name = next((name for name, n in lengths.items() if n < 0), None)
    if bad_name is not None:
        raise InvalidInput([_error(("body", "columns", bad_name), "must be a list of values", "list_type")])
    if len(set(lengths.values())) != 1:
        raise InvalidInput([_error(("body", "columns"), f"lists have different lengths: {lengths}", "value_error")])
    _check_size(next(iter(lengths.values())), max_rows, ("body", "columns"))
    return dict(columns), "columns"


def _check_size(n: int, max_rows: int, loc: tuple[Any, ...]) -> None:
    if n == 0:
        raise InvalidInput([_error(loc, "no rows to score", "too_short")])
    if n > max_rows:
        raise InvalidInput([_error(loc, f"{n} rows is more than the batch limit of {max_rows}", "too_long")])


class _Missing:
    """A feature absent from one record (different from an explicit null)."""


_MISSING = _Missing()


def _error(loc: Sequence[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": kind}


@dataclass
class CheckedInput:
    """Validated columns in signature order, plus the unknown categories met on the way."""

    columns: dict[str, np.ndarray]
    n_rows: int
    unknown: list[dict[str, Any]] = field(default_factory=list)


def check_columns(
    features: Sequence[Feature],
    columns: Mapping[str, Sequence[Any]],
    *,
    orientation: str = "columns",
    handling: Mapping[str, str] | None = None,
) -> CheckedInput:
    """Check `columns` against `features`; raise `InvalidInput` listing every bad field."""
    errors: list[dict[str, Any]] = []
    known = {f.name for f in features}
    for name in columns:
        if name not in known:
            errors.append(_error(_loc(orientation, name, None), "extra field: not an input of this model", "extra_forbidden"))
    n_rows = len(next(iter(columns.values()))) if columns else 0
    checked: dict[str, np.ndarray] = {}
    unknown: list[dict[str, Any]] = []
    for feature in features:
        values = columns.get(feature.name)
        if values is None:
            errors.append(_error(_loc(orientation, feature.name, None), "field required", "missing"))
            continue
        checked[feature.name] = _check_feature(feature, values, orientation, errors, unknown, handling or {})
    if errors:
        raise InvalidInput(errors)
    return CheckedInput(checked, n_rows, unknown)


def _loc(orientation: str, name: str, row: int | None) -> tuple[Any, ...]:
    if orientation == "records":
        return ("body", "records", 0 if row is None else row, name)
    if orientation == "columns":
        return ("body", "columns", name) if row is None else ("body", "columns", name, row)
    if orientation == "csv":  # the file's own line number: the header is line 1
        return (name,) if row is None else (f"line {row + 2}", name)
    return (name,) if row is None else (f"row {row + 1}", name)


def _check_feature(
    feature: Feature,
    values: Sequence[Any],
    orientation: str,
    errors: list[dict[str, Any]],
    unknown: list[dict[str, Any]],
    handling: Mapping[str, str],
) -> np.ndarray:
    numeric = feature.kind != CATEGORICAL
    out = np.empty(len(values), dtype=np.float64 if numeric else object)
    for row, value in enumerate(values):
        if value is _MISSING:
            errors.append(_error(_loc(orientation, feature.name, row), "field required", "missing"))
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if not feature.nullable:
                errors.append(_error(_loc(orientation, feature.name, row), "null or NaN not allowed: the model was trained without missing values here", "null_not_allowed"))
            out[row] = np.nan if numeric else None
        elif feature.kind == BOOLEAN:
            if not isinstance(value, bool):
                errors.append(_error(_loc(orientation, feature.name, row), f"expected true or false, got {shown(value)}", "bool_type"))
                continue
            out[row] = float(value)
        elif numeric:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
                errors.append(_error(_loc(orientation, feature.name, row), f"expected a finite number, got {shown(value)}", "float_type"))
                continue
            out[row] = value
        else:
            if not (isinstance(value, str) or (feature.numeric_categories and isinstance(value, (int, float)) and not isinstance(value, bool))):
                kind = "a number" if feature.numeric_categories else "a string category"
                errors.append(_error(_loc(orientation, feature.name, row), f"expected {kind}, got {shown(value)}", "string_type"))
                continue
            out[row] = value
            if feature.categories is not None and str(value) not in feature.categories:
                _unknown_category(feature, row, value, orientation, errors, unknown, handling)
    return out


def _finite(value: int | float) -> bool:
    """math.isfinite, with integers too large for a float counted as not finite."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _unknown_category(
    feature: Feature,
    row: int,
    value: Any,
    orientation: str,
    errors: list[dict[str, Any]],
    unknown: list[dict[str, Any]],
    handling: Mapping[str, str],
) -> None:
    setting = handling.get(feature.name, "error")
    if setting == "error":
        errors.append(_error(
            _loc(orientation, feature.name, row),
            f"category {shown(value)} was never seen in training and this model's encoder refuses unknown categories (handle_unknown='error')",
            "unknown_category",
        ))
        return
    unknown.append({
        "row": row,
        "field": feature.name,
        "value": value,
        "handling": UNKNOWN_HANDLING.get(setting, f"handle_unknown={setting!r}"),
    })


def frame_columns(frame: Any) -> dict[str, list[Any]]:
    """A DataFrame as lists of plain Python values (NaN and NA as None) for `check_columns`."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        values = series.astype(object).where(series.notna(), None).tolist()
        columns[str(name)] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return columns


@dataclass
class Scorer:
    """A loaded model with its signature: checks input, then predicts.

    `compiled` is the pipeline's preprocessing as numpy (`core.serving.fastpath`) when it was
    proven identical on a probe batch at build time; `preprocessing` says which path
    scores and, for the pipeline path, why the compiled one is not used.
    """

    estimator: Any
    features: list[Feature]
    task: str
    classes: list[Any]
    handling: dict[str, str]
    compiled: CompiledPipeline | None = None
    preprocessing: str = "scikit-learn"

    @classmethod
    def build(cls, estimator: Any, info: Mapping[str, Any]) -> "Scorer":
        """From a fitted pipeline and a version's info (task, signature, classes)."""
        scorer = cls(
            estimator=estimator,
            features=features_from_signature(info["signature"]),
            task=str(info["task"]),
            classes=_plain(getattr(estimator, "classes_", info.get("classes") or [])),
            handling=unknown_category_policy(estimator),
        )
        scorer.compiled, scorer.preprocessing = scorer._compile()
        return scorer

    def _compile(self) -> tuple[CompiledPipeline | None, str]:
        """The numpy form of the preprocessing, if it matches the pipeline bit for bit on a probe."""
        try:
            compiled = compile_pipeline(self.estimator, {f.name for f in self.features if f.kind != CATEGORICAL})
        except Unsupported as exc:
            return None, f"scikit-learn ({exc})"
        inputs = self._probe()
        try:
            with _trusted_input():
                same = same_as_pipeline(compiled, self.estimator, _frame(self.features, inputs), inputs)
        except Exception as exc:  # the probe is synthetic: a model that refuses it keeps its pipeline
            return None, f"scikit-learn (the probe batch failed: {exc})"
        if not same:
            return None, "scikit-learn (the compiled preprocessing differed from the pipeline on the probe batch)"
        return compiled, "compiled: numpy, identical to the pipeline on a probe batch"

    def _probe(self) -> dict[str, np.ndarray]:
        """Columns covering each known category, missing values and (where allowed) an unseen one."""
        values = {
            f.name: probe_values(f.kind != CATEGORICAL, sorted(f.categories or ()), self.handling.get(f.name, "error") != "error")
            for f in self.features
        }
        n_rows = max(len(v) for v in values.values())
        columns = {}
        for f in self.features:
            cycled = [values[f.name][i % len(values[f.name])] for i in range(n_rows)]
            columns[f.name] = np.array(cycled, dtype=object if f.kind == CATEGORICAL else np.float64)
        return columns

    @property
    def output_columns(self) -> list[str]:
        """Names of the outputs `score` returns, in order."""
        if self.task == "classification":
            return ["label"] + [f"proba_{c}" for c in self.classes]
        return ["prediction"]

    def check(self, columns: Mapping[str, Sequence[Any]], orientation: str = "columns") -> CheckedInput:
        """Validate raw columns against the signature (raises `InvalidInput`)."""
        return check_columns(self.features, columns, orientation=orientation, handling=self.handling)

    def score(self, checked: CheckedInput) -> dict[str, np.ndarray]:
        """Outputs by name (`label`, `proba_<class>` or `prediction`), one value per row."""
        inputs = self._model_inputs(checked)
        with _trusted_input():
            if self.compiled is not None:
                model, matrix = self.compiled.model, self.compiled.transform(inputs, checked.n_rows)
            else:
                model, matrix = self.estimator, _frame(self.features, inputs)
            if self.task != "classification":
                return {"prediction": np.asarray(model.predict(matrix), dtype=np.float64)}
            proba = np.asarray(model.predict_proba(matrix), dtype=np.float64)
        labels = np.asarray(self.classes)[proba.argmax(axis=1)]
        outputs = {"label": labels}
        for i, name in enumerate(self.classes):
            outputs[f"proba_{name}"] = proba[:, i]
        return outputs

    def model_frame(self, checked: CheckedInput) -> Any:
        """The checked input as the DataFrame the whole pipeline takes (explanations use it)."""
        return _frame(self.features, self._model_inputs(checked))

    def _model_inputs(self, checked: CheckedInput) -> dict[str, np.ndarray]:
        """Checked columns as the pipeline saw them in training: a missing category is NaN.

        The checks keep a missing category as None (the log writes it as null), but
        scikit-learn's imputers only fill NaN: given None, the imputer would pass it on
        and the encoder would treat it as an unknown category instead of imputing it.
        """
        inputs = dict(checked.columns)
        for f in self.features:
            if f.kind == CATEGORICAL:
                values = inputs[f.name]
                missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
                if missing.any():
                    values = values.copy()
                    values[missing] = np.nan
                    inputs[f.name] = values
        return inputs


def _trusted_input() -> Any:
    """scikit-learn without its own input checks: the input was checked against the signature.

    Both cut the per-call overhead that dominates small batches.
    """
    import sklearn

    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


def _frame(features: Sequence[Feature], inputs: Mapping[str, np.ndarray]) -> Any:
    """The DataFrame the pipeline takes; text columns stay object (no conversion to Arrow strings)."""
    import pandas as pd

    return pd.DataFrame({
        f.name: pd.Series(inputs[f.name], dtype=object) if f.kind == CATEGORICAL else inputs[f.name] for f in features
    })


def _plain(values: Any) -> list[Any]:
    """Class labels as JSON-friendly Python values, in the order predict_proba uses."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def numbers_from_text(frame: Any, features: Sequence[Feature], orientation: str, source: str) -> dict[str, list[Any]]:
    """A file's columns for `Scorer.check`, numeric features read as numbers cell by cell.

    A CSV has no types: one cell such as "high" in a numeric column makes the reader keep
    the whole column as text, and every cell would then be blamed. Here each text cell of
    a numeric feature is read as a number on its own, and only those that are not numbers
    are reported, by line and column.
    """
    import pandas as pd

    columns = frame_columns(frame)
    errors = []
    for feature in features:
        if feature.kind != NUMERIC or feature.name not in frame.columns:
            continue
        text = frame[feature.name]
        if pd.api.types.is_numeric_dtype(text.dtype):
            continue
        numbers = pd.to_numeric(text, errors="coerce")
        for row in np.flatnonzero((text.notna() & numbers.isna()).to_numpy()):
            errors.append(_error(_loc(orientation, feature.name, int(row)), f"expected a finite number, got {text.iloc[row]!r}",
                                 "float_type"))
        columns[feature.name] = [None if pd.isna(v) else float(v) for v in numbers]
    if errors:
        raise InvalidInput(errors, source=source)
    return columns
