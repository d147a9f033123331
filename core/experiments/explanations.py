"""Why a model said what it said about one row: each feature's contribution.

Contributions are SHAP values on the model's input features (the columns of the
signature, before preprocessing): for each row they sum to the explained output minus the
expected output, so "income took 0.8 off the log-odds" adds up with everything else to
the answer. Three methods, chosen by the model, and always named in the result:

- `linear` (exact): a linear model's coefficient times how far each transformed column is
  from its mean over the background rows; the columns a feature became (one-hot
  categories) are summed back into it. Explains the decision function: log-odds for a
  binary classifier, the prediction for a regressor.
- `tree` (exact): path-dependent TreeSHAP (`core.kernels.treeshap`) on the transformed
  columns, summed back into features. Explains what the trees add up: probabilities for a
  forest, log-odds for boosting. Needs no background rows.
- `sampling` (an estimate): for any other model, permutation sampling of Shapley values
  on the pipeline itself, with every background row used as the starting point of a
  permutation and of its reverse, so the sum is exact while each contribution carries a
  standard error, reported beside it.

For a classifier the explained class is the positive one (the last class) of a binary
model and, for more classes, each row's predicted class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.store.errors import PitboardError

LINEAR, TREE, SAMPLING = "linear", "tree", "sampling"
METHOD_WORDS = {
    LINEAR: "exact (linear model: coefficients through the preprocessing)",
    TREE: "exact (TreeSHAP, path-dependent)",
    SAMPLING: "estimate (permutation sampling of Shapley values; error = standard error)",
}
BACKGROUND_ROWS = 1000  # rows of the training data a linear model's means are taken over
SAMPLING_BACKGROUND = 50  # starting rows of the sampling estimate: 2 permutations each
_SAMPLING_CHUNK = 20  # explained rows scored together by the sampling estimate

_LINEAR_MODELS = {"LogisticRegression", "LinearRegression", "Ridge", "Lasso", "ElasticNet"}
_SKLEARN_TREES = {"DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier", "RandomForestRegressor",
                  "ExtraTreesClassifier", "ExtraTreesRegressor", "GradientBoostingClassifier",
                  "GradientBoostingRegressor"}
_HIST_TREES = {"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"}


class Unsupported(Exception):
    """This pipeline cannot be explained exactly; the sampling estimate is used instead."""


@dataclass
class Explanation:
    """Contributions of `features` for each row; `error` is set only for estimates."""

    features: list[str]
    contributions: np.ndarray  # (rows, features)
    expected: np.ndarray  # (rows,) the expected output over the background
    prediction: np.ndarray  # (rows,) the explained output: sum of contributions + expected
    output: str  # what the numbers are, e.g. "log-odds of 1"
    explained: list[Any]  # per row, the class explained (None for a regressor)
    method: str
    error: np.ndarray | None = None  # (rows, features) standard errors of an estimate

    @property
    def exact(self) -> bool:
        """Whether the contributions are exact (not an estimate)."""
        return self.method != SAMPLING

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per row, for JSON: the contributions by feature, largest first."""
        out = []
        for i in range(len(self.prediction)):
            order = np.argsort(-np.abs(self.contributions[i]), kind="stable")
            entries = []
            for j in order:
                entry = {"feature": self.features[j], "contribution": float(self.contributions[i, j])}
                if self.error is not None:
                    entry["error"] = float(self.error[i, j])
                entries.append(entry)
            out.append({"prediction": float(self.prediction[i]), "expected": float(self.expected[i]),
                        "class": _plain(self.explained[i]), "contributions": entries})
        return out


def explain(pipeline: Any, frame: Any, *, task: str, classes: list[Any] | None, background: Any = None,
            method: str | None = None, seed: int = 0) -> Explanation:
    """Contributions for every row of `frame` (the pipeline's input columns).

    `background` is a frame of training rows: a linear model's means and the sampling
    estimate's starting points (trees need none). `method` forces one (tests, benchmarks);
    by default the exact one the model allows, else the estimate.
    """
    return Explainer(pipeline, [str(c) for c in frame.columns], task=task, classes=classes, background=background,
                     method=method, seed=seed).explain(frame)


