"""Reference profiles: what a registered version's production traffic is compared with.

Heavy numbers are computed once: when a version is registered, each input feature of its
training data becomes a `core.kernels.drift.ReferenceProfile` (sorted sample, quantile
edges, category counts), the model's scores on its holdout become the prediction
profile, and the holdout, cut into chunks, gives the performance band (mean and standard
deviation of each metric across chunks, as NannyML's reference chunks do). Every window
of traffic is then reduced against these stored bytes, never against the raw training
rows again.

Versions imported from a bundle have no training data in the database; they cannot be
monitored for drift, and `ensure_reference` says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.store.database import Store
from core.store.errors import PitboardError


@dataclass(frozen=True)
class FeatureReference:
    """One input feature's reference: how it is compared, its importance and kernel profile.

    `kind` is numeric, categorical, or discrete: a numeric feature with at most five
    distinct reference values, tested as categories the way Evidently does.
    """

    name: str
    kind: str
    importance: float | None
    profile: Any  # core.kernels.drift.ReferenceProfile

    @property
    def categories(self) -> list[str]:
        """The reference's categories, in code order (categorical and discrete features)."""
        return list(self.profile.categories)

    @property
    def values(self) -> np.ndarray:
        """The distinct reference values of a discrete feature, ascending (code order)."""
        return np.array([float(c) for c in self.profile.categories])


@dataclass(frozen=True)
class Reference:
    """Everything a window is reduced against, loaded from the database once per ingest."""

    version_id: int
    task: str
    classes: list[Any] | None
    primary_metric: str
    n_rows: int
    features: list[FeatureReference]
    prediction: Any  # ReferenceProfile of the score, or None
    performance: dict[str, float]
    band: dict[str, dict[str, float]]
    multivariate: Any = None  # core.monitoring.multivariate.MultivariateReference, or why there is none (str)

    @property
    def importance(self) -> dict[str, float]:
        """Feature -> permutation importance, for the top-k drift rule."""
        return {f.name: f.importance for f in self.features if f.importance is not None}

    def feature(self, name: str) -> FeatureReference:
        """The reference of one feature."""
        for entry in self.features:
            if entry.name == name:
                return entry
        raise KeyError(name)


def feature_kind(entry: dict[str, Any]) -> str:
    """Signature entry -> numeric | categorical, as the service logs it (booleans as 0/1)."""
    from core.serving.predict import CATEGORICAL, features_from_signature

    (feature,) = features_from_signature([entry])
    return "categorical" if feature.kind == CATEGORICAL else "numeric"


