"""`pitboard monitor explain`: which features tell a window apart from the reference.

A domain classifier: a small gradient-boosted model (scikit-learn's
HistGradientBoostingClassifier) learns to separate reference rows from the window's rows.
Its cross-validated ROC AUC says how different they are as a whole (0.5: it cannot tell
them apart; 1.0: it always can), relationships between features included, and the
permutation importances on held-out rows say which features it relies on. It runs on
demand, not per window: it needs raw rows, which a window keeps only while they are in
the prediction log (served traffic) or when its batch was ingested with `--labels`.

A handful of rows gives a meaningless AUC, so a window under `MIN_ROWS` is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.monitoring.references import Reference, encode_frame
from core.store.database import Store
from core.store.errors import NotFound, PitboardError

MIN_ROWS = 50
"""Windows with fewer rows are refused: cross-validation folds of a few rows give noise."""
MAX_ROWS = 5000
"""Rows drawn from each side at most; more rows change the AUC little and cost seconds."""
FOLDS = 5
MAX_CATEGORIES = 250  # HistGradientBoosting bins a categorical feature's codes below 255
SEED = 0


def domain_classifier(reference: dict[str, np.ndarray], window: dict[str, np.ndarray], kinds: dict[str, str],
                      *, what: str = "window") -> dict[str, Any]:
    """Cross-validated ROC AUC of reference-vs-window and each feature's permutation importance.

    Columns are encoded as `core.monitoring.windows.Traffic` holds them (codes for
    categorical and discrete features, -1 missing).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

    names = list(kinds)
    n_window = len(next(iter(window.values())))
    if n_window < MIN_ROWS:
        raise PitboardError(f"{what}: {n_window} rows, too few rows to tell it from the reference (at least {MIN_ROWS})")
    rng = np.random.default_rng(SEED)
    sides = []
    for columns in (reference, window):
        n = len(next(iter(columns.values())))
        take = np.sort(rng.choice(n, min(n, MAX_ROWS, max(n_window, MIN_ROWS)), replace=False))
        sides.append(np.column_stack([_as_float(columns[name][take], kinds[name]) for name in names]))
    X = np.vstack(sides)
    y = np.concatenate([np.zeros(len(sides[0]), dtype=np.int64), np.ones(len(sides[1]), dtype=np.int64)])
    categorical = [kinds[n] != "numeric" and not np.nanmax(X[:, i], initial=0.0) >= MAX_CATEGORIES
                   for i, n in enumerate(names)]  # more categories than the model bins: ordinal codes
    model = HistGradientBoostingClassifier(max_iter=100, max_depth=3, learning_rate=0.1, random_state=SEED,
                                           categorical_features=categorical)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    auc = cross_val_score(model, X, y, cv=folds, scoring="roc_auc")
    X_fit, X_held, y_fit, y_held = train_test_split(X, y, test_size=0.3, stratify=y, random_state=SEED)
    model.fit(X_fit, y_fit)
    importance = permutation_importance(model, X_held, y_held, scoring="roc_auc", n_repeats=5, random_state=SEED)
    ranked = sorted(zip(names, importance.importances_mean, importance.importances_std), key=lambda t: (-t[1], t[0]))
    return {"auc": float(auc.mean()), "auc_std": float(auc.std()), "folds": FOLDS, "reference_rows": len(sides[0]),
            "window_rows": len(sides[1]),
            "features": [{"feature": n, "importance": float(m), "std": float(s)} for n, m, s in ranked]}


def _as_float(values: np.ndarray, kind: str) -> np.ndarray:
    """Codes as float categories (missing as NaN, which the model treats as its own value)."""
    if kind == "numeric":
        return values.astype(np.float64)
    out = values.astype(np.float64)
    out[values < 0] = np.nan
    return out


def explain_window(store: Store, model: str, window_id: int) -> dict[str, Any]:
    """The domain classifier of one window of `model` against its version's reference."""
    from core.data import datasets
    from core.monitoring.references import ensure_reference
    from core.registry.versions import version_by_id

    window = store.row(
        """SELECT w.*, o.seqs, r.dataset_version_id, r.rows FROM monitor_windows w JOIN models m ON m.id = w.model_id
           LEFT JOIN monitor_window_outputs o ON o.window_id = w.id LEFT JOIN monitor_window_rows r ON r.window_id = w.id
           WHERE w.id = ? AND m.name = ?""", (window_id, model))
    if window is None:
        raise NotFound(f"window {window_id}: no such window of {model}")
    version = version_by_id(store, window["version_id"])
    reference = ensure_reference(store, version)
    if window["n_rows"] < MIN_ROWS:  # said before any rows are read
        raise PitboardError(f"window {window_id}: {window['n_rows']} rows, too few rows to tell it from the reference"
                            f" (at least {MIN_ROWS})")
    current = _window_columns(store, dict(window), reference)
    training = datasets.load_frame(store, datasets.resolve(store, version.info["dataset"]))
    found = domain_classifier(encode_frame(training, reference.features), current,
                              {f.name: f.kind for f in reference.features}, what=f"window {window_id}")
    return {"model": model, "version": version.version, "window": window_id, **found}


def _window_columns(store: Store, window: dict[str, Any], reference: Reference) -> dict[str, np.ndarray]:
    """A window's rows, encoded: from the prediction log, or the dataset version its batch kept."""
    if window["dataset_version_id"] is not None:
        from core.data import datasets

        kept = datasets.load_frame(store, datasets.version_by_id(store, window["dataset_version_id"]))
        return encode_frame(kept.iloc[np.frombuffer(window["rows"], dtype=np.int64)], reference.features)
    if window["seqs"] is None:
        raise PitboardError(f"window {window['id']}: a batch window keeps no rows unless ingested with --labels;"
                            " nothing to explain it with")
    from core.monitoring.ingest import FEATURE, META, _read_log, encode_columns

    seqs = np.frombuffer(window["seqs"], dtype=np.int64)
    table = _read_log(store, window["deployment_id"], window["seq_lo"])
    if table is not None:
        table = table.take(np.flatnonzero(np.isin(table.column(META + "seq").to_numpy(), seqs)))
    if table is None or table.num_rows == 0:
        raise PitboardError(f"window {window['id']}: its rows are no longer in the prediction log (retention);"
                            " nothing to explain it with")
    return encode_columns(reference, {f.name: table.column(FEATURE + f.name) for f in reference.features})