class Explainer:
    """What explaining one model needs, prepared once: a served model explains many
    requests, and a single row must not pay for transforming the background again or
    flattening a hundred trees."""

    def __init__(self, pipeline: Any, features: list[str], *, task: str, classes: list[Any] | None,
                 background: Any = None, method: str | None = None, seed: int = 0) -> None:
        self.pipeline, self.features, self.task, self.classes, self.seed = pipeline, features, task, classes, seed
        self.method = method or method_for(pipeline)
        self.background = None if background is None else background[features]
        if self.method in (LINEAR, TREE):
            self.groups = column_groups(pipeline[:-1], features)
        if self.method == LINEAR:
            if self.background is None:
                raise PitboardError("explain: a linear model's explanation needs its training data (background rows)")
            self.means = _dense(pipeline[:-1].transform(self.background)).mean(axis=0)
        elif self.method == TREE:
            self.ensemble = flatten(pipeline[-1])
        elif self.background is None:
            raise PitboardError("explain: the sampling estimate needs the model's training data (background rows)")

    def explain(self, frame: Any) -> Explanation:
        """Contributions for every row of `frame`."""
        if self.method == SAMPLING:
            return _sampling(self.pipeline, frame[self.features], self.features, self.task, self.classes,
                             self.background, self.seed)
        model = self.pipeline[-1]
        matrix = _dense(self.pipeline[:-1].transform(frame[self.features]))
        if self.method == LINEAR:
            phi, expected, raw = _linear(model, matrix, self.means)
        else:
            phi, expected, raw = _tree(model, self.ensemble, matrix)
        pick, explained, output = _outputs(model, self.task, self.classes, raw, self.method)
        rows = np.arange(len(frame))
        contributions = np.einsum("ntk,tf->nfk", phi, self.groups)[rows, :, pick]
        return Explanation(self.features, contributions, expected[pick], raw[rows, pick], output, explained, self.method)


def method_for(pipeline: Any) -> str:
    """`linear`, `tree` or `sampling`: the exact method this pipeline allows, if any."""
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 2:
        return SAMPLING
    name = type(pipeline[-1]).__name__
    if name in _LINEAR_MODELS:
        kind = LINEAR
    elif name in _SKLEARN_TREES or name in _HIST_TREES:
        kind = TREE
    else:
        return SAMPLING
    try:
        _groups_of(pipeline[:-1])
    except Unsupported:
        return SAMPLING
    return kind


def column_groups(preprocess: Any, features: list[str]) -> np.ndarray:
    """(transformed columns, features) 0/1 matrix: which input feature each column came from."""
    spans = _groups_of(preprocess)
    width = sum(n for _, n in spans)
    groups = np.zeros((width, len(features)))
    at = 0
    for name, n in spans:
        if name not in features:
            raise Unsupported(f"transformed column from {name!r}, which is not an input")
        groups[at:at + n, features.index(name)] = 1.0
        at += n
    return groups


def _groups_of(preprocess: Any) -> list[tuple[str, int]]:
    """(input column, number of transformed columns) in output order, for our ColumnTransformer."""
    steps = getattr(preprocess, "steps", None)
    if not steps or len(steps) != 1 or not hasattr(steps[0][1], "transformers_"):
        raise Unsupported("preprocessing is not a single ColumnTransformer")
    transformer = steps[0][1]
    if getattr(transformer, "sparse_output_", False):
        raise Unsupported("sparse preprocessing output")
    spans: list[tuple[str, int]] = []
    for name, step, columns in transformer.transformers_:
        if step == "drop" or name == "remainder" and step == "drop":
            continue
        if step == "passthrough" or not isinstance(columns, (list, tuple, np.ndarray)):
            raise Unsupported(f"transformer {name!r} passes columns through")
        widths = _widths(step, list(columns))
        spans.extend(zip((str(c) for c in columns), widths))
        width = transformer.output_indices_[name]
        if sum(widths) != width.stop - width.start:
            raise Unsupported(f"transformer {name!r}: its output columns cannot be traced to its inputs")
    return spans


def _widths(step: Any, columns: list[str]) -> list[int]:
    """How many output columns each input column of one transformer became."""
    last = step.steps[-1][1] if hasattr(step, "steps") else step
    if type(last).__name__ == "OneHotEncoder":
        if last.drop_idx_ is not None or getattr(last, "infrequent_categories_", None) and any(
                c is not None for c in last.infrequent_categories_):
            raise Unsupported("one-hot encoding with dropped or infrequent categories")
        return [len(c) for c in last.categories_]
    return [1] * len(columns)


