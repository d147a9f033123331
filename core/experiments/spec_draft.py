"""Writing a spec without guessing: every valid choice, and a first spec drafted from the data.

`spec_options` lists what a spec may say, per task, from the same constants the parser
checks against, so the list cannot drift from what is accepted. `draft_spec` reads a
dataset version's stored schema and profiles, infers the task from the target the way
training will judge it (`core.experiments.training.target_kind`), and writes a complete,
commented spec: three model families with small grids, the primary metric of the task, a
time split when the data has a time column, and the columns that would only hurt (all
missing, constant) left out with the reason. The draft is parsed and its data prepared
before it is returned, so it trains as written.
"""

from __future__ import annotations

from typing import Any

from core.experiments import specs
from core.experiments.specs import ESTIMATORS, METRICS
from core.store.database import Store
from core.store.errors import PitboardError

# Per task: (estimator, params as TOML) of the drafted candidates; 6 configurations each.
CANDIDATES: dict[str, tuple[tuple[str, str], ...]] = {
    "classification": (
        ("LogisticRegression", "{ C = [0.1, 1.0], max_iter = 1000 }"),
        ("RandomForestClassifier", "{ n_estimators = [100], max_depth = [6, 12], min_samples_leaf = [3] }"),
        ("HistGradientBoostingClassifier", "{ learning_rate = [0.05, 0.1], max_iter = [100] }"),
    ),
    "regression": (
        ("Ridge", "{ alpha = [0.1, 10.0] }"),
        ("RandomForestRegressor", "{ n_estimators = [100], max_depth = [6, 12], min_samples_leaf = [3] }"),
        ("HistGradientBoostingRegressor", "{ learning_rate = [0.05, 0.1], max_iter = [100] }"),
    ),
}
# The primary metric a drafted spec judges by; multi-class uses macro F1, which every
# class counts in equally, rather than an AUC averaged over one-vs-rest splits.
PRIMARY = {"binary": "roc_auc", "multiclass": "f1", "continuous": "rmse"}
SMALL_DATA_ROWS = 500  # below this, 3 folds instead of 5: each fold keeps enough rows


def spec_options() -> dict[str, Any]:
    """Every valid choice of a spec, per task where it depends on the task."""
    return {
        "tasks": list(specs.TASKS),
        "estimators": {task: sorted(n for n, (_, t) in ESTIMATORS.items() if t == task) for task in specs.TASKS},
        "metrics": {task: list(METRICS[task]) for task in specs.TASKS},
        "default_metric": dict(specs.DEFAULT_METRIC),
        "lower_is_better": sorted(specs.LOWER_IS_BETTER),
        "split": {"method": list(specs.SPLIT_METHODS), "test_size": "a fraction between 0 and 1",
                  "column": "a datetime column (method = \"time\"; default: the dataset's time column)"},
        "preprocessing": {"numeric_impute": list(specs.NUMERIC_IMPUTE), "scale": list(specs.SCALERS),
                          "categorical_impute": list(specs.CATEGORICAL_IMPUTE), "encoding": list(specs.ENCODINGS)},
        "search": {"method": list(specs.SEARCH_METHODS), "cv": "folds, at least 2",
                   "n_iter": "configurations sampled, at least 1 (method = \"random\")"},
        "distributions": list(specs.DISTRIBUTIONS),
        "features": {"include": "columns to use (default: all but target, id, time and free text)",
                     "exclude": "columns to leave out"},
    }


