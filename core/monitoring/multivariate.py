"""Multivariate drift: a change in how features move together, which no single column shows.

NannyML's data reconstruction method. At registration the reference is standardised
(numeric features) and one-hot coded (categorical and discrete ones, one column per
reference category), missing values take the reference mean, and a PCA keeps the
components that explain `[monitoring] pca_variance` of the variance (0.65, NannyML's
default). Rows that follow the reference's correlations are reconstructed well from those
components; rows whose features no longer move together are not. The reference, cut into
chunks of `band_chunk_rows`, gives the band: the mean chunk error plus or minus three
standard deviations. A window whose mean error leaves the band has drifted.

Windows keep sums (`core.kernels.reconstruction`): the sum of row errors and each
feature's sum of squared errors, so merged windows are exact and the features the
reconstruction fails on can be named: a feature contributes what its mean squared error
per row rose over the reference's.

Columns that are constant or all missing in the reference carry no correlation and are
left out (named in `dropped`); with fewer than two columns left there is nothing to
reconstruct, and the reference says why instead of holding a model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.kernels.reconstruction import reconstruction_sums

BAND_SIGMAS = 3.0
"""NannyML's band: the reference chunks' mean error plus or minus three standard deviations."""
TOP_FEATURES = 3


@dataclass(frozen=True)
class MultivariateReference:
    """The fitted standardisation and PCA of a reference, and its error band."""

    numeric: list[str]
    categorical: list[str]
    offsets: list[int]  # design columns of categorical feature c: offsets[c] .. offsets[c + 1] (after the numeric ones)
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    feature_mse: np.ndarray  # per feature (numeric, then categorical): squared error per reference row
    error_mean: float
    error_std: float
    chunks: int
    chunk_rows: int
    variance: float
    dropped: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def lower(self) -> float:
        return max(0.0, self.error_mean - BAND_SIGMAS * self.error_std)

    @property
    def upper(self) -> float:
        return self.error_mean + BAND_SIGMAS * self.error_std

    def feature_of(self) -> np.ndarray:
        """The feature index of each design column."""
        numeric = np.arange(len(self.numeric), dtype=np.int64)
        widths = np.diff(np.asarray(self.offsets, dtype=np.int64))
        return np.concatenate([numeric, np.repeat(np.arange(len(self.categorical), dtype=np.int64) + len(self.numeric), widths)])

    def sums(self, columns: dict[str, np.ndarray], n_rows: int) -> tuple[np.ndarray, float]:
        """(per-feature squared error sums, row error sum) of encoded columns (see `Traffic`)."""
        numeric = (np.column_stack([columns[name] for name in self.numeric]) if self.numeric
                   else np.empty((n_rows, 0), dtype=np.float64))
        codes = (np.column_stack([columns[name] for name in self.categorical]) if self.categorical
                 else np.empty((n_rows, 0), dtype=np.int64))
        return reconstruction_sums(numeric, codes, np.asarray(self.offsets), self.mean, self.scale, self.components,
                                   self.feature_of(), len(self.features))

    def to_json(self) -> str:
        return json.dumps({
            "numeric": self.numeric, "categorical": self.categorical, "offsets": self.offsets,
            "mean": self.mean.tolist(), "scale": self.scale.tolist(), "components": self.components.tolist(),
            "feature_mse": self.feature_mse.tolist(), "error_mean": self.error_mean, "error_std": self.error_std,
            "chunks": self.chunks, "chunk_rows": self.chunk_rows, "variance": self.variance, "dropped": self.dropped})

    @classmethod
    def from_json(cls, text: str) -> "MultivariateReference":
        data = json.loads(text)
        return cls(
            numeric=data["numeric"], categorical=data["categorical"], offsets=data["offsets"],
            mean=np.array(data["mean"], dtype=np.float64), scale=np.array(data["scale"], dtype=np.float64),
            components=np.array(data["components"], dtype=np.float64).reshape(-1, len(data["mean"])),
            feature_mse=np.array(data["feature_mse"], dtype=np.float64), error_mean=data["error_mean"],
            error_std=data["error_std"], chunks=data["chunks"], chunk_rows=data["chunk_rows"],
            variance=data["variance"], dropped=data["dropped"])


@dataclass
class MultivariateStats:
    """A window's reconstruction sums; everything else is derived from them and the reference."""

    n_rows: int
    error_sum: float
    sse: list[float]  # per feature of the reference, in its order

    @property
    def error(self) -> float | None:
        return self.error_sum / self.n_rows if self.n_rows else None