def _dense(matrix: Any) -> np.ndarray:
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return np.ascontiguousarray(np.asarray(matrix, dtype=np.float64))


def _linear(model: Any, matrix: np.ndarray, means: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(phi (rows, columns, outputs), expected (outputs,), decision function (rows, outputs))."""
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))  # (outputs, columns)
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    phi = (matrix - means)[:, :, None] * coef.T[None, :, :]
    expected = coef @ means + intercept
    raw = matrix @ coef.T + intercept
    return phi, expected, raw


# -- trees ----------------------------------------------------------------------------------


@dataclass
class FlatEnsemble:
    """Every tree of an ensemble in one set of arrays, as `core.kernels.treeshap` takes them."""

    roots: np.ndarray
    max_depth: int
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    values: np.ndarray  # (nodes, outputs)
    cover: np.ndarray
    float32_input: bool  # scikit-learn's own trees compare float32 copies of the input

    def shap(self, matrix: np.ndarray) -> np.ndarray:
        """SHAP values (rows, columns, outputs) of the trees' sum."""
        from core.kernels.treeshap import tree_shap

        if self.float32_input:
            matrix = matrix.astype(np.float32).astype(np.float64)
        return tree_shap(np.ascontiguousarray(matrix), self.roots, self.max_depth, self.left, self.right, self.feature,
                         self.threshold, self.default_left, self.values, self.cover)

    def expected(self) -> np.ndarray:
        """The trees' cover-weighted expected sum, per output."""
        from core.kernels.treeshap import expected_value

        return expected_value(self.roots, self.left, self.right, self.values, self.cover)


def flatten(model: Any) -> FlatEnsemble:
    """The trees of a fitted scikit-learn tree model, scaled so their sum is its raw output
    minus a constant (a boosting model's initial prediction)."""
    name = type(model).__name__
    parts: list[tuple[np.ndarray, ...]] = []
    if name in _HIST_TREES:
        for iteration in model._predictors:
            for k, predictor in enumerate(iteration):
                parts.append(_hist_tree(predictor.nodes, k, len(iteration)))
        return _join(parts, float32_input=False)
    if name.startswith("GradientBoosting"):
        trees = model.estimators_
        for row in trees:
            for k, tree in enumerate(row):
                parts.append(_sklearn_tree(tree.tree_, k, trees.shape[1], model.learning_rate, normalise=False))
        return _join(parts, float32_input=True)
    estimators = getattr(model, "estimators_", [model])
    classifier = hasattr(model, "classes_")
    for tree in estimators:
        parts.append(_sklearn_tree(tree.tree_, None, None, 1.0 / len(estimators), normalise=classifier))
    return _join(parts, float32_input=True)


def _sklearn_tree(tree: Any, output: int | None, n_outputs: int | None, scale: float,
                  normalise: bool) -> tuple[np.ndarray, ...]:
    if tree.n_outputs != 1:
        raise Unsupported("trees with several targets")
    values = np.asarray(tree.value[:, 0, :], dtype=np.float64)
    if normalise:  # a classifier's leaf holds class weights (or fractions): as probabilities
        values = values / values.sum(axis=1, keepdims=True)
    if output is not None:
        spread = np.zeros((len(values), n_outputs))
        spread[:, output] = values[:, 0]
        values = spread
    default_left = np.asarray(getattr(tree, "missing_go_to_left", np.zeros(tree.node_count)), dtype=bool)
    return (tree.children_left.astype(np.int64), tree.children_right.astype(np.int64), tree.feature.astype(np.int64),
            tree.threshold.astype(np.float64), default_left, values * scale,
            tree.weighted_n_node_samples.astype(np.float64), int(tree.max_depth))


def _hist_tree(nodes: np.ndarray, output: int, n_outputs: int) -> tuple[np.ndarray, ...]:
    if nodes["is_categorical"].any():
        raise Unsupported("native categorical splits")
    leaf = nodes["is_leaf"].astype(bool)
    left = np.where(leaf, -1, nodes["left"].astype(np.int64))
    right = np.where(leaf, -1, nodes["right"].astype(np.int64))
    values = np.zeros((len(nodes), n_outputs))
    values[:, output] = nodes["value"]
    depth = _depth(left, right)
    return (left, right, nodes["feature_idx"].astype(np.int64), nodes["num_threshold"].astype(np.float64),
            nodes["missing_go_to_left"].astype(bool), values, nodes["count"].astype(np.float64), depth)


def _depth(left: np.ndarray, right: np.ndarray) -> int:
    deepest, stack = 0, [(0, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if left[node] >= 0:
            stack += [(int(left[node]), depth + 1), (int(right[node]), depth + 1)]
    return deepest


def _join(parts: list[tuple[np.ndarray, ...]], *, float32_input: bool) -> FlatEnsemble:
    roots, lefts, rights, offset = [], [], [], 0
    for left, right, *_ in parts:
        roots.append(offset)
        lefts.append(np.where(left >= 0, left + offset, -1))
        rights.append(np.where(right >= 0, right + offset, -1))
        offset += len(left)
    widths = {p[5].shape[1] for p in parts}
    if len(widths) != 1:
        raise Unsupported("trees with different numbers of outputs")
    return FlatEnsemble(
        roots=np.asarray(roots, dtype=np.int64), max_depth=max(p[7] for p in parts),
        left=np.concatenate(lefts), right=np.concatenate(rights),
        feature=np.concatenate([p[2] for p in parts]), threshold=np.concatenate([p[3] for p in parts]),
        default_left=np.concatenate([p[4] for p in parts]), values=np.ascontiguousarray(np.concatenate([p[5] for p in parts])),
        cover=np.concatenate([p[6] for p in parts]), float32_input=float32_input,
    )


def raw_output(model: Any, matrix: np.ndarray) -> np.ndarray:
    """What a tree model's trees add up to (plus a constant), as (rows, outputs)."""
    name = type(model).__name__
    if hasattr(model, "classes_") and (name in _HIST_TREES or name.startswith("GradientBoosting")):
        raw = model.decision_function(matrix)
    elif hasattr(model, "classes_"):
        raw = model.predict_proba(matrix)
    else:
        raw = model.predict(matrix)
    raw = np.asarray(raw, dtype=np.float64)
    return raw.reshape(len(matrix), -1)


def _tree(model: Any, ensemble: FlatEnsemble, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(phi, expected, raw output): the constant a boosting model starts from is read off the
    first row (its output minus what its trees add), so expected + sum(phi) = output."""
    phi = ensemble.shap(matrix)
    raw = raw_output(model, matrix)
    if raw.shape[1] != phi.shape[2]:
        raise Unsupported("the trees' outputs do not match the model's")
    start = raw[0] - phi[0].sum(axis=0) - ensemble.expected()
    return phi, ensemble.expected() + start, raw


def _outputs(model: Any, task: str, classes: list[Any] | None, raw: np.ndarray, method: str) -> tuple[np.ndarray, list[Any], str]:
    """Which output column each row explains, its class, and the words for it."""
    n = len(raw)
    if task != "classification":
        return np.zeros(n, dtype=np.int64), [None] * n, "prediction"
    labels = list(getattr(model, "classes_", classes or []))
    scale = "probability" if raw.shape[1] == len(labels) and method == TREE and not _boosted(model) else "log-odds"
    if raw.shape[1] == 1:
        return np.zeros(n, dtype=np.int64), [labels[-1]] * n, f"{scale} of {_plain(labels[-1])}"
    if len(labels) == 2:
        return np.ones(n, dtype=np.int64), [labels[1]] * n, f"{scale} of {_plain(labels[1])}"
    pick = raw.argmax(axis=1)
    words = "probability" if scale == "probability" else "raw score"
    return pick, [labels[k] for k in pick], f"{words} of the predicted class"


def _boosted(model: Any) -> bool:
    name = type(model).__name__
    return name in _HIST_TREES or name.startswith("GradientBoosting")


# -- the estimate -------------------------------------------------------------------------


def _sampling(pipeline: Any, frame: Any, features: list[str], task: str, classes: list[Any] | None,
              background: Any, seed: int) -> Explanation:
    """Permutation sampling: each background row starts one permutation and its reverse.

    Walking a permutation from a background row to the explained row, one feature at a
    time, each step's change in output is that feature's contribution; the steps of a walk
    sum to output(row) - output(start), so over every start used equally often the mean
    contributions sum exactly to output(row) - mean output(background). The error of each
    is the standard error over the antithetic pairs.
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    if len(background) > SAMPLING_BACKGROUND:
        background = background.iloc[np.sort(rng.choice(len(background), SAMPLING_BACKGROUND, replace=False))]
    background = background.reset_index(drop=True)
    n_bg, d = len(background), len(features)
    if n_bg < 2:
        raise PitboardError("explain: the sampling estimate needs at least 2 background rows")
    pick, explained = _sampling_classes(pipeline, frame, task, classes)
    base = _score(pipeline, background, task)
    orders = np.array([rng.permutation(d) for _ in range(n_bg)])
    orders = np.concatenate([orders, orders[:, ::-1]])  # (2B, d): each walk and its reverse
    starts = np.concatenate([np.arange(n_bg), np.arange(n_bg)])
    steps = np.zeros((len(orders), d + 1, d), dtype=bool)  # walk m, step s: which features come from the row
    for m, order in enumerate(orders):
        for s in range(1, d + 1):
            steps[m, s, order[:s]] = True
    contributions = np.zeros((len(frame), d))
    error = np.zeros((len(frame), d))
    expected = base[:, pick].mean(axis=0) if base.ndim == 2 else np.full(len(frame), base.mean())
    prediction = np.zeros(len(frame))
    columns = {f: background[f].to_numpy(dtype=object) for f in features}
    for begin in range(0, len(frame), _SAMPLING_CHUNK):
        chunk = frame.iloc[begin:begin + _SAMPLING_CHUNK]
        cases = {}
        for j, f in enumerate(features):
            row_values = chunk[f].to_numpy(dtype=object)[:, None, None]
            start_values = columns[f][starts][None, :, None]
            cases[f] = np.where(steps[None, :, :, j], row_values, start_values).reshape(-1)
        walked = pd.DataFrame({f: pd.Series(cases[f], dtype=frame[f].dtype if frame[f].dtype != object else object)
                               for f in features})
        outputs = _score(pipeline, walked, task)
        for i in range(len(chunk)):
            row = begin + i
            block = outputs[i * len(orders) * (d + 1):(i + 1) * len(orders) * (d + 1)]
            values = block[:, pick[row]] if block.ndim == 2 else block
            values = values.reshape(len(orders), d + 1)
            deltas = np.diff(values, axis=1)  # (walks, d): step s adds feature order[s]
            per_feature = np.zeros_like(deltas)
            per_feature[np.arange(len(orders))[:, None], orders] = deltas
            pairs = (per_feature[:n_bg] + per_feature[n_bg:]) / 2
            contributions[row] = pairs.mean(axis=0)
            error[row] = pairs.std(axis=0, ddof=1) / np.sqrt(n_bg)
            prediction[row] = values[0, -1]
    output = "prediction" if task != "classification" else (
        f"probability of {_plain(explained[0])}" if len(set(map(str, explained))) <= 1 and _binary(pipeline, classes)
        else "probability of the predicted class")
    return Explanation(features, contributions, expected, prediction, output, explained, SAMPLING, error)


def _binary(pipeline: Any, classes: list[Any] | None) -> bool:
    return len(getattr(pipeline, "classes_", classes or [])) == 2


def _sampling_classes(pipeline: Any, frame: Any, task: str, classes: list[Any] | None) -> tuple[np.ndarray, list[Any]]:
    n = len(frame)
    if task != "classification":
        return np.zeros(n, dtype=np.int64), [None] * n
    labels = list(getattr(pipeline, "classes_", classes or []))
    if len(labels) == 2:
        return np.ones(n, dtype=np.int64), [labels[1]] * n
    pick = np.asarray(pipeline.predict_proba(frame)).argmax(axis=1)
    return pick, [labels[k] for k in pick]


def _score(pipeline: Any, frame: Any, task: str) -> np.ndarray:
    if task == "classification":
        return np.asarray(pipeline.predict_proba(frame), dtype=np.float64)
    return np.asarray(pipeline.predict(frame), dtype=np.float64)


def mean_abs_contribution(explanation: Explanation) -> dict[str, float]:
    """The global picture: each feature's mean |contribution| over the explained rows."""
    means = np.abs(explanation.contributions).mean(axis=0)
    return {name: float(v) for name, v in zip(explanation.features, means)}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
