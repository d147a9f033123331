"""Column roles and per-column profiles of a dataset version.

The profile is computed once at import and stored as JSON beside the schema, so the data
pane, `pitboard data show` and validation read small summaries instead of raw rows.

Role rules, in order (the first that applies wins):

- `target`: the column given with `--target`.
- `id`: the column given with `--id-column`, or a column named `id` or ending in `_id`
  / `-id` (any case) whose values are all present and distinct.
- `datetime`: a datetime column (ISO 8601 dates and times are parsed on import).
- `boolean`: a bool column, or numbers that are only 0 and 1.
- `numeric`: any other int or float column.
- `categorical`: a text column with at most 100 distinct values and at most half as
  many distinct values as present values.
- `text`: any other text column (free text, codes, names).

Every profile has `kind` (the role the column would have without `--target`/`--id-column`),
`count` (present values), `missing`, `missing_rate` and `unique`. Numeric and boolean
columns add `mean`, `std`, `min`, `p5`, `p25`, `p50`, `p75`, `p95`, `max` and a
`histogram` of `edges` and `counts` (integers with a small range get one bin per value).
Categorical, boolean and text columns add `top`: `[value, count]` pairs, most frequent
first (every category for categorical and boolean columns, the 20 most frequent for text).
Datetime columns add `min`, `max` and a histogram with ISO 8601 edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.data.chunks import field_metadata

if TYPE_CHECKING:
    import pyarrow as pa

ROLES = ("numeric", "categorical", "boolean", "datetime", "text", "target", "id")
CATEGORICAL_MAX_UNIQUE = 100
TEXT_TOP = 20
HISTOGRAM_BINS = 20
QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
_ID_NAME = re.compile(r"(^|[_\-])id\Z", re.IGNORECASE)  # \Z: `$` would also match before a final newline
_NANOS = {"date32[day]": 86_400 * 10**9, "timestamp[s]": 10**9, "timestamp[us]": 10**3, "timestamp[ns]": 1}  # core.data.chunks' units


@dataclass(frozen=True)
class ColumnProfile:
    """One column of a dataset version: how it is stored, what it is for, what it holds."""

    name: str
    dtype: str
    role: str
    profile: dict[str, Any]


def profile_column(
    field: "pa.Field",
    array: "pa.Array",
    *,
    target: str | None = None,
    id_column: str | None = None,
) -> ColumnProfile:
    """Role and profile of one column in its compact stored form (`core.data.chunks.compact_column`).

    An import compacts every column anyway, and the compact form is cheaper to profile:
    sorting narrow integers instead of floats, counting categories by dictionary index
    instead of hashing every string.
    """
    name = field.name
    dtype = field_metadata(field)["dtype"]
    missing = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    n_rows = len(array)
    n_missing = array.null_count
    n_present = n_rows - n_missing
    profile: dict[str, Any] = {
        "kind": "",
        "count": n_present,
        "missing": n_missing,
        "missing_rate": n_missing / n_rows if n_rows else 0.0,
        "unique": 0,
    }
    if dtype in ("bool", "boolean", "int64", "float64"):
        present = _present(array, missing)
        stored = _sort(present)
        ordered = _as_floats(stored, field)
        profile["unique"] = _sorted_unique(ordered)
        profile["kind"] = _numeric_kind(dtype, name, n_rows, ordered, profile["unique"])
        profile.update(sorted_summary(ordered, integer=dtype != "float64"))
        if profile["kind"] == "boolean":
            profile["top"] = _pairs(*_first_seen_counts(present, stored, ordered, dtype), None)
    elif dtype.startswith("datetime64"):
        nanos = _sort(_present(array, missing)).astype(np.int64) * _NANOS[str(array.type)]
        profile["unique"] = _sorted_unique(nanos)
        profile["kind"] = "datetime"
        profile.update(_datetime_summary(nanos))
    else:
        values, counts = _text_counts(array)
        profile["unique"] = len(counts)
        profile["kind"] = _text_kind(name, n_rows, n_present, len(counts))
        if profile["kind"] != "id":
            profile["top"] = _pairs(values, counts, None if profile["kind"] == "categorical" else TEXT_TOP)
    role = "target" if name == target else "id" if name == id_column else profile["kind"]
    return ColumnProfile(name, dtype, role, profile)


def _present(array: "pa.Array", missing: np.ndarray | None) -> np.ndarray:
    """The present values in their stored numpy type (narrow ints, floats, bools, days)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_temporal(array.type):
        array = array.cast(pa.int32() if pa.types.is_date32(array.type) else pa.int64())
    if missing is None:
        return array.to_numpy(zero_copy_only=False)
    # Filled first: Arrow turns integers with nulls into float64 NaNs, twice as slow to sort.
    return pc.fill_null(array, False if pa.types.is_boolean(array.type) else 0).to_numpy(zero_copy_only=False)[~missing]


def _sort(values: np.ndarray) -> np.ndarray:
    """Sorted copy; numpy's stable sort is a radix sort for 8- and 16-bit values, 6x its quicksort."""
    return np.sort(values, kind="stable" if values.dtype.itemsize <= 2 else "quicksort")


def _as_floats(stored: np.ndarray, field: "pa.Field") -> np.ndarray:
    """Stored numbers as the float64 values they stand for (scaled decimals divided back)."""
    decimals = field_metadata(field).get("decimals")
    values = stored.astype(np.float64)
    if decimals is not None:
        values /= 10.0 ** int(decimals)  # as core.data.chunks restores them: the same float64 division
    return values


def _sorted_unique(ordered: np.ndarray) -> int:
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1 if len(ordered) else 0


