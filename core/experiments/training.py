"""Training: a spec and a dataset version in, one recorded run per configuration out.

For every configuration of every `[[candidates]]` entry (a grid, or `n_iter` random draws
per entry) the search fits one pipeline per cross-validation fold and one on the whole
training split, which is then scored on the holdout. All of these fits are independent
tasks handed to joblib, so they spread over local processes (`[training] n_jobs`) or,
with `cluster="tcp://host:8786"`, over a Dask cluster through joblib's dask backend.

Workers only fit and predict; this process turns predictions into metrics with the numba
kernels and writes each run, complete, in one transaction as soon as its last task is in.
A configuration that fails to fit is recorded as a FAILED run with the error and the
search goes on.

Everything random is seeded by the spec's `seed` (holdout split, folds, random search,
estimators' `random_state`, permutation importance), so `reproduce_run` can retrain a run
from its recorded spec, data version and seed and get the same metrics.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.experiments.runs import Run, RunRecord, ensure_experiment, get_run, record_run
from core.experiments.specs import LOWER_IS_BETTER, Candidate, Spec, parse_spec
from core.store.config import Range, above, at_least
from core.store.database import Store
from core.store.errors import CheckFailed, PitboardError

DEFAULTS = {
    "n_jobs": -1,  # local worker processes for the search's fits (-1: one per core)
    "importance_repeats": 5,  # permutation importance: shuffles per feature
    "importance_max_rows": 1000,  # permutation importance: holdout rows used at most
    "contribution_rows": 50,  # mean |contribution| per feature (the model card's global picture): holdout rows
    "curve_points": 101,  # ROC, precision-recall and boosting curves: points kept at most
    "cluster_timeout_seconds": 10.0,  # --cluster: how long to wait for the Dask scheduler
}
RANGES = {
    "n_jobs": Range(-1, 1024, excluded=(0,)),  # joblib: -1 is every core, 0 means nothing
    "importance_repeats": at_least(1, 1000),
    "importance_max_rows": at_least(1, 10_000_000),
    "contribution_rows": at_least(0, 100_000),
    "curve_points": at_least(2, 100_000),
    "cluster_timeout_seconds": above(0, 3600),
}
MAX_CLASSES = 50  # a numeric target with more distinct values than this is continuous
Progress = Callable[[float, str], None]


@dataclass
class Prepared:
    """A dataset version split and ready for the search."""

    dataset_version: Any  # core.data.datasets.DatasetVersion
    target: str
    task: str
    numeric: list[str]
    categorical: list[str]
    X_train: pd.DataFrame
    y_train: np.ndarray
    X_hold: pd.DataFrame
    y_hold: np.ndarray
    classes: list[Any] | None
    folds: list[tuple[np.ndarray, np.ndarray]]
    signature: list[dict[str, Any]]
    attributes_hold: dict[str, np.ndarray] = field(default_factory=dict)  # [fairness] columns, holdout rows

    def encode(self, labels: np.ndarray) -> np.ndarray:
        """Class labels as indices into `classes` (what the metric kernels take); values
        of a regression pass through."""
        return encode_labels(labels, self.classes)


@dataclass
class Outcome:
    """What one configuration produced: metrics and artifacts, or an error."""

    error: str | None = None
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    points: list[tuple[str, int, float]] = field(default_factory=list)
    curves: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    importance: list[dict[str, Any]] = field(default_factory=list)
    fairness: dict[str, Any] = field(default_factory=dict)
    model: bytes | None = None


@dataclass(frozen=True)
class TrainResult:
    """What `train_spec` did."""

    experiment: str
    search_id: int
    dataset: str
    run_ids: list[int]
    failed: int
    best_run_id: int | None


# -- data ---------------------------------------------------------------------------------


def encode_labels(labels: np.ndarray, classes: list[Any] | None) -> np.ndarray:
    """Class labels as int64 indices into `classes`; values (regression) pass through."""
    if classes is None:
        return labels
    return pd.Categorical(labels, categories=classes).codes.astype(np.int64)


def target_kind(y: pd.Series) -> str:
    """scikit-learn's `type_of_target` ("binary", "multiclass", "continuous", ...), except that
    whole numbers with more than MAX_CLASSES values are amounts, such as dollars: continuous."""
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y.to_numpy())
    if kind == "multiclass" and pd.api.types.is_numeric_dtype(y.dtype) and y.nunique() > MAX_CLASSES:
        return "continuous"
    return kind


def load_prepared(store: Store, spec: Spec, dataset_version: Any) -> Prepared:
    """Load a dataset version and `prepare` it; id, free-text and date columns are not
    features unless the spec lists them."""
    from core.data import datasets

    skip = tuple(c["name"] for c in datasets.columns(store, dataset_version) if c["role"] in ("id", "text", "datetime"))
    return prepare(spec, dataset_version, datasets.load_frame(store, dataset_version), skip=skip)


def prepare(spec: Spec, dataset_version: Any, frame: pd.DataFrame, skip: tuple[str, ...] = ()) -> Prepared:
    """Check the target, pick features, split off the holdout and make the CV folds."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, train_test_split

    from core.experiments.pipeline_builder import select_features, signature

    dv = dataset_version
    target = spec.target or dv.target
    where = f"{spec.source}: target"
    if not target:
        raise PitboardError(f"{where}: not set, and dataset {dv.ref} has no target column; add target = \"COLUMN\"")
    if target not in frame.columns:
        raise PitboardError(f"{where} {target!r} is not a column of {dv.ref}; columns: {', '.join(frame.columns)}")
    y_all = frame[target]
    if y_all.isna().any():
        raise PitboardError(f"{where} {target!r} has {int(y_all.isna().sum())} missing values in {dv.ref}; label or drop those rows")
    if y_all.nunique() < 2:
        raise PitboardError(f"{where} {target!r} is constant in {dv.ref} (every row is {y_all.iloc[0]!r}); nothing to learn")
    kind = target_kind(y_all)
    distinct = y_all.nunique()
    if spec.task == "classification" and kind not in ("binary", "multiclass"):
        raise PitboardError(
            f"{where} {target!r} is continuous ({distinct} distinct values: a regression target) but the candidates "
            "are classifiers; use regression estimators or a categorical target"
        )
    if spec.task == "regression" and not pd.api.types.is_numeric_dtype(y_all.dtype):
        raise PitboardError(f"{where} {target!r} is not numeric ({y_all.dtype}) but the candidates are regressors")
    for name in spec.fairness.attributes:
        if name not in frame.columns:
            raise PitboardError(f"{spec.source}: [fairness] attributes: {name!r} is not a column of {dv.ref};"
                                f" columns: {', '.join(frame.columns)}")
        if name == target:
            raise PitboardError(f"{spec.source}: [fairness] attributes: {name!r} is the target")
    numeric, categorical = select_features(spec, frame, target,
                                           (dv.id_column, dv.time_column, *skip, *spec.fairness.attributes))

    positions = np.arange(len(frame))
    if spec.split.method == "time":
        column = spec.split.column or dv.time_column
        if not column or column not in frame.columns:
            raise PitboardError(
                f"{spec.source}: [split] method = \"time\" needs a time column; {dv.ref} has "
                f"{'none' if not column else f'no column {column!r}'}: set [split] column"
            )
        ordered = positions[np.argsort(frame[column].to_numpy(), kind="stable")]
        n_hold = int(np.ceil(len(frame) * spec.split.test_size))
        train_pos, hold_pos = ordered[:-n_hold], ordered[-n_hold:]
    else:
        stratify = y_all.to_numpy() if spec.task == "classification" else None
        try:
            train_pos, hold_pos = train_test_split(
                positions, test_size=spec.split.test_size, random_state=spec.seed, stratify=stratify
            )
        except ValueError as exc:
            raise PitboardError(f"{spec.source}: [split] cannot split {dv.ref} ({str(exc)[:200]})") from exc
    train_pos, hold_pos = np.sort(train_pos), np.sort(hold_pos)
    features = [*numeric, *categorical]
    X_train, X_hold = frame.iloc[train_pos][features], frame.iloc[hold_pos][features]
    y_train, y_hold = y_all.to_numpy()[train_pos], y_all.to_numpy()[hold_pos]

    cv = spec.search.cv
    classes = None
    if spec.task == "classification":
        classes = [c.item() if hasattr(c, "item") else c for c in np.unique(y_all.to_numpy())]
        labels, counts = np.unique(y_train, return_counts=True)
        if len(labels) < len(classes) or counts.min() < cv:
            rarest = labels[counts.argmin()] if len(labels) == len(classes) else "some class"
            raise PitboardError(
                f"{spec.source}: [search] cv = {cv}: class {rarest!r} of {target!r} has too few training rows for {cv} folds"
            )
    if spec.split.method == "time":
        splitter = TimeSeriesSplit(n_splits=cv)
    elif spec.task == "classification":
        splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=spec.seed)
    else:
        splitter = KFold(n_splits=cv, shuffle=True, random_state=spec.seed)
    if len(y_train) < 2 * cv:
        raise PitboardError(f"{spec.source}: {dv.ref} has {len(y_train)} training rows, too few for cv = {cv}")
    folds = list(splitter.split(X_train, y_train))
    attributes_hold = {name: frame[name].to_numpy(dtype=object)[hold_pos] for name in spec.fairness.attributes}
    return Prepared(dv, target, spec.task, numeric, categorical, X_train, y_train, X_hold, y_hold, classes, folds,
                    signature(X_train, numeric, categorical), attributes_hold)