def fit(columns: dict[str, np.ndarray], kinds: dict[str, str], categories: dict[str, int], *, variance: float,
        chunk_rows: int) -> MultivariateReference | str:
    """Fit the standardisation, PCA and band on encoded reference columns.

    `kinds` maps each feature to numeric, categorical or discrete (the last two as codes,
    -1 missing, with `categories[name]` reference categories). Returns the reference, or
    one line saying why there is none.
    """
    numeric, categorical, dropped = [], [], []
    for name, kind in kinds.items():
        values = columns[name]
        if kind == "numeric":
            present = values[np.isfinite(values)]
            (numeric if len(present) and present.min() < present.max() else dropped).append(name)
        else:
            present = values[values >= 0]
            (categorical if len(np.unique(present)) > 1 else dropped).append(name)
    widths = [categories[name] for name in categorical]
    offsets = [int(v) for v in np.cumsum([len(numeric), *widths])]  # categorical c: offsets[c] .. offsets[c + 1]
    d = offsets[-1]
    if d < 2:
        return (f"fewer than two usable columns for a PCA ({', '.join(dropped)} constant or all missing)" if dropped
                else "fewer than two columns for a PCA")
    design = _design(columns, numeric, categorical, widths)
    mean = np.nanmean(design, axis=0)
    scale = np.nanstd(design, axis=0)
    scale[~(scale > 0)] = 1.0
    z = np.nan_to_num((design - mean) / scale, nan=0.0)
    _, singular, axes = np.linalg.svd(z, full_matrices=False)
    explained = singular ** 2 / max(float(np.sum(singular ** 2)), 1e-300)
    k = int(np.searchsorted(np.cumsum(explained), variance - 1e-12) + 1)
    k = max(1, min(k, d - 1))  # keep one dimension out, or nothing is ever lost in reconstruction
    partial = MultivariateReference(numeric, categorical, offsets, mean, scale, axes[:k].copy(), np.zeros(len(numeric) + len(categorical)), 0.0, 0.0,
                                    0, chunk_rows, variance, dropped)
    n_rows = len(next(iter(columns.values())))
    n_chunks = max(2, n_rows // max(1, chunk_rows))
    errors, sse_total = [], np.zeros(len(partial.features))
    for rows in np.array_split(np.arange(n_rows), n_chunks):
        sse, error_sum = partial.sums({name: columns[name][rows] for name in partial.features}, len(rows))
        sse_total += sse
        errors.append(error_sum / max(1, len(rows)))
    return MultivariateReference(
        numeric, categorical, partial.offsets, mean, scale, partial.components, sse_total / max(1, n_rows),
        float(np.mean(errors)), float(np.std(errors)), n_chunks, n_rows // n_chunks, variance, dropped)


def _design(columns: dict[str, np.ndarray], numeric: list[str], categorical: list[str], widths: list[int]) -> np.ndarray:
    """The reference's design matrix (rows x columns), NaN for missing (imputed after scaling)."""
    parts = [columns[name].astype(np.float64)[:, None] for name in numeric]
    for name, width in zip(categorical, widths):
        codes = columns[name]
        onehot = (codes[:, None] == np.arange(width)[None, :]).astype(np.float64)
        onehot[codes < 0] = np.nan
        parts.append(onehot)
    return np.hstack(parts)


def window_stats(reference: MultivariateReference, columns: dict[str, np.ndarray], n_rows: int) -> MultivariateStats:
    """The reconstruction sums of one window's encoded columns."""
    if n_rows == 0:
        return MultivariateStats(0, 0.0, [0.0] * len(reference.features))
    sse, error_sum = reference.sums(columns, n_rows)
    return MultivariateStats(n_rows, error_sum, [float(v) for v in sse])


def merged(parts: list[MultivariateStats]) -> MultivariateStats:
    """One window's sums from its parts': they add up exactly."""
    return MultivariateStats(sum(p.n_rows for p in parts), float(sum(p.error_sum for p in parts)),
                             [float(v) for v in np.sum([p.sse for p in parts], axis=0)])


def verdict(reference: MultivariateReference, stats: MultivariateStats) -> dict[str, Any]:
    """Error, band, drifted, and the features whose squared error rose most over the reference."""
    error = stats.error
    if error is None:
        return {"error": None, "lower": reference.lower, "upper": reference.upper, "drifted": False, "top": []}
    rise = np.asarray(stats.sse) / stats.n_rows - reference.feature_mse
    order = [int(i) for i in np.argsort(-rise, kind="stable") if rise[i] > 0][:TOP_FEATURES]
    return {"error": error, "lower": reference.lower, "upper": reference.upper,
            "drifted": bool(error > reference.upper or error < reference.lower),
            "top": [(reference.features[i], float(rise[i])) for i in order]}
