"""A loaded model proven to answer before it is trusted.

A bundle's files can match its manifest, and the manifest can be well-formed, while the
model inside still cannot answer: a bare StandardScaler, a pipeline that wants other
columns, classes that differ from the ones the manifest promises. Imported unchecked,
such a model was registered and `predict` then crashed on it. So before a bundle is
reported verified, imported or used to score a file, its model scores a small batch built
from its own signature, through the same `Scorer` (checks, compiled preprocessing, outputs)
that answers real requests, and the answer must have the right shape: one label and a
probability per promised class, or one finite prediction, per row. Any failure is one
line naming the bundle; nothing has been registered by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.serving.predict import BOOLEAN, NUMERIC, Feature, Scorer
from core.store.errors import CheckFailed

PROBE_ROWS = 3


def probe_model(estimator: Any, info: Mapping[str, Any], source: str) -> None:
    """Raise `CheckFailed` unless `estimator` answers a request built from `info["signature"]`."""
    task = info["task"]
    method = "predict_proba" if task == "classification" else "predict"
    if not hasattr(estimator, method):
        raise CheckFailed(f"{source}: the model ({type(estimator).__name__}) has no {method}() to answer as a {task} model")
    try:
        scorer = Scorer.build(estimator, info)
    except Exception as exc:  # an untrusted model can fail in any way; each is the same verdict
        raise CheckFailed(f"{source}: the model cannot be prepared for scoring ({_detail(exc)})") from None
    probe_scorer(scorer, info, source)


def probe_scorer(scorer: Scorer, info: Mapping[str, Any], source: str) -> None:
    """Raise `CheckFailed` unless a built scorer answers a probe with the outputs `info` promises."""
    try:
        outputs = scorer.score(scorer.check(probe_columns(scorer.features)))
    except Exception as exc:  # as above: whatever the model raises, it cannot answer
        raise CheckFailed(f"{source}: the model cannot score a probe built from its signature ({_detail(exc)})") from None
    _check_outputs(source, scorer, info, outputs)


def _detail(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def probe_columns(features: list[Feature], rows: int = PROBE_ROWS) -> dict[str, list[Any]]:
    """Valid input for `features`: numbers, both booleans, and the known categories in turn."""
    return {feature.name: [_value(feature, row) for row in range(rows)] for feature in features}


def _value(feature: Feature, row: int) -> Any:
    if feature.kind == BOOLEAN:
        return bool(row % 2)
    if feature.kind == NUMERIC:
        return float(row)
    categories = sorted(feature.categories or ())
    if not categories:
        return None if feature.nullable else "probe"
    category = categories[row % len(categories)]
    if not feature.numeric_categories:
        return category
    try:
        return int(category)
    except ValueError:
        return float(category)


def _check_outputs(source: str, scorer: Scorer, info: Mapping[str, Any], outputs: Mapping[str, np.ndarray]) -> None:
    if info["task"] == "classification":
        promised = [str(c) for c in info.get("classes") or []]
        if [str(c) for c in scorer.classes] != promised:
            raise CheckFailed(f"{source}: the model answers with classes {scorer.classes}, its manifest promises {promised}")
        probabilities = np.column_stack([outputs[f"proba_{c}"] for c in scorer.classes])
        sane = probabilities.shape == (PROBE_ROWS, len(promised)) and np.isfinite(probabilities).all() \
            and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
        if not sane:
            raise CheckFailed(f"{source}: the model's answer to a probe is not one probability per class per row")
    else:
        prediction = outputs["prediction"]
        if prediction.shape != (PROBE_ROWS,) or not np.isfinite(prediction).all():
            raise CheckFailed(f"{source}: the model's answer to a probe is not one finite prediction per row")