def configurations(spec: Spec) -> list[tuple[Candidate, dict[str, Any]]]:
    """Every (candidate, params) the search tries: the grid, or n_iter draws per candidate."""
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    found = []
    for candidate in spec.candidates:
        if spec.search.method == "grid":
            space = ParameterGrid(dict(candidate.params))
        else:
            params = candidate.params
            n_iter = spec.search.n_iter
            if all(isinstance(v, list) for v in params.values()):  # a finite space: draw each at most once
                n_iter = min(n_iter, len(ParameterGrid(dict(params))))
            space = ParameterSampler({k: v.frozen() if hasattr(v, "frozen") else v for k, v in params.items()},
                                     n_iter=n_iter, random_state=spec.seed)
        for config in space:
            found.append((candidate, {k: v.item() if hasattr(v, "item") else v for k, v in sorted(config.items())}))
    if not found:
        raise PitboardError(f"{spec.source}: the search space has zero candidates")
    return found


# -- the tasks the workers run ---------------------------------------------------------------


def _predict(model: Any, X: pd.DataFrame, task: str) -> dict[str, Any]:
    proba = model.predict_proba(X) if task == "classification" and hasattr(model, "predict_proba") else None
    return {"prediction": model.predict(X), "proba": proba}


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def fit_fold(pipeline: Any, X: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray, task: str) -> dict[str, Any]:
    """Fit on one fold's training rows and predict its test rows."""
    import warnings

    from sklearn.base import clone

    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = clone(pipeline).fit(X.iloc[train], y[train])
            return {**_predict(model, X.iloc[test], task), "seconds": time.perf_counter() - start}
    except Exception as exc:
        return {"error": _one_line(exc), "seconds": time.perf_counter() - start}