def draft_spec(store: Store, dataset_ref: str, target: str | None = None, experiment: str | None = None) -> str:
    """A complete, commented spec for `dataset_ref` that trains as written."""
    from core.data import datasets
    from core.experiments.training import MAX_CLASSES, load_prepared, target_kind

    dv = datasets.resolve(store, dataset_ref)
    columns = {c["name"]: c for c in datasets.columns(store, dv)}
    target = target or dv.target
    if not target:
        raise PitboardError(f"{dv.ref}: has no target column; name one with --target COLUMN (columns: {', '.join(columns)})")
    if target not in columns:
        raise PitboardError(f"--target {target!r}: not a column of {dv.ref}; columns: {', '.join(columns)}")
    if target in (dv.id_column, dv.time_column) or columns[target]["profile"]["kind"] in ("id", "datetime"):
        role = "time" if target == dv.time_column or columns[target]["profile"]["kind"] == "datetime" else "id"
        raise PitboardError(f"--target {target!r}: is the {role} column of {dv.ref}, not something to predict")
    labels = datasets.load_frame(store, dv, columns=[target])[target]
    kind = target_kind(labels.dropna()) if labels.notna().any() else "unknown"
    if kind not in PRIMARY:
        raise PitboardError(f"--target {target!r}: its values ({labels.dtype}) are neither classes nor numbers to predict")
    if kind == "multiclass" and labels.nunique() > MAX_CLASSES:
        raise PitboardError(f"--target {target!r}: has {labels.nunique()} classes; at most {MAX_CLASSES} can be learned")
    task = "regression" if kind == "continuous" else "classification"
    left_out = _left_out(columns, target, dv)
    text = _render(dv, target, task, kind, labels, left_out, experiment or dv.dataset)
    spec = specs.parse_spec(text, source=f"draft spec for {dv.ref}")
    load_prepared(store, spec, dv)  # the target, the features and the split hold on the data itself
    return text


def _left_out(columns: dict[str, dict[str, Any]], target: str, dv: Any) -> dict[str, str]:
    """Columns training would take as features but that cannot help, with why."""
    reasons = {}
    for name, column in columns.items():
        if name in (target, dv.id_column, dv.time_column) or column["role"] in ("id", "text", "datetime"):
            continue  # training leaves these out by itself
        profile = column["profile"]
        if profile.get("missing_rate") == 1.0:
            reasons[name] = "every value is missing"
        elif profile.get("unique") == 1:
            reasons[name] = "one value in every row"
    return reasons


def _render(dv: Any, target: str, task: str, kind: str, labels: Any, left_out: dict[str, str], experiment: str) -> str:
    options = spec_options()
    described = {"binary": "two classes", "multiclass": f"{labels.nunique()} classes",
                 "continuous": "a number"}[kind]
    lines = [
        f"# A first spec for {dv.ref} ({dv.n_rows:,} rows), drafted by `pitboard spec init`.",
        "# Train it with `pitboard train FILE`; every valid choice: `pitboard spec options`.",
        f'experiment = "{experiment}"',
        f'dataset = "{dv.ref}"',
        f'target = "{target}"          # {described}: {task}',
        f'task = "{task}"',
        f'primary_metric = "{PRIMARY[kind]}"   # {" | ".join(options["metrics"][task])}',
        "seed = 42",
        "",
        "# Features: every column but the target, the id, the time and free-text columns.",
    ]
    if left_out:
        lines += ["[features]", "exclude = [" + ", ".join(f'"{name}"' for name in left_out) + "]"]
        lines += [f"#   {name}: {why}" for name, why in left_out.items()]
    lines += [
        "",
        "[split]                       # method: random | time (the latest rows held out)",
        f'method = "{"time" if dv.time_column else "random"}"' + (f"          # by {dv.time_column}" if dv.time_column else ""),
        "test_size = 0.2",
        "",
        "[preprocessing]",
        f'numeric_impute = "median"     # {" | ".join(specs.NUMERIC_IMPUTE)}',
        f'scale = "standard"            # {" | ".join(specs.SCALERS)}',
        f'categorical_impute = "most_frequent"   # {" | ".join(specs.CATEGORICAL_IMPUTE)}',
        f'encoding = "onehot"           # {" | ".join(specs.ENCODINGS)}',
        "",
        "[search]                      # method: grid | random (then n_iter, and params may be",
        'method = "grid"               #   { dist = "loguniform", low = 0.001, high = 10 })',
        f"cv = {3 if dv.n_rows < SMALL_DATA_ROWS else 5}",
        "",
        f"# Other {task} estimators: " + ", ".join(
            n for n in options["estimators"][task] if n not in {c for c, _ in CANDIDATES[task]}),
    ]
    for estimator, params in CANDIDATES[task]:
        lines += ["", "[[candidates]]", f'estimator = "{estimator}"', f"params = {params}"]
    return "\n".join(lines) + "\n"
