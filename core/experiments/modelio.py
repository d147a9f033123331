"""Models in and out of bytes with skops, never with pickle.

skops refuses to build any type that is not trusted. scikit-learn's own estimators are
trusted by skops itself; the few helper types they carry (tree structures, distance
metrics, numpy dtypes) are trusted here by name, in an explicit list. A model file that
needs anything else is refused with `UntrustedModelError` naming the type, before any of
it is constructed.
"""

from __future__ import annotations

from typing import Any

from core.store.errors import PitboardError

# Helper types the allow-listed estimators (core.experiments.specs.ESTIMATORS) and our preprocessing
# need beyond what skops trusts by default. Adding an estimator family may add a line here;
# tests/experiments/test_training.py round-trips every family to keep this list complete.
TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
)


class UntrustedModelError(PitboardError):
    """A model file that would construct a type outside the trusted list."""


def dump_model(estimator: Any) -> bytes:
    """The estimator (usually a fitted Pipeline) as skops bytes: deflated and reproducible.

    The same fitted model always gives the same bytes, so its SHA-256 names it: a version
    trained twice from the same data and seed is recognisably the same model. skops
    alone does not do that: it names objects (in the schema and the `.npy` file names)
    by their memory address, `id(obj)`, and stamps every zip entry with the current time.
    `_canonical` renumbers those ids in order of first appearance (a one-to-one renaming,
    so objects shared in the model stay shared when loaded) and rewrites the archive with
    sorted entries and a fixed time. Compressed, because skops stores uncompressed by
    default and its JSON schema shrinks about 10x.
    """
    import skops.io

    return _canonical(skops.io.dumps(estimator))


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
SCHEMA = "schema.json"


def _canonical(archive: bytes) -> bytes:
    """A skops archive with memory-address ids renumbered and zip metadata fixed."""
    import io
    import json
    import zipfile

    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        schema = json.loads(source.read(SCHEMA))
        files = {name: source.read(name) for name in source.namelist() if name != SCHEMA}
    ids: dict[int, int] = {}
    renamed: dict[str, str] = {}
    _renumber(schema, ids, renamed)
    entries = {renamed.get(name, name): _zero_padding(data) if name.endswith(".npy") else data
               for name, data in files.items()}
    entries[SCHEMA] = json.dumps(schema, indent=2).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whichever system wrote it
            info.external_attr = 0o644 << 16
            target.writestr(info, entries[name])
    return out.getvalue()


def _zero_padding(npy: bytes) -> bytes:
    """An `.npy` of a record array with its padding bytes zeroed (others unchanged).

    Tree models store their nodes as records with gaps between fields; numpy writes those
    gaps as whatever the memory held, so the same tree would give different bytes.
    """
    import io

    import numpy as np

    array = np.load(io.BytesIO(npy), allow_pickle=False)
    if array.dtype.names is None:
        return npy
    clean = np.zeros(array.shape, dtype=array.dtype)
    for name in array.dtype.names:
        clean[name] = array[name]
    out = io.BytesIO()
    np.save(out, clean, allow_pickle=False)
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int], renamed: dict[str, str]) -> None:
    """Replace every node's `__id__` (and the id in its array file name) by a small counter.

    Only skops nodes (objects with a `__loader__`) are touched, so a user's dict that
    happens to hold an `__id__` key is left alone.
    """
    if isinstance(node, list):
        for item in node:
            _renumber(item, ids, renamed)
        return
    if not isinstance(node, dict):
        return
    if "__loader__" in node:
        if isinstance(node.get("__id__"), int):
            node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
        name = node.get("file")
        if isinstance(name, str):
            stem, dot, suffix = name.partition(".")
            if stem.isdigit():
                new = f"{ids.setdefault(int(stem), len(ids) + 1)}{dot}{suffix}"
                renamed[name] = node["file"] = new
    for value in node.values():
        _renumber(value, ids, renamed)


def load_model(data: bytes) -> Any:
    """Rebuild an estimator from skops bytes, refusing any type not trusted."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(data=data)
    except Exception as exc:  # skops raises zipfile/JSON/KeyError for malformed files
        raise PitboardError(f"model: not a readable skops file ({type(exc).__name__}: {exc})") from exc
    refused = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if refused:
        raise UntrustedModelError(f"model: refusing to load untrusted type {refused[0]}" + (
            f" (and {len(refused) - 1} more: {', '.join(refused[1:])})" if len(refused) > 1 else ""
        ))
    return skops.io.loads(data, trusted=list(untrusted))