def fit_final(pipeline: Any, X: pd.DataFrame, y: np.ndarray, X_hold: pd.DataFrame, y_hold: np.ndarray,
              task: str, scorer: Any, seed: int, settings: dict[str, Any], classes: list[Any] | None) -> dict[str, Any]:
    """Fit on the whole training split; predict the holdout, permutation importance, curves, bytes."""
    import warnings

    from sklearn.base import clone
    from sklearn.inspection import permutation_importance

    from core.experiments.evaluation import staged_curve
    from core.experiments.modelio import dump_model

    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = clone(pipeline).fit(X, y)
            out = _predict(model, X_hold, task)
            rows = min(1.0, settings["importance_max_rows"] / len(X_hold))
            found = permutation_importance(model, X_hold, y_hold, scoring=scorer, n_repeats=settings["importance_repeats"],
                                           random_state=seed, max_samples=rows)
            importance = sorted(
                ({"feature": name, "mean": float(m), "std": float(s)}
                 for name, m, s in zip(X_hold.columns, found.importances_mean, found.importances_std)),
                key=lambda entry: -entry["mean"],
            )
            _add_contributions(importance, model, X, X_hold, task, classes, seed, settings["contribution_rows"])
            points = staged_curve(model[-1], model[:-1].transform(X_hold), encode_labels(y_hold, classes), task,
                                  settings["curve_points"])
            train_score = getattr(model[-1], "train_score_", None)
            if train_score is not None and len(train_score):
                from core.experiments.evaluation import downsample

                xs, ys = downsample(np.arange(1, len(train_score) + 1), np.asarray(train_score), settings["curve_points"])
                points += [("train_loss", int(x), v) for x, v in zip(xs, ys)]
            return {**out, "importance": importance, "points": points, "model": dump_model(model),
                    "seconds": time.perf_counter() - start}
    except Exception as exc:
        return {"error": _one_line(exc), "seconds": time.perf_counter() - start}


