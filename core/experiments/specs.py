"""Experiment specs: a TOML file that says what to train, on which data, and how to judge it.

Parsing checks everything that can be checked without the data, so a typo fails in a
second instead of after an hour of training: every key, every estimator name (from an
allow-list of scikit-learn classes, because the model store only trusts their types),
every parameter name (against the estimator's `get_params()`) and every parameter value
(through scikit-learn's own parameter validation). Each error names the file, the key
and the valid choices.

A spec looks like `sample_data/credit_spec.toml`:

    experiment = "credit-risk"
    dataset = "credit"            # NAME (latest version) or NAME@VERSION
    target = "default"            # default: the dataset's target column
    task = "classification"       # default: what the candidates are
    primary_metric = "roc_auc"    # default: roc_auc (classification) or rmse
    seed = 42

    [features]                    # default: every column but target, id and time
    exclude = ["applicant_id"]

    [split]                       # random holdout, or method = "time" (latest rows held out)
    test_size = 0.2

    [preprocessing]               # chosen per column type
    numeric_impute = "median"     # mean | median | most_frequent
    scale = "standard"            # standard | minmax | robust | none
    categorical_impute = "most_frequent"
    encoding = "onehot"           # onehot | ordinal

    [search]
    method = "grid"               # grid | random (then n_iter)
    cv = 5

    [fairness]                    # optional: per-group rates and disparities on the holdout
    attributes = ["gender"]       # columns of the data; not features unless [features] includes them
    min_group_rows = 30           # smaller groups are shown, not judged

    [[candidates]]
    estimator = "RandomForestClassifier"
    params = { n_estimators = [100], max_depth = [4, 8, "None"] }

A parameter value is a scalar (fixed), a list (searched) or, with random search, a
distribution `{ dist = "loguniform", low = 0.01, high = 10 }` (uniform, loguniform,
randint). The string "None" stands for Python's None, which TOML cannot write.
"""

from __future__ import annotations

import importlib
import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.store.errors import PitboardError
from core.store.refs import parse_ref, validate_name

# scikit-learn class name -> (module, task). The model store trusts exactly the types
# these need (core.experiments.modelio.TRUSTED_TYPES), so the list is closed on purpose.
ESTIMATORS: dict[str, tuple[str, str]] = {
    "LogisticRegression": ("sklearn.linear_model", "classification"),
    "RandomForestClassifier": ("sklearn.ensemble", "classification"),
    "ExtraTreesClassifier": ("sklearn.ensemble", "classification"),
    "HistGradientBoostingClassifier": ("sklearn.ensemble", "classification"),
    "GradientBoostingClassifier": ("sklearn.ensemble", "classification"),
    "KNeighborsClassifier": ("sklearn.neighbors", "classification"),
    "DecisionTreeClassifier": ("sklearn.tree", "classification"),
    "LinearRegression": ("sklearn.linear_model", "regression"),
    "Ridge": ("sklearn.linear_model", "regression"),
    "Lasso": ("sklearn.linear_model", "regression"),
    "ElasticNet": ("sklearn.linear_model", "regression"),
    "RandomForestRegressor": ("sklearn.ensemble", "regression"),
    "ExtraTreesRegressor": ("sklearn.ensemble", "regression"),
    "HistGradientBoostingRegressor": ("sklearn.ensemble", "regression"),
    "GradientBoostingRegressor": ("sklearn.ensemble", "regression"),
    "KNeighborsRegressor": ("sklearn.neighbors", "regression"),
    "DecisionTreeRegressor": ("sklearn.tree", "regression"),
}

METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("roc_auc", "accuracy", "precision", "recall", "f1", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
DEFAULT_METRIC = {"classification": "roc_auc", "regression": "rmse"}

TASKS = ("classification", "regression")
SPLIT_METHODS = ("random", "time")
SEARCH_METHODS = ("grid", "random")
NUMERIC_IMPUTE = ("mean", "median", "most_frequent")
SCALERS = ("standard", "minmax", "robust", "none")
CATEGORICAL_IMPUTE = ("most_frequent", "constant")
ENCODINGS = ("onehot", "ordinal")
DISTRIBUTIONS = ("uniform", "loguniform", "randint")
MAX_FAIRNESS_ATTRIBUTES = 20


@dataclass(frozen=True)
class Distribution:
    """A parameter range sampled by random search."""

    dist: str
    low: float
    high: float

    def frozen(self) -> Any:
        """The scipy.stats distribution to sample from."""
        from scipy import stats

        if self.dist == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        if self.dist == "loguniform":
            return stats.loguniform(self.low, self.high)
        return stats.randint(int(self.low), int(self.high) + 1)


@dataclass(frozen=True)
class Candidate:
    """One `[[candidates]]` entry: an estimator and its parameter space."""

    index: int  # 1-based position in the file, for messages
    estimator: str
    task: str
    params: dict[str, list[Any] | Distribution] = field(default_factory=dict)

    def estimator_class(self) -> type:
        """The scikit-learn class."""
        return estimator_class(self.estimator)


@dataclass(frozen=True)
class Split:
    method: str = "random"
    test_size: float = 0.2
    column: str | None = None  # time split: the ordering column (default: the dataset's)


@dataclass(frozen=True)
class Preprocessing:
    numeric_impute: str = "median"
    scale: str = "standard"
    categorical_impute: str = "most_frequent"
    encoding: str = "onehot"


@dataclass(frozen=True)
class Search:
    method: str = "grid"
    n_iter: int = 10
    cv: int = 5


@dataclass(frozen=True)
class Fairness:
    """`[fairness]`: sensitive attributes judged per group on the holdout (core.experiments.fairness)."""

    attributes: tuple[str, ...] = ()
    min_group_rows: int = 30  # smaller groups are shown, not judged


@dataclass(frozen=True)
class Spec:
    """A parsed, validated experiment spec."""

    source: str  # the file name, for messages
    text: str  # the TOML as written, recorded with every run
    experiment: str
    dataset: str
    target: str | None
    task: str
    primary_metric: str
    seed: int
    features: tuple[str, ...] | None
    exclude: tuple[str, ...]
    split: Split
    preprocessing: Preprocessing
    search: Search
    candidates: tuple[Candidate, ...]
    fairness: Fairness = field(default_factory=lambda: Fairness())

    def with_dataset(self, dataset: str) -> "Spec":
        """The same spec trained on another dataset reference (retraining)."""
        return replace(self, dataset=dataset)


def estimator_class(name: str) -> type:
    """The allow-listed scikit-learn class called `name`."""
    module, _ = ESTIMATORS[name]
    return getattr(importlib.import_module(module), name)


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PitboardError(f"{path}: cannot read spec ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise PitboardError(f"{path}: not a UTF-8 text file") from exc
    return parse_spec(text, source=path.name)


def parse_spec(text: str, source: str = "spec.toml") -> Spec:
    """Validate spec TOML `text`; `source` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PitboardError(f"{source}: not valid TOML ({exc})") from exc
    except RecursionError as exc:  # tomllib recurses per level of nesting, a few hundred levels at most
        raise PitboardError(f"{source}: not valid TOML (arrays or tables nested too deeply)") from exc
    return _Parser(source).spec(doc, text)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> PitboardError:
        return PitboardError(f"{self.source}: {where}{': ' if where else ''}{message}")

    def check_keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.fail(where, f"unknown key {key!r}; valid keys: {', '.join(allowed)}")

    def get(self, table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(where, f"{key} = {value!r} should be {names}")
        return value

    def choice(self, table: dict[str, Any], key: str, choices: tuple[str, ...], where: str, default: str) -> str:
        value = self.get(table, key, str, where, default)
        if value not in choices:
            raise self.fail(where, f"{key} = {value!r} is not valid; choose one of: {', '.join(choices)}")
        return value

    def table(self, doc: dict[str, Any], key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        found = doc.get(key, {})
        if not isinstance(found, dict):
            raise self.fail(f"[{key}]", "must be a table")
        self.check_keys(found, allowed, f"[{key}]")
        return found

    def spec(self, doc: dict[str, Any], text: str) -> Spec:
        self.check_keys(
            doc,
            ("experiment", "dataset", "target", "task", "primary_metric", "seed",
             "features", "split", "preprocessing", "search", "candidates", "fairness"),
            "",
        )
        for required in ("experiment", "dataset", "candidates"):
            if required not in doc:
                raise self.fail("", f"missing required key {required!r}")
        experiment = self.get(doc, "experiment", str, "experiment", None)
        dataset = self.get(doc, "dataset", str, "dataset", None)
        try:
            validate_name(experiment, "experiment name")
            parse_ref(dataset)
        except PitboardError as exc:
            raise self.fail("", str(exc)) from exc
        target = self.get(doc, "target", str, "target", None)
        seed = self.get(doc, "seed", int, "seed", 0)
        if "task" in doc:
            self.choice(doc, "task", TASKS, "task", "")
        candidates = self.candidates(doc["candidates"])
        task = self.task(doc.get("task"), candidates)
        primary = self.choice(doc, "primary_metric", METRICS[task], "primary_metric", DEFAULT_METRIC[task])
        features, exclude = self.features(self.table(doc, "features", ("include", "exclude")))
        search = self.search(self.table(doc, "search", ("method", "n_iter", "cv")))
        for candidate in candidates:
            self.check_space(candidate, search)
        return Spec(
            source=self.source, text=text, experiment=experiment, dataset=dataset, target=target,
            task=task, primary_metric=primary, seed=seed, features=features, exclude=exclude,
            split=self.split(self.table(doc, "split", ("method", "test_size", "column"))),
            preprocessing=self.preprocessing(
                self.table(doc, "preprocessing", ("numeric_impute", "scale", "categorical_impute", "encoding"))
            ),
            search=search, candidates=candidates,
            fairness=self.fairness(self.table(doc, "fairness", ("attributes", "min_group_rows"))),
        )

    def task(self, declared: str | None, candidates: tuple[Candidate, ...]) -> str:
        for candidate in candidates:
            if declared and candidate.task != declared:
                raise self.fail(
                    f"[[candidates]] {candidate.index} {candidate.estimator!r}",
                    f"is a {candidate.task} estimator but task = {declared!r}",
                )
        tasks = sorted({c.task for c in candidates})
        if len(tasks) > 1:
            raise self.fail("[[candidates]]", "mixes classification and regression estimators; set task and keep one kind")
        return declared or tasks[0]

    def features(self, table: dict[str, Any]) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        result = []
        for key in ("include", "exclude"):
            names = self.get(table, key, list, "[features]", None)
            if names is not None and not all(isinstance(n, str) for n in names):
                raise self.fail("[features]", f"{key} must be a list of column names")
            result.append(tuple(names) if names is not None else None)
        include, exclude = result
        if include is not None and not include:
            raise self.fail("[features]", "include = [] selects no feature")
        return include, exclude or ()

    def fairness(self, table: dict[str, Any]) -> Fairness:
        names = self.get(table, "attributes", list, "[fairness]", [])
        if not all(isinstance(n, str) and n for n in names) or len(names) > MAX_FAIRNESS_ATTRIBUTES:
            raise self.fail("[fairness]", f"attributes must be a list of at most {MAX_FAIRNESS_ATTRIBUTES} column names")
        if len(set(names)) != len(names):
            raise self.fail("[fairness]", "attributes lists a column twice")
        least = self.get(table, "min_group_rows", int, "[fairness]", 30)
        if not 1 <= least <= 1_000_000:
            raise self.fail("[fairness]", f"min_group_rows = {least} must be between 1 and 1000000")
        return Fairness(tuple(names), least)

    def split(self, table: dict[str, Any]) -> Split:
        method = self.choice(table, "method", SPLIT_METHODS, "[split]", "random")
        test_size = self.get(table, "test_size", (int, float), "[split]", 0.2)
        if not 0 < test_size < 1:
            raise self.fail("[split]", f"test_size = {test_size!r} must be between 0 and 1 (a fraction of the rows)")
        column = self.get(table, "column", str, "[split]", None)
        if column and method != "time":
            raise self.fail("[split]", "column is only used with method = \"time\"")
        return Split(method, float(test_size), column)

    def preprocessing(self, table: dict[str, Any]) -> Preprocessing:
        return Preprocessing(
            numeric_impute=self.choice(table, "numeric_impute", NUMERIC_IMPUTE, "[preprocessing]", "median"),
            scale=self.choice(table, "scale", SCALERS, "[preprocessing]", "standard"),
            categorical_impute=self.choice(table, "categorical_impute", CATEGORICAL_IMPUTE, "[preprocessing]", "most_frequent"),
            encoding=self.choice(table, "encoding", ENCODINGS, "[preprocessing]", "onehot"),
        )

    def search(self, table: dict[str, Any]) -> Search:
        method = self.choice(table, "method", SEARCH_METHODS, "[search]", "grid")
        n_iter = self.get(table, "n_iter", int, "[search]", 10)
        cv = self.get(table, "cv", int, "[search]", 5)
        if n_iter < 1:
            raise self.fail("[search]", f"n_iter = {n_iter} must be at least 1")
        if "n_iter" in table and method != "random":
            raise self.fail("[search]", "n_iter is only used with method = \"random\"")
        if cv < 2:
            raise self.fail("[search]", f"cv = {cv} must be at least 2 folds")
        return Search(method, n_iter, cv)

    def candidates(self, entries: Any) -> tuple[Candidate, ...]:
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise self.fail("[[candidates]]", "needs at least one [[candidates]] table with an estimator")
        return tuple(self.candidate(index, entry) for index, entry in enumerate(entries, start=1))

    def candidate(self, index: int, entry: dict[str, Any]) -> Candidate:
        where = f"[[candidates]] {index}"
        self.check_keys(entry, ("estimator", "params"), where)
        name = self.get(entry, "estimator", str, where, None)
        if name is None:
            raise self.fail(where, "missing key 'estimator'")
        if name not in ESTIMATORS:
            raise self.fail(where, f"unknown estimator {name!r}; valid: {', '.join(sorted(ESTIMATORS))}")
        raw = self.get(entry, "params", dict, f"{where} {name!r}", {})
        params = {key: self.values(f"{where} {name!r}", key, value) for key, value in raw.items()}
        return Candidate(index, name, ESTIMATORS[name][1], params)

    def values(self, where: str, key: str, value: Any) -> list[Any] | Distribution:
        if isinstance(value, dict):
            return self.distribution(f"{where}: parameter {key!r}", value)
        values = value if isinstance(value, list) else [value]
        return [None if v == "None" else v for v in values]

    def distribution(self, where: str, table: dict[str, Any]) -> Distribution:
        self.check_keys(table, ("dist", "low", "high"), where)
        dist = self.choice(table, "dist", DISTRIBUTIONS, where, "")
        low = self.get(table, "low", (int, float), where, None)
        high = self.get(table, "high", (int, float), where, None)
        if low is None or high is None or not low < high:
            raise self.fail(where, f"needs low < high (got low = {low!r}, high = {high!r})")
        if dist == "loguniform" and low <= 0:
            raise self.fail(where, f"loguniform needs low > 0 (got {low!r})")
        return Distribution(dist, float(low), float(high))

    def check_space(self, candidate: Candidate, search: Search) -> None:
        """Names against get_params(), values through scikit-learn's own validation."""
        from sklearn.utils._param_validation import InvalidParameterError

        where = f"[[candidates]] {candidate.index} {candidate.estimator!r}"
        cls = candidate.estimator_class()
        valid = sorted(cls().get_params())
        for key, values in candidate.params.items():
            if key not in valid:
                raise self.fail(where, f"unknown parameter {key!r}; valid: {', '.join(valid)}")
            if isinstance(values, Distribution):
                if search.method != "random":
                    raise self.fail(where, f"parameter {key!r} is a distribution; it needs [search] method = \"random\"")
                values = [int(values.low) if values.dist == "randint" else values.low, values.high]
            if not values:
                raise self.fail(where, f"parameter {key!r} = [] gives the grid zero candidates")
            for value in values:
                if isinstance(value, float) and not math.isfinite(value):
                    raise self.fail(where, f"parameter {key!r} = {value!r} is not a finite number")
                try:
                    cls(**{key: value})._validate_params()
                except (InvalidParameterError, ValueError, TypeError) as exc:
                    raise self.fail(where, f"parameter {key!r} = {value!r}: {exc}") from exc
