"""Models in and out of bytes with skops, never with pickle.

skops refuses to build any type that is not trusted. scikit-learn's own estimators are
trusted by skops itself; the few helper types they carry (tree structures, distance
metrics, numpy dtypes) are trusted here by name, in an explicit list. A model file that
needs anything else is refused with `UntrustedModelError` naming the type, before any of
it is constructed.
"""

from __future__ import annotations

from typing import Any

from core.errors import PitboardError

# Helper types the allow-listed estimators (core.specs.ESTIMATORS) and our preprocessing
# need beyond what skops trusts by default. Adding an estimator family may add a line here;
# tests/test_training.py round-trips every family to keep this list complete.
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
    """The estimator (usually a fitted Pipeline) as skops bytes, deflated.

    skops stores uncompressed by default; its JSON schema shrinks about 10x compressed.
    """
    import zipfile

    import skops.io

    return skops.io.dumps(estimator, compression=zipfile.ZIP_DEFLATED)


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
