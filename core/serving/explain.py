"""Explaining served predictions: `pitboard explain` and `POST /explain`.

The input goes through the same signature checks as a prediction (`core.serving.predict`),
then `core.experiments.explanations` computes each feature's contribution. A linear model
and the sampling estimate need background rows: a sample of the version's training data,
read from this database once per version. Trees need none, so a bundle whose training
data is not here can still be explained when it is a tree model.

Limits: exact explanations are cheap (a TreeSHAP row of a 100-tree forest is well under a
millisecond), the estimate is not (a thousand pipeline predictions a row), so a request
may ask for at most `[serving] max_explain_rows` exact rows or `max_estimate_rows` estimated
ones; more is refused before any work (422), and the body is bounded like /predict's (413).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.experiments.explanations import BACKGROUND_ROWS, METHOD_WORDS, SAMPLING, Explainer, Explanation, method_for
from core.serving.predict import CheckedInput, InvalidInput, Scorer, to_columns
from core.store.errors import PitboardError


def background_rows(store: Any, info: dict[str, Any], features: list[str], seed: int = 0) -> Any:
    """Up to BACKGROUND_ROWS rows of the version's training data (its input columns), or None
    when that dataset version is not in this database (an imported bundle's)."""
    from core.data.datasets import load_frame, version_by_id
    from core.store.errors import NotFound

    dataset_id = info.get("dataset_version_id")
    if dataset_id is None:
        return None
    try:
        dv = version_by_id(store, int(dataset_id))
    except NotFound:
        return None
    frame = load_frame(store, dv, features)
    if len(frame) > BACKGROUND_ROWS:
        picked = np.sort(np.random.default_rng(seed).choice(len(frame), BACKGROUND_ROWS, replace=False))
        frame = frame.iloc[picked].reset_index(drop=True)
    return frame


@dataclass
class Explainable:
    """A loaded model with what explaining it needs: its method and its background rows."""

    scorer: Scorer
    background: Any
    described: str
    seed: int = 0
    _prepared: Explainer | None = None

    @property
    def method(self) -> str:
        """`linear`, `tree` or `sampling`."""
        return method_for(self.scorer.estimator)

    def row_limit(self, settings: dict[str, Any]) -> int:
        """The most rows one request may ask to explain with this model's method."""
        return int(settings["max_estimate_rows"] if self.method == SAMPLING else settings["max_explain_rows"])

    def explain(self, checked: CheckedInput) -> Explanation:
        """Contributions for every checked row."""
        if self.background is None and self.method != "tree":
            raise PitboardError(f"{self.described}: its training data is not in this database, and a"
                                f" {self.scorer.estimator[-1].__class__.__name__} cannot be explained without it")
        if self._prepared is None:
            self._prepared = Explainer(self.scorer.estimator, [f.name for f in self.scorer.features], task=self.scorer.task,
                                       classes=self.scorer.classes, background=self.background, seed=self.seed)
        return self._prepared.explain(self.scorer.model_frame(checked))


def for_version(store: Any, mv: Any, scorer: Scorer) -> Explainable:
    """A registered version, its background read from `store`."""
    names = [f.name for f in scorer.features]
    return Explainable(scorer, background_rows(store, mv.info, names, seed=int(mv.info.get("seed") or 0)), mv.ref,
                       seed=int(mv.info.get("seed") or 0))


def answer(explainable: Explainable, checked: CheckedInput) -> dict[str, Any]:
    """The JSON body of an explanation: method (exact or estimate), output, rows."""
    found = explainable.explain(checked)
    return {
        "method": found.method,
        "exact": found.exact,
        "about": METHOD_WORDS[found.method],
        "output": found.output,
        "explanations": found.rows(),
        "unknown_categories": checked.unknown,
    }


def check_request(explainable: Explainable, payload: Any, settings: dict[str, Any]) -> CheckedInput:
    """A /explain body (as /predict's) checked, with the row limit of the model's method."""
    limit = explainable.row_limit(settings)
    try:
        columns, orientation = to_columns(payload, max_rows=limit)
    except InvalidInput as exc:
        if exc.errors[0]["type"] == "too_long":
            kind = "estimated (sampling)" if explainable.method == SAMPLING else "exact"
            exc.errors[0]["msg"] += f" rows to explain ({kind} explanations; [serving] " + (
                "max_estimate_rows)" if explainable.method == SAMPLING else "max_explain_rows)")
        raise
    return explainable.scorer.check(columns, orientation)


class ServedExplainers:
    """The service's explainer for its live version, built on the first /explain (off the
    request path of /predict) and rebuilt when the alias moves to another version."""

    def __init__(self, db_path: Path | None, clock: Any) -> None:
        """`db_path` None: a bundle served without a database, explained without training rows."""
        self.db_path = db_path
        self.clock = clock
        self._lock = threading.Lock()
        self._current: tuple[int, Explainable] | None = None

    def get(self, live: Any) -> Explainable:
        """The explainer of `live` (a `Live`: version and scorer)."""
        from core.store.database import Store

        with self._lock:
            if self._current is None or self._current[0] != live.version.id:
                if self.db_path is None:  # no training rows to draw on, as for an imported bundle
                    seed = int(live.version.info.get("seed") or 0)
                    self._current = (live.version.id, Explainable(live.scorer, None, live.version.ref, seed=seed))
                else:
                    store = Store.open(self.db_path, clock=self.clock)
                    try:
                        self._current = (live.version.id, for_version(store, live.version, live.scorer))
                    finally:
                        store.close()
            return self._current[1]


def explain_file(context: Any, ref: str, input_path: Any, out: Any = None, *, overwrite: bool = False) -> dict[str, Any]:
    """`pitboard explain`: contributions for every row of a CSV/Parquet file.

    With `out`, a CSV of the input's columns then `explained_class`, `expected`,
    `prediction` and `contribution_<feature>` (and `error_<feature>` for an estimate);
    without it, the explanations are returned for printing.
    """
    from core.serving.offline import is_bundle_path, load_scorer, output_path, read_checked, write_csv

    if out is not None:
        out = output_path(out, overwrite)
    scorer, described = load_scorer(ref, lambda: context.store)
    if is_bundle_path(ref):
        explainable = Explainable(scorer, None, described)
    else:
        from core.registry.versions import resolve

        explainable = for_version(context.store, resolve(context.store, ref), scorer)
    frame, checked = read_checked(scorer, input_path)
    found = explainable.explain(checked)
    summary = {"model": described, "rows": checked.n_rows, "method": found.method, "exact": found.exact,
               "about": METHOD_WORDS[found.method], "output": found.output}
    if out is None:
        return {**summary, "explanations": found.rows()}
    result = frame.copy()
    result["explained_class"] = found.explained
    result["expected"] = found.expected
    result["prediction"] = found.prediction
    for j, name in enumerate(found.features):
        result[f"contribution_{name}"] = found.contributions[:, j]
    if found.error is not None:
        for j, name in enumerate(found.features):
            result[f"error_{name}"] = found.error[:, j]
    write_csv(result, out)
    return {**summary, "output_file": str(out)}
