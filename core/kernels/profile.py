"""ReferenceProfile: everything drift tests need from a reference column, computed once.

A model's reference data is reduced to a profile when it is deployed; each monitoring
batch is then compared against the profile without touching (or re-sorting) the
reference again. A profile is plain bytes so it can live in a SQLite BLOB.

Numeric profiles keep the sorted non-missing values (KS and Wasserstein need the whole
empirical distribution), the PSI quantile edges and bin counts, mean and std. Categorical
profiles keep the category labels and their counts; current data is compared as integer
codes against those categories (see `core.data.drift.encode_categories`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from core.kernels import _counts, _sample, _walk
from core.kernels._inputs import as_codes, as_float_array
from core.kernels._kolmogorov import two_sample_p_value

MAGIC = b"PBPROFILE1\n"
_SCIPY_EXACT_MAX_N = 10_000
DEFAULT_PSI_BINS = 10
DEFAULT_JS_BINS = 30
_ARRAYS = {"sorted_values": "<f8", "psi_edges": "<f8", "psi_counts": "<i8", "category_counts": "<i8"}


def sorted_finite(values: object, name: str) -> np.ndarray:
    """The non-NaN values, sorted (on two threads for large samples, see `_sample`)."""
    return _sample.sort_finite(as_float_array(values, name))


def psi_edges(sorted_values: np.ndarray, bins: int) -> np.ndarray:
    """Inner PSI edges: the quantiles i/bins, i = 1..bins-1, of a sorted sample.

    Equal to `numpy.quantile(values, i/bins)` (method "linear"), computed the way numpy
    does it (virtual index (n-1)*q, then numpy's two-sided lerp) from the two neighbours
    of each index, instead of letting numpy copy and partition the whole sample again.
    """
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins: expected a positive integer, got {bins!r}")
    n = sorted_values.size
    if n == 0:
        return np.empty(0)
    virtual = (n - 1) * (np.arange(1, bins) / bins)
    previous = np.floor(virtual)
    index = previous.astype(np.intp)
    below = sorted_values[index]
    above = sorted_values[np.minimum(index + 1, n - 1)]
    gamma = virtual - previous
    step = above - below
    return np.where(gamma >= 0.5, above - step * (1 - gamma), below + step * gamma)


def histogram_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """Equal-width edges over [lo, hi] exactly as `numpy.histogram` builds them."""
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins: expected a positive integer, got {bins!r}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"cannot bin infinite values into a histogram (range {lo}..{hi})")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, bins + 1)


def ks_distance(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> float:
    """KS D of two sorted NaN-free non-empty samples, exactly as `ks_2samp` reports it.

    For samples of at most 10,000 values scipy's default (exact) method snaps D to the
    nearest multiple of 1/lcm(n1, n2); doing the same keeps the two equal to the last bit.
    """
    d = float(_sample.ks_gap(reference_sorted, current_sorted))
    n1, n2 = reference_sorted.size, current_sorted.size
    if max(n1, n2) <= _SCIPY_EXACT_MAX_N:
        lcm = (n1 // math.gcd(n1, n2)) * n2
        d = round(d * lcm) / lcm
    return d


def chi2_p_value(statistic: float, cells: int) -> float:
    """Upper tail of chi-square with cells-1 degrees of freedom (1.0 for a single cell)."""
    from scipy.special import chdtrc

    if cells < 2:
        return 1.0
    return float(chdtrc(cells - 1, statistic))


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """A reference column reduced for drift tests; build with `numeric` or `categorical`."""

    kind: str
    n: int
    n_missing: int
    mean: float = float("nan")
    std: float = float("nan")
    sorted_values: np.ndarray = field(default_factory=lambda: np.empty(0))
    psi_edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    psi_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    categories: tuple[str, ...] = ()
    category_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @classmethod
    def numeric(cls, values: object, *, psi_bins: int = DEFAULT_PSI_BINS) -> ReferenceProfile:
        """Profile a numeric column; NaN values are counted in `n_missing` and left out."""
        raw = as_float_array(values, "reference")
        ordered = sorted_finite(raw, "reference")
        return cls.from_sorted(ordered, n_missing=raw.size - ordered.size, psi_bins=psi_bins)

    @classmethod
    def from_sorted(cls, ordered: np.ndarray, *, n_missing: int = 0, psi_bins: int = DEFAULT_PSI_BINS) -> ReferenceProfile:
        """Profile from values already sorted, float64 and NaN-free (skips a second sort)."""
        edges = psi_edges(ordered, psi_bins)
        n = ordered.size
        return cls(
            kind="numeric",
            n=n,
            n_missing=n_missing,
            mean=float(ordered.mean()) if n else float("nan"),
            std=float(ordered.std()) if n else float("nan"),
            sorted_values=ordered,
            psi_edges=edges,
            psi_counts=_walk.sorted_quantile_bin_counts(ordered, edges) if n else np.zeros(psi_bins, dtype=np.int64),
        )

    @classmethod
    def categorical(cls, codes: object, categories: list[str] | tuple[str, ...]) -> ReferenceProfile:
        """Profile a categorical column given as codes into `categories` (negative: missing)."""
        array = as_codes(codes, "reference")
        labels = tuple(str(c) for c in categories)
        if array.size and array.max() >= len(labels):
            raise ValueError(f"reference: code {int(array.max())} is outside the {len(labels)} categories given")
        counts = _counts.category_counts(array, len(labels))[:-1]
        n = int(counts.sum())
        return cls(kind="categorical", n=n, n_missing=array.size - n, categories=labels, category_counts=counts)

    # -- numeric comparisons -------------------------------------------------------------

    def ks_statistic(self, current: object) -> float:
        """`core.kernels.drift.ks_statistic(reference, current)` without re-sorting the reference."""
        return self.ks_statistic_sorted(self._current_sorted(current))

    def ks_test(self, current: object) -> tuple[float, float]:
        """`core.kernels.drift.ks_test(reference, current)` against this profile."""
        return self.ks_test_sorted(self._current_sorted(current))

    def wasserstein(self, current: object) -> float:
        """`core.kernels.drift.wasserstein(reference, current)` against this profile."""
        return self.wasserstein_sorted(self._current_sorted(current))

    def psi(self, current: object, bins: int | None = None) -> float:
        """PSI against the reference quantile bins (numeric) or categories (categorical codes)."""
        if self.kind == "categorical":
            return self._categorical_psi(current)
        self._require("numeric", "psi")
        edges, ref_counts = self._psi_bins(bins)
        cur_counts = _sample.quantile_counts(as_float_array(current, "current"), edges)
        return self._psi(ref_counts, cur_counts)

    def jensen_shannon(self, current: object, bins: int = DEFAULT_JS_BINS) -> float:
        """Jensen-Shannon distance over equal-width bins (numeric) or categories (codes)."""
        if self.kind == "categorical":
            return self._categorical_js(current)
        values = as_float_array(current, "current")
        lo, hi, count = _sample.finite_min_max(values)
        if count == 0 or self.n == 0:
            return float("nan")
        edges = histogram_edges(min(lo, self.sorted_values[0]), max(hi, self.sorted_values[-1]), bins)
        ref_counts = _walk.sorted_uniform_bin_counts(self.sorted_values, edges)
        return float(_counts.js_distance(ref_counts, _sample.uniform_counts(values, edges)))

    # The *_sorted forms take a current sample already sorted and NaN-free: drift_report
    # sorts each current column once and feeds every statistic from it.

    def ks_statistic_sorted(self, current_sorted: np.ndarray) -> float:
        self._require("numeric", "ks_statistic")
        if self.n == 0 or current_sorted.size == 0:
            return float("nan")
        return ks_distance(self.sorted_values, current_sorted)

    def ks_test_sorted(self, current_sorted: np.ndarray) -> tuple[float, float]:
        d = self.ks_statistic_sorted(current_sorted)
        if d != d:
            return d, d
        return d, float(two_sample_p_value(self.n, current_sorted.size, d))

    def wasserstein_sorted(self, current_sorted: np.ndarray) -> float:
        self._require("numeric", "wasserstein")
        if self.n == 0 or current_sorted.size == 0:
            return float("nan")
        return _sample.wasserstein_sorted(self.sorted_values, current_sorted)

    def psi_sorted(self, current_sorted: np.ndarray) -> float:
        self._require("numeric", "psi")
        edges, ref_counts = self._psi_bins(None)
        return self._psi(ref_counts, _walk.sorted_quantile_bin_counts(current_sorted, edges))

    # -- categorical comparisons ---------------------------------------------------------

    def chi2_test(self, current_codes: object) -> tuple[float, float]:
        """`core.kernels.drift.chi2_test` of current codes against this profile's counts."""
        self._require("categorical", "chi2_test")
        ref_cells, cur_cells = self._category_cells(current_codes)
        if self.n == 0 or cur_cells.sum() == 0:
            return float("nan"), float("nan")
        statistic = float(_counts.chi2_statistic(ref_cells, cur_cells))
        return statistic, chi2_p_value(statistic, ref_cells.size)

    def _categorical_psi(self, current_codes: object) -> float:
        ref_cells, cur_cells = self._category_cells(current_codes)
        return self._psi(ref_cells, cur_cells)

    def _categorical_js(self, current_codes: object) -> float:
        ref_cells, cur_cells = self._category_cells(current_codes)
        if self.n == 0 or cur_cells.sum() == 0:
            return float("nan")
        return float(_counts.js_distance(ref_cells, cur_cells))

    def _category_cells(self, current_codes: object) -> tuple[np.ndarray, np.ndarray]:
        n_categories = len(self.categories)
        current = _counts.category_counts(as_codes(current_codes, "current"), n_categories)
        reference = np.append(self.category_counts, 0)
        return _counts.pool_unseen(reference, current)

    # -- helpers -------------------------------------------------------------------------

    def _require(self, kind: str, method: str) -> None:
        if self.kind != kind:
            raise ValueError(f"{method}: needs a {kind} reference profile, this one is {self.kind}")

    def _current_sorted(self, current: object) -> np.ndarray:
        return sorted_finite(current, "current")

    def _psi_bins(self, bins: int | None) -> tuple[np.ndarray, np.ndarray]:
        if bins is None or bins == self.psi_counts.size:
            return self.psi_edges, self.psi_counts
        edges = psi_edges(self.sorted_values, bins)
        return edges, _walk.sorted_quantile_bin_counts(self.sorted_values, edges)

    @staticmethod
    def _psi(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
        if ref_counts.sum() == 0 or cur_counts.sum() == 0:
            return float("nan")
        return float(_counts.psi_from_counts(ref_counts, cur_counts))

    # -- storage -------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """A self-describing binary form (JSON header + little-endian arrays), no pickle."""
        arrays = {name: np.ascontiguousarray(getattr(self, name), dtype=dtype) for name, dtype in _ARRAYS.items()}
        header = {
            "kind": self.kind,
            "n": self.n,
            "n_missing": self.n_missing,
            "mean": self.mean if self.mean == self.mean else None,
            "std": self.std if self.std == self.std else None,
            "categories": list(self.categories),
            "lengths": {name: int(array.size) for name, array in arrays.items()},
        }
        encoded = json.dumps(header).encode("utf-8")
        return b"".join([MAGIC, len(encoded).to_bytes(8, "little"), encoded, *(a.tobytes() for a in arrays.values())])

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceProfile:
        """Rebuild a profile from `to_bytes()`; anything else raises ValueError."""
        if not data.startswith(MAGIC):
            raise ValueError("not a pitboard reference profile (bad header)")
        start = len(MAGIC)
        try:
            size = int.from_bytes(data[start : start + 8], "little")
            header = json.loads(data[start + 8 : start + 8 + size])
            offset = start + 8 + size
            arrays = {}
            for name, dtype in _ARRAYS.items():
                length = int(header["lengths"][name])
                end = offset + 8 * length
                if end > len(data):
                    raise ValueError(f"{name} is truncated")
                arrays[name] = np.frombuffer(data, dtype=dtype, count=length, offset=offset).astype(dtype[1:])
                offset = end
            if offset != len(data):
                raise ValueError("trailing bytes")
            nan = float("nan")
            return cls(
                kind=str(header["kind"]),
                n=int(header["n"]),
                n_missing=int(header["n_missing"]),
                mean=nan if header["mean"] is None else float(header["mean"]),
                std=nan if header["std"] is None else float(header["std"]),
                categories=tuple(str(c) for c in header["categories"]),
                **arrays,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"corrupt pitboard reference profile: {exc}") from exc