def _add_contributions(importance: list[dict[str, Any]], model: Any, X: pd.DataFrame, X_hold: pd.DataFrame, task: str,
                       classes: list[Any] | None, seed: int, rows: int) -> None:
    """Each importance entry gains `contribution`: the feature's mean |contribution| to the
    holdout's predictions (`core.experiments.explanations`), the global picture of the card.

    An estimate (a model with no exact method) is costly, so it uses a tenth of the rows.
    A model that cannot be explained keeps its permutation importance alone.
    """
    from core.experiments.explanations import BACKGROUND_ROWS, SAMPLING, explain, mean_abs_contribution, method_for

    method = method_for(model)
    rows = min(len(X_hold), rows if method != SAMPLING else max(1, rows // 10))
    if rows == 0:
        return
    rng = np.random.default_rng(seed)
    sample = X_hold.iloc[np.sort(rng.choice(len(X_hold), rows, replace=False))]
    background = X.iloc[np.sort(rng.choice(len(X), min(len(X), BACKGROUND_ROWS), replace=False))]
    try:
        found = explain(model, sample, task=task, classes=classes, background=background, seed=seed)
    except Exception:  # noqa: BLE001 - the run stands on its metrics; the card then shows importance alone
        return
    means = mean_abs_contribution(found)
    for entry in importance:
        if entry["feature"] in means:
            entry["contribution"] = means[entry["feature"]]


def scorer_for(metric: str, task: str, classes: list[Any] | None) -> Any:
    """A scikit-learn scorer for permutation importance on the primary metric."""
    from sklearn import metrics as m

    binary = classes is not None and len(classes) == 2
    if metric in ("precision", "recall", "f1"):
        function = {"precision": m.precision_score, "recall": m.recall_score, "f1": m.f1_score}[metric]
        return m.make_scorer(function, pos_label=classes[1]) if binary else m.make_scorer(function, average="macro")
    return {
        "roc_auc": "roc_auc" if binary else "roc_auc_ovr", "accuracy": "accuracy", "log_loss": "neg_log_loss",
        "rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error", "r2": "r2",
    }[metric]


# -- the search ------------------------------------------------------------------------------


def evaluate(spec: Spec, prepared: Prepared, configs: list[tuple[Candidate, dict[str, Any]]], settings: dict[str, Any],
             *, progress: Progress | None = None, on_dask: bool = False) -> Iterator[tuple[int, Outcome]]:
    """Run every configuration's fold and final fits; yield (index, Outcome) in order.

    `on_dask`: send the fits to the Dask client the caller connected (see `_DaskClient`).
    """
    from joblib import Parallel, delayed, parallel_config

    from core.experiments.pipeline_builder import build_pipeline
    from core.jobs.orphans import exit_with_parent

    k = len(prepared.folds)
    scorer = scorer_for(spec.primary_metric, spec.task, prepared.classes)
    tasks = []
    for candidate, config in configs:
        pipeline = build_pipeline(spec, candidate, config, prepared.numeric, prepared.categorical)
        for train, test in prepared.folds:
            tasks.append(delayed(fit_fold)(pipeline, prepared.X_train, prepared.y_train, train, test, spec.task))
        tasks.append(delayed(fit_final)(pipeline, prepared.X_train, prepared.y_train, prepared.X_hold, prepared.y_hold,
                                        spec.task, scorer, spec.seed, settings, prepared.classes))
    total = len(tasks)
    # Local fits run in loky processes that exit if this process dies (core.jobs.orphans).
    with parallel_config(backend="dask") if on_dask else parallel_config(backend="loky", initializer=exit_with_parent):
        results = Parallel(n_jobs=-1 if on_dask else settings["n_jobs"], return_as="generator")(tasks)
        pending: list[dict[str, Any]] = []
        for done, result in enumerate(results, start=1):
            index = (done - 1) // (k + 1)
            step = (done - 1) % (k + 1)
            what = f"fold {step + 1}/{k}" if step < k else "refit and holdout"
            if progress:
                progress(done / total, f"{what} of candidate {index + 1}/{len(configs)}")
            pending.append(result)
            if step == k:
                yield index, _outcome(spec, prepared, pending, settings)
                pending = []


def _outcome(spec: Spec, prepared: Prepared, results: list[dict[str, Any]], settings: dict[str, Any]) -> Outcome:
    """Metrics (kernels, in this process) and artifacts from one configuration's task results."""
    from core.experiments.evaluation import binary_curves, score, summarise_folds

    outcome = Outcome(seconds=sum(r["seconds"] for r in results))
    for number, result in enumerate(results, start=1):
        if "error" in result:
            where = f"fold {number}/{len(results) - 1}" if number < len(results) else "refit"
            outcome.error = f"{where}: {result['error']}"
            return outcome
    encode = prepared.encode
    folds = [score(spec.task, encode(prepared.y_train[test]), encode(result["prediction"]), result["proba"])
             for (_, test), result in zip(prepared.folds, results[:-1])]
    final = results[-1]
    y_hold = encode(prepared.y_hold)
    outcome.metrics = score(spec.task, y_hold, encode(final["prediction"]), final["proba"])
    summary, points = summarise_folds(folds)
    outcome.metrics.update(summary)
    outcome.points = points + final["points"]
    if final["proba"] is not None and final["proba"].shape[1] == 2:
        outcome.curves = binary_curves(y_hold, final["proba"], settings["curve_points"])
    outcome.importance = final["importance"]
    if prepared.attributes_hold:
        from core.experiments.fairness import fairness_report

        outcome.fairness = fairness_report(prepared.attributes_hold, y_hold, encode(final["prediction"]), final["proba"],
                                           task=spec.task, primary_metric=spec.primary_metric,
                                           min_group_rows=spec.fairness.min_group_rows)
    outcome.model = final["model"]
    return outcome


class _DaskClient:
    """Connect to a Dask scheduler for the duration of a search."""

    def __init__(self, address: str, timeout: float) -> None:
        self.address = address
        self.timeout = timeout
        self.client: Any = None

    def __enter__(self) -> Any:
        try:
            from dask.distributed import Client
        except ImportError as exc:
            raise PitboardError("--cluster needs dask[distributed]: pip install 'pitboard[cluster]'") from exc
        try:
            self.client = Client(self.address, timeout=self.timeout, set_as_default=True)
        except (OSError, TimeoutError, ValueError) as exc:
            raise PitboardError(f"--cluster {self.address}: cannot connect to the Dask scheduler ({exc})") from exc
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def train_spec(store: Store, spec: Spec, *, progress: Progress | None = None, cluster: str | None = None,
               job_id: int | None = None) -> TrainResult:
    """Train every configuration of `spec` and record one run each (see module docstring)."""
    from core.data import datasets
    from core.experiments.provenance import environment, git_state

    settings = store.settings("training", DEFAULTS, RANGES)
    try:
        dv = datasets.resolve(store, spec.dataset)
    except PitboardError as exc:
        raise PitboardError(f"{spec.source}: dataset: {exc}") from exc
    prepared = load_prepared(store, spec, dv)
    configs = configurations(spec)
    commit, dirty = git_state(os.getcwd())
    env = environment()
    with ExitStack() as stack:
        if cluster:  # connect before writing anything: an unreachable cluster changes nothing
            stack.enter_context(_DaskClient(cluster, settings["cluster_timeout_seconds"]))
        return _search(store, spec, dv, prepared, configs, settings, progress=progress, cluster=cluster, job_id=job_id,
                       provenance=(commit, dirty, env))


def _search(store: Store, spec: Spec, dv: Any, prepared: Prepared, configs: list[tuple[Candidate, dict[str, Any]]],
            settings: dict[str, Any], *, progress: Progress | None, cluster: str | None, job_id: int | None,
            provenance: tuple[str | None, bool | None, dict[str, Any]]) -> TrainResult:
    """Record the search, then each run as its outcome arrives."""
    from core.experiments.pipeline_builder import build_pipeline, flatten_params

    commit, dirty, env = provenance
    with store.transaction() as conn:
        experiment_id = ensure_experiment(store, spec.experiment)
        search_id = int(conn.execute(
            "INSERT INTO searches (experiment_id, dataset_version_id, spec_text, spec_source, method, n_candidates,"
            " cluster, job_id, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (experiment_id, dv.id, spec.text, spec.source, spec.search.method, len(configs), cluster, job_id, store.clock()),
        ).lastrowid)
        store.audit("train.start", f"search {search_id}",
                    {"experiment": spec.experiment, "dataset": dv.ref, "candidates": len(configs)})
    run_ids, failed = [], 0
    started = store.clock()
    for index, outcome in evaluate(spec, prepared, configs, settings, progress=progress, on_dask=bool(cluster)):
        candidate, config = configs[index]
        pipeline = build_pipeline(spec, candidate, config, prepared.numeric, prepared.categorical)
        record = RunRecord(
            experiment_id=experiment_id, search_id=search_id, candidate=candidate.index, config=config,
            status="FAILED" if outcome.error else "FINISHED", task=spec.task, estimator=candidate.estimator,
            primary_metric=spec.primary_metric, dataset_version_id=dv.id, holdout_size=len(prepared.y_hold),
            seed=spec.seed, started_at=started, ended_at=store.clock(), duration=outcome.seconds,
            git_commit=commit, git_dirty=dirty, env=env, params=flatten_params(pipeline), metrics=outcome.metrics,
            points=outcome.points, curves=outcome.curves, model=outcome.model, signature=prepared.signature,
            classes=prepared.classes, feature_importance=outcome.importance, fairness=outcome.fairness,
            error=outcome.error,
            tags={"dataset": dv.ref, "spec": spec.source},
        )
        run_ids.append(record_run(store, record))
        failed += bool(outcome.error)
        started = store.clock()
    return TrainResult(spec.experiment, search_id, dv.ref, run_ids, failed, best_run(store, run_ids))


def best_run(store: Store, run_ids: list[int]) -> int | None:
    """The finished run with the best primary metric (lowest for losses)."""
    best, best_key = None, None
    for run_id in run_ids:
        run = get_run(store, run_id)
        if run.status != "FINISHED" or run.primary_value is None:
            continue
        key = -run.primary_value if run.primary_metric in LOWER_IS_BETTER else run.primary_value
        if best_key is None or key > best_key:
            best, best_key = run_id, key
    return best


# -- reading a run back ------------------------------------------------------------------------


def _prepared_for(store: Store, run: Run) -> tuple[Spec, Prepared]:
    from core.data import datasets

    spec = parse_spec(run.spec_text, source=f"run {run.id} spec")
    return spec, load_prepared(store, spec, datasets.version_by_id(store, run.dataset_version_id))


def holdout(store: Store, run: Run | int) -> tuple[pd.DataFrame, pd.Series]:
    """The exact holdout rows (features, target) a run was scored on."""
    run = run if isinstance(run, Run) else get_run(store, run)
    _, prepared = _prepared_for(store, run)
    if len(prepared.y_hold) != run.holdout_size:
        raise PitboardError(f"run {run.id}: rebuilt holdout has {len(prepared.y_hold)} rows, recorded {run.holdout_size}")
    return prepared.X_hold, pd.Series(prepared.y_hold, index=prepared.X_hold.index, name=prepared.target)


def reproduce_run(store: Store, run_id: int, *, progress: Progress | None = None, tolerance: float = 1e-9) -> dict[str, Any]:
    """Retrain run `run_id` from its recorded spec, data version, config and seed, and
    compare every recorded metric; raises CheckFailed (exit 1) when any differs."""
    run = get_run(store, run_id)
    if run.status != "FINISHED":
        raise PitboardError(f"run {run_id}: status {run.status}; only finished runs can be reproduced")
    spec, prepared = _prepared_for(store, run)
    candidate = spec.candidates[run.candidate - 1]
    settings = store.settings("training", DEFAULTS, RANGES)
    (_, outcome), = evaluate(spec, prepared, [(candidate, run.config)], settings, progress=progress)
    if outcome.error:
        raise CheckFailed(f"run {run_id}: the reproduction failed: {outcome.error}")
    rows = []
    for key, recorded in sorted(run.metrics.items()):
        again = outcome.metrics.get(key)
        same = again is not None and abs(again - recorded) <= tolerance * max(1.0, abs(recorded))
        rows.append({"metric": key, "recorded": recorded, "reproduced": again, "match": same})
    return {"run_id": run_id, "match": all(r["match"] for r in rows), "metrics": rows}


def train_job(store: Store, job: Any, *, spec_text: str, spec_source: str, cluster: str | None = None) -> dict[str, Any]:
    """The `train` job kind: train a spec in a detached worker (see core.jobs.runner)."""
    spec = parse_spec(spec_text, source=spec_source)
    job.log(f"training {spec_source}: experiment {spec.experiment}, dataset {spec.dataset}")
    result = train_spec(store, spec, progress=job.progress, cluster=cluster, job_id=job.id)
    job.log(f"recorded {len(result.run_ids)} runs ({result.failed} failed); best run {result.best_run_id}")
    return {"search_id": result.search_id, "run_ids": result.run_ids, "failed": result.failed,
            "best_run_id": result.best_run_id, "experiment": result.experiment, "dataset": result.dataset}