def scores_of(outputs: dict[str, np.ndarray], task: str, classes: list[Any] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(score, predicted class index) from a Scorer's outputs.

    The score is the positive-class probability of a binary classifier, the probability of
    the predicted class for a multi-class one, and the prediction itself for regression.
    """
    if task != "classification":
        return np.asarray(outputs["prediction"], dtype=np.float64), None
    proba = np.column_stack([np.asarray(outputs[f"proba_{c}"], dtype=np.float64) for c in classes])
    codes = proba.argmax(axis=1).astype(np.int64)
    score = proba[:, 1] if len(classes) == 2 else proba.max(axis=1)
    return score, codes


def build_reference(store: Store, version: Any) -> Reference:
    """Profile a version's training data, holdout scores and performance band, and store it.

    Idempotent: a version that already has a reference keeps it.
    """
    from core.data import datasets
    from core.kernels.drift import ReferenceProfile

    existing = load_reference(store, version.id)
    if existing is not None:
        return existing
    info = version.info
    if not info.get("dataset"):
        raise PitboardError(f"{version.ref}: records no training data (imported from a bundle?); it cannot be monitored for drift")
    frame = datasets.load_frame(store, datasets.resolve(store, info["dataset"]))
    importance = {entry["feature"]: float(entry["mean"]) for entry in info.get("feature_importance") or []}
    features = []
    for entry in info["signature"]:
        kind, profile = profile_column(frame[entry["name"]], feature_kind(entry))
        features.append(FeatureReference(entry["name"], kind, importance.get(entry["name"]), profile))
    scores, band, performance = _holdout_scores(store, version)
    prediction = ReferenceProfile.numeric(scores) if scores is not None and len(scores) else None
    reference = Reference(
        version_id=version.id, task=info["task"], classes=info.get("classes"), primary_metric=info.get("primary_metric") or "",
        n_rows=len(frame), features=features, prediction=prediction, performance=performance, band=band,
        multivariate=_fit_multivariate(store, version, frame, features),
    )
    _save(store, version, reference)
    return reference


def profile_column(values: Any, kind: str) -> tuple[str, Any]:
    """(kind, ReferenceProfile) of a training column; few-valued numerics become discrete."""
    from core.data.drift import FEW_VALUES, encode_categories
    from core.kernels.drift import ReferenceProfile

    if kind == "numeric":
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        distinct = np.unique(numbers[np.isfinite(numbers)])
        if len(distinct) > FEW_VALUES:
            return "numeric", ReferenceProfile.numeric(numbers)
        codes = np.where(np.isnan(numbers), -1, np.searchsorted(distinct, numbers)).astype(np.int64)
        return "discrete", ReferenceProfile.categorical(codes, [repr(float(v)) for v in distinct])
    text = values.astype(str).where(values.notna())
    categories = sorted(set(text.dropna()))
    return "categorical", ReferenceProfile.categorical(encode_categories(values, categories), categories)


def encode_discrete(values: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Codes of numbers against a discrete feature's reference values: -1 missing, len(values) unseen."""
    position = np.minimum(np.searchsorted(values, numbers), len(values) - 1)
    codes = np.where(values[position] == numbers, position, len(values)).astype(np.int64)
    codes[np.isnan(numbers)] = -1
    return codes


def encode_frame(frame: Any, features: list[FeatureReference]) -> dict[str, np.ndarray]:
    """Training columns encoded as traffic is (`core.monitoring.windows.Traffic`)."""
    from core.data.drift import encode_categories

    encoded = {}
    for ref in features:
        if ref.kind == "categorical":
            encoded[ref.name] = encode_categories(frame[ref.name], ref.categories)
            continue
        numbers = frame[ref.name].to_numpy(dtype=np.float64, na_value=np.nan)
        encoded[ref.name] = numbers if ref.kind == "numeric" else encode_discrete(ref.values, numbers)
    return encoded


def _fit_multivariate(store: Store, version: Any, frame: Any, features: list[FeatureReference]) -> Any:
    """The PCA reconstruction model of the training data, or why there is none."""
    from core.monitoring.multivariate import fit
    from core.monitoring.settings import monitoring_settings

    settings = monitoring_settings(store, version.name)
    return fit(encode_frame(frame, features), {f.name: f.kind for f in features},
               {f.name: len(f.categories) for f in features if f.kind != "numeric"},
               variance=settings["pca_variance"], chunk_rows=settings["band_chunk_rows"])


def ensure_segments(store: Store, version: Any, reference: Reference, settings: dict[str, Any]) -> list[Any]:
    """The segment references of `[monitoring] segments`, built from the training data the
    first time a column (at its `segment_bins`) is asked for; a column the model does not
    have is an error naming it."""
    from core.monitoring.segments import SegmentReference, fit

    columns, bins = settings["segments"], settings["segment_bins"]
    names = [f.name for f in reference.features]
    for column in columns:
        if column not in names:
            raise PitboardError(f"{store.config_path}: [monitoring] segments: {column!r} is not a feature of {version.ref};"
                                f" its features: {', '.join(names)}")
    stored = {r["column_name"]: SegmentReference.from_json(r["spec"]) for r in store.rows(
        "SELECT column_name, spec FROM monitor_reference_segments WHERE version_id = ? AND bins = ?", (version.id, bins))}
    missing = [c for c in columns if c not in stored]
    if missing:
        from core.data import datasets

        encoded = encode_frame(datasets.load_frame(store, datasets.resolve(store, version.info["dataset"])), reference.features)
        with store.transaction():
            for column in missing:
                stored[column] = fit(column, reference.features, encoded, bins)
                store.conn.execute(
                    "INSERT OR IGNORE INTO monitor_reference_segments (version_id, column_name, bins, spec) VALUES (?, ?, ?, ?)",
                    (version.id, column, bins, stored[column].to_json()))
    return [stored[c] for c in columns]


def _holdout_scores(store: Store, version: Any) -> tuple[np.ndarray | None, dict[str, dict[str, float]], dict[str, float]]:
    """The version's scores on its run's holdout, the chunked metric band, and holdout metrics."""
    from core.experiments.evaluation import score
    from core.experiments.runs import get_run
    from core.monitoring.cbpe import ESTIMATED, estimate
    from core.experiments.training import encode_labels, holdout
    from core.registry.versions import load_estimator
    from core.serving.predict import Scorer, frame_columns

    info = version.info
    if version.run_id is None:
        return None, {}, dict(info.get("metrics") or {})
    X, y = holdout(store, get_run(store, version.run_id))
    scorer = Scorer.build(load_estimator(store, version), info)
    outputs = scorer.score(scorer.check(frame_columns(X[[f.name for f in scorer.features]])))
    values, codes = scores_of(outputs, info["task"], scorer.classes)
    task = info["task"]
    y_true = encode_labels(y.to_numpy(), scorer.classes if task == "classification" else None)
    from core.monitoring.settings import monitoring_settings

    chunk_rows = monitoring_settings(store, version.name)["band_chunk_rows"]
    n_chunks = max(2, len(y_true) // max(1, chunk_rows))
    per_chunk: dict[str, list[float]] = {}
    for rows in np.array_split(np.arange(len(y_true)), n_chunks):
        proba = _proba(outputs, scorer.classes, rows) if task == "classification" else None
        for name, value in estimate(task, values[rows], len(scorer.classes or [])).items():
            per_chunk.setdefault(ESTIMATED + name, []).append(value)
        try:
            metrics = score(task, y_true[rows], (codes if codes is not None else values)[rows], proba)
        except ValueError:  # a chunk with one class has no AUC; the band uses the others
            continue
        for name, value in metrics.items():
            per_chunk.setdefault(name, []).append(value)
    band = {
        name: {"mean": float(np.mean(v)), "std": float(np.std(v)), "chunks": len(v), "chunk_rows": int(len(y_true) // n_chunks)}
        for name, v in per_chunk.items() if len(v) >= 2
    }
    return values, band, dict(info.get("metrics") or {})


def _proba(outputs: dict[str, np.ndarray], classes: list[Any], rows: np.ndarray) -> np.ndarray:
    return np.column_stack([np.asarray(outputs[f"proba_{c}"], dtype=np.float64)[rows] for c in classes])


def _save(store: Store, version: Any, reference: Reference) -> None:
    with store.transaction():
        inserted = store.conn.execute(
            "INSERT OR IGNORE INTO monitor_references (version_id, task, n_rows, prediction, performance, band, multivariate,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (version.id, reference.task, reference.n_rows,
             reference.prediction.to_bytes() if reference.prediction is not None else None,
             json.dumps(reference.performance), json.dumps(reference.band), _multivariate_text(reference.multivariate),
             store.clock()),
        ).rowcount
        if not inserted:  # another process profiled it first; theirs is as good
            return
        store.conn.executemany(
            "INSERT INTO monitor_reference_features (version_id, feature, kind, importance, profile) VALUES (?, ?, ?, ?, ?)",
            [(version.id, f.name, f.kind, f.importance, f.profile.to_bytes()) for f in reference.features],
        )
        store.audit("monitor.reference", version.ref, {"features": len(reference.features), "rows": reference.n_rows,
                                                       "band": sorted(reference.band)})


def _multivariate_text(multivariate: Any) -> str:
    if isinstance(multivariate, str):
        return json.dumps({"none": multivariate})
    return multivariate.to_json()


def _multivariate_of(text: str | None) -> Any:
    """The stored multivariate model, its absence's reason, or (references built before it) a note."""
    from core.monitoring.multivariate import MultivariateReference

    if text is None:
        return "the reference was built before multivariate drift existed"
    data = json.loads(text)
    return data["none"] if "none" in data else MultivariateReference.from_json(text)


def load_reference(store: Store, version_id: int) -> Reference | None:
    """The stored reference of a version, or None when it was never built."""
    from core.kernels.drift import ReferenceProfile
    from core.registry.versions import version_by_id

    row = store.row("SELECT * FROM monitor_references WHERE version_id = ?", (version_id,))
    if row is None:
        return None
    info = version_by_id(store, version_id).info
    features = [
        FeatureReference(r["feature"], r["kind"], r["importance"], ReferenceProfile.from_bytes(bytes(r["profile"])))
        for r in store.rows("SELECT * FROM monitor_reference_features WHERE version_id = ?", (version_id,))
    ]
    order = {entry["name"]: i for i, entry in enumerate(info["signature"])}
    features.sort(key=lambda f: order.get(f.name, len(order)))
    return Reference(
        version_id=version_id, task=row["task"], classes=info.get("classes"), primary_metric=info.get("primary_metric") or "",
        n_rows=row["n_rows"], features=features,
        prediction=ReferenceProfile.from_bytes(bytes(row["prediction"])) if row["prediction"] is not None else None,
        performance=json.loads(row["performance"]), band=json.loads(row["band"]),
        multivariate=_multivariate_of(row["multivariate"]),
    )


def register(store: Store, run_id: int, name: str, *, description: str = "") -> Any:
    """Register a run as the next version of `name` (`core.registry.versions.register`) and
    profile it for monitoring at once, so its first window costs no more than the next."""
    from core.registry import versions

    version = versions.register(store, run_id, name, description=description)
    profile_registered(store, version)
    return version


def profile_registered(store: Store, version: Any) -> Reference | None:
    """Profile a newly registered version now, once.

    A version whose training data is not in the database cannot be profiled; that is
    said when it is monitored (`ensure_reference`), not by failing the registration.
    """
    try:
        return build_reference(store, version)
    except PitboardError:
        return None


def ensure_reference(store: Store, version: Any) -> Reference:
    """The version's reference, building it now if registration could not (e.g. it failed)."""
    return load_reference(store, version.id) or build_reference(store, version)
