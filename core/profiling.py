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
from typing import Any

import numpy as np
import pandas as pd

ROLES = ("numeric", "categorical", "boolean", "datetime", "text", "target", "id")
CATEGORICAL_MAX_UNIQUE = 100
TEXT_TOP = 20
HISTOGRAM_BINS = 20
QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
_ID_NAME = re.compile(r"(^|[_\-])id$", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnProfile:
    """One column of a dataset version: how it is stored, what it is for, what it holds."""

    name: str
    dtype: str
    role: str
    profile: dict[str, Any]


def profile_frame(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    id_column: str | None = None,
) -> list[ColumnProfile]:
    """Role and profile of every column of a canonical frame."""
    return [_profile_column(frame[name], str(name), target, id_column) for name in frame.columns]


def _profile_column(series: pd.Series, name: str, target: str | None, id_column: str | None) -> ColumnProfile:
    dtype = series.dtype
    missing_mask = series.isna().to_numpy()
    n_missing = int(missing_mask.sum())
    n_present = len(series) - n_missing
    profile: dict[str, Any] = {
        "kind": "",
        "count": n_present,
        "missing": n_missing,
        "missing_rate": n_missing / len(series) if len(series) else 0.0,
        "unique": 0,
    }
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        ordered = np.sort(series.to_numpy(dtype=np.float64, na_value=np.nan)[~missing_mask])
        profile["unique"] = _sorted_unique(ordered)
        profile["kind"] = _numeric_kind(series, name, ordered, profile["unique"])
        profile.update(sorted_summary(ordered, integer=not pd.api.types.is_float_dtype(dtype)))
        if profile["kind"] == "boolean":
            profile["top"] = _pairs(_counts(series), None)
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        nanos = np.sort(series.to_numpy(dtype="datetime64[ns]")[~missing_mask].view(np.int64))
        profile["unique"] = _sorted_unique(nanos)
        profile["kind"] = "datetime"
        profile.update(_datetime_summary(nanos))
    else:
        counts = _counts(series)
        profile["unique"] = len(counts)
        profile["kind"] = _text_kind(name, len(series), n_present, len(counts))
        if profile["kind"] != "id":
            profile["top"] = _pairs(counts, None if profile["kind"] == "categorical" else TEXT_TOP)
    role = "target" if name == target else "id" if name == id_column else profile["kind"]
    return ColumnProfile(name, str(dtype), role, profile)


def _sorted_unique(ordered: np.ndarray) -> int:
    return int(np.count_nonzero(np.diff(ordered))) + 1 if len(ordered) else 0


def _looks_like_id(name: str, n_rows: int, n_present: int, unique: int) -> bool:
    return bool(_ID_NAME.search(name)) and n_present == n_rows and unique == n_rows


def _numeric_kind(series: pd.Series, name: str, ordered: np.ndarray, unique: int) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(series.dtype) and _looks_like_id(name, len(series), len(ordered), unique):
        return "id"
    if len(ordered) and unique <= 2 and ordered[0] in (0.0, 1.0) and ordered[-1] in (0.0, 1.0):
        return "boolean"
    return "numeric"


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


def _counts(values: pd.Series) -> pd.Series:
    """Count per present value, most frequent first; ties keep the order of first appearance."""
    return values.value_counts(sort=False, dropna=True).sort_values(ascending=False, kind="stable")


def _pairs(counts: pd.Series, limit: int | None) -> list[list[Any]]:
    return [[_plain(v), int(c)] for v, c in zip(counts.index[:limit], counts.to_numpy()[:limit])]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


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