def _looks_like_id(name: str, n_rows: int, n_present: int, unique: int) -> bool:
    return bool(_ID_NAME.search(name)) and n_present == n_rows and unique == n_rows


def _numeric_kind(dtype: str, name: str, n_rows: int, ordered: np.ndarray, unique: int) -> str:
    if dtype in ("bool", "boolean"):
        return "boolean"
    if dtype == "int64" and _looks_like_id(name, n_rows, len(ordered), unique):
        return "id"
    if len(ordered) and unique <= 2 and ordered[0] in (0.0, 1.0) and ordered[-1] in (0.0, 1.0):
        return "boolean"
    return "numeric"


def _first_seen_counts(
    present: np.ndarray, stored: np.ndarray, ordered: np.ndarray, dtype: str
) -> tuple[list[Any], np.ndarray]:
    """The few distinct values of a boolean column and their counts, most frequent first (ties: first seen).

    `stored` is `present` sorted, and `ordered` the same as the float64 values it stands for.
    """
    if not len(ordered):
        return [], np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, len(ordered)])
    distinct = ordered[starts]
    first_seen = [int(np.argmax(present == value)) for value in stored[starts]]
    seen_order = np.argsort(first_seen, kind="stable")
    order = seen_order[np.argsort(-counts[seen_order], kind="stable")]
    python = {"float64": float, "int64": int}.get(dtype, bool)
    return [python(distinct[i]) for i in order], counts[order]


def _text_counts(array: "pa.Array") -> tuple[list[Any], np.ndarray]:
    """Each present text value and its count: the most frequent first, ties in order of first appearance.

    Categories are counted by dictionary index, whose order is that of first appearance.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        indices = array.indices
        codes = indices.to_numpy(zero_copy_only=False) if not indices.null_count else \
            indices.drop_null().to_numpy(zero_copy_only=False)
        counts = np.bincount(codes.astype(np.intp, copy=False), minlength=len(array.dictionary))
        values = array.dictionary.to_pylist()
    else:
        counted = pc.value_counts(array.drop_null())
        values = counted.field("values").to_pylist()
        counts = counted.field("counts").to_numpy(zero_copy_only=False)
    used = np.flatnonzero(counts)
    order = used[np.argsort(-counts[used], kind="stable")]
    return [values[i] for i in order], counts[order]


def _text_kind(name: str, n_rows: int, n_present: int, unique: int) -> str:
    if _looks_like_id(name, n_rows, n_present, unique):
        return "id"
    if unique <= CATEGORICAL_MAX_UNIQUE and unique <= n_present / 2:
        return "categorical"
    return "text"


def sorted_summary(ordered: np.ndarray, *, integer: bool = False) -> dict[str, Any]:
    """Moments, quantiles and a histogram from sorted present numbers (infinities left out).

    One sort serves everything: quantiles are read off by position (numpy's default linear
    interpolation) and histogram counts by binary search, several times faster than
    separate unique, quantile and histogram passes over a million values.
    """
    finite = ordered[np.searchsorted(ordered, -np.inf, side="right") : np.searchsorted(ordered, np.inf, side="left")]
    if not len(finite):
        return {"mean": None, "std": None, "min": None, **{k: None for k in QUANTILES}, "max": None,
                "histogram": {"edges": [], "counts": []}}
    low, high = float(finite[0]), float(finite[-1])
    summary: dict[str, Any] = {
        "mean": float(finite.mean()),
        "std": float(finite.std(ddof=1)) if len(finite) > 1 else 0.0,
        "min": low,
        **{key: _sorted_quantile(finite, q) for key, q in QUANTILES.items()},
        "max": high,
    }
    if integer and high - low < HISTOGRAM_BINS:
        edges = np.arange(low - 0.5, high + 1.0, 1.0)
    else:
        edges = np.linspace(low, high if high > low else low + 1.0, HISTOGRAM_BINS + 1)
    summary["histogram"] = {"edges": edges.tolist(), "counts": _sorted_histogram(finite, edges)}
    return summary


def _sorted_quantile(ordered: np.ndarray, q: float) -> float:
    position = q * (len(ordered) - 1)
    below = int(np.floor(position))
    above = min(below + 1, len(ordered) - 1)
    return float(ordered[below] + (ordered[above] - ordered[below]) * (position - below))


def _sorted_histogram(ordered: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts per bin [edge_i, edge_i+1), the last bin closed, as numpy.histogram counts."""
    cuts = np.searchsorted(ordered, edges, side="left")
    cuts[-1] = np.searchsorted(ordered, edges[-1], side="right")
    return np.diff(cuts).tolist()


def _pairs(values: list[Any], counts: np.ndarray, limit: int | None) -> list[list[Any]]:
    return [[value, int(count)] for value, count in zip(values[:limit], counts[:limit])]


def _datetime_summary(nanos: np.ndarray) -> dict[str, Any]:
    if not len(nanos):
        return {"min": None, "max": None, "histogram": {"edges": [], "counts": []}}
    low, high = int(nanos[0]), int(nanos[-1])
    edges = np.linspace(low, high if high > low else low + 1, HISTOGRAM_BINS + 1)
    return {
        "min": iso_time(np.datetime64(low, "ns")),
        "max": iso_time(np.datetime64(high, "ns")),
        "histogram": {
            "edges": [iso_time(np.datetime64(int(edge), "ns")) for edge in edges],
            "counts": _sorted_histogram(nanos.astype(np.float64), edges),
        },
    }


def iso_time(moment: np.datetime64) -> str:
    """A datetime as ISO 8601 text, to the second (the date alone at midnight)."""
    text = np.datetime_as_string(moment, unit="s")
    return text[:10] if text.endswith("T00:00:00") else text
