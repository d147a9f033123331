"""Drift between two tables, column by column, on the numba kernels.

`drift_report` chooses Evidently's default test per column and gives its verdict;
`encode_categories` turns a column of values into codes against a profile's categories
(the form the categorical kernels take). The thresholds below are the defaults that
monitoring's window tests share.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from core.kernels._parallel import serial
from core.kernels.profile import ReferenceProfile, sorted_finite

if TYPE_CHECKING:
    import pandas as pd

SMALL_REFERENCE = 1000
P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
DATASET_DRIFT_SHARE = 0.5
FEW_VALUES = 5
STD_FLOOR = 0.001


def encode_categories(values: pd.Series | np.ndarray, categories: list[str] | tuple[str, ...]) -> np.ndarray:
    """Codes of `values` against a profile's categories: -1 missing, len(categories) unseen.

    Values are compared as strings (profiles store categories as text), hashed by pandas
    through an index lookup (constructing a Categorical with unseen values is deprecated).
    """
    import pandas as pd

    series = pd.Series(values, copy=False)
    missing = series.isna().to_numpy()
    text = series.astype(str).to_numpy()
    codes = pd.Index(list(categories)).get_indexer(text).astype(np.int64)
    codes[(codes < 0) & ~missing] = len(categories)
    codes[missing] = -1
    return codes


def drift_report(reference_df: pd.DataFrame, current_df: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """One row per column with Evidently's default drift test and verdict, plus PSI and missing rates.

    Test choice (Evidently's DataDriftPreset defaults), on the non-missing values (NaN and
    infinities count as missing): with 1,000 reference values or fewer, KS (drift if
    p <= 0.05) for numeric columns with more than 5 distinct values and chi-square (drift if
    p < 0.05) for categorical ones; with a larger reference, Wasserstein distance divided by
    the reference std (floored at 0.001) for numeric columns and Jensen-Shannon for
    categorical ones (drift if >= 0.1). Numeric columns with 5 distinct values or fewer
    (reference and current together) are tested as categorical. Categorical means object,
    string, category or bool dtype. Evidently's z-test for two-valued columns with a small
    reference is replaced by chi-square.

    Columns are processed in parallel by a thread pool (the kernels release the GIL); a
    report of one column splits that column's kernels over the cores instead.
    `attrs` of the result hold `dataset_drift` (half of the columns or more drifted),
    `drift_share`, `n_drifted` and `n_columns`.
    """
    import pandas as pd

    names = list(reference_df.columns) if columns is None else list(columns)
    for name in names:
        for label, frame in (("reference", reference_df), ("current", current_df)):
            if name not in frame.columns:
                raise ValueError(f"column {name!r} is not in the {label} data")
    jobs = [(name, reference_df[name], current_df[name]) for name in names]
    workers = max(1, min(len(jobs), len(os.sched_getaffinity(0))))
    if workers == 1:
        rows = [_column_drift(*job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_serial_column_drift, jobs))
    report = pd.DataFrame(rows, columns=_REPORT_COLUMNS)
    n_drifted = int(report["drifted"].sum())
    share = n_drifted / len(report) if len(report) else 0.0
    report.attrs.update(
        dataset_drift=bool(len(report) and share >= DATASET_DRIFT_SHARE),
        drift_share=share,
        n_drifted=n_drifted,
        n_columns=len(report),
    )
    return report


_REPORT_COLUMNS = ["column", "kind", "stattest", "drift_score", "threshold", "drifted", "psi", "reference_missing", "current_missing"]


def _serial_column_drift(job: tuple[str, pd.Series, pd.Series]) -> dict:
    """`_column_drift` on a pool thread: the pool keeps the cores busy, kernels stay whole."""
    with serial():
        return _column_drift(*job)


def _column_drift(name: str, reference: pd.Series, current: pd.Series) -> dict:
    """The report row of one column (runs on a worker thread)."""
    import pandas as pd

    row: dict = {"column": name}
    dtype = reference.dtype
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        ref_codes, cur_codes, categories = _categorical_codes(reference, current)
        profile = ReferenceProfile.categorical(ref_codes, categories)
        n_cur = int((cur_codes >= 0).sum())
        row["kind"] = "categorical"
    elif pd.api.types.is_numeric_dtype(dtype):
        ref_values = _finite(reference, name, "reference")
        cur_values = _finite(current, name, "current")
        distinct = _walk_distinct(ref_values, cur_values)
        n_cur = cur_values.size
        row["kind"] = "numeric"
        if distinct is None:
            profile = ReferenceProfile.from_sorted(ref_values)
            return {**row, **_numeric_test(profile, cur_values), **_missing(profile.n, reference, n_cur, current)}
        categories = [repr(float(v)) for v in distinct]
        profile = ReferenceProfile.categorical(np.searchsorted(distinct, ref_values), categories)
        cur_codes = np.searchsorted(distinct, cur_values)
    else:
        raise ValueError(f"column {name!r}: cannot test drift on dtype {dtype}")
    return {**row, **_categorical_test(profile, cur_codes), **_missing(profile.n, reference, n_cur, current)}


def _numeric_test(profile: ReferenceProfile, current_sorted: np.ndarray) -> dict:
    if profile.n <= SMALL_REFERENCE:
        _, p_value = profile.ks_test_sorted(current_sorted)
        result = {"stattest": "ks", "drift_score": p_value, "threshold": P_VALUE_THRESHOLD, "drifted": bool(p_value <= P_VALUE_THRESHOLD)}
    else:
        distance = profile.wasserstein_sorted(current_sorted) / max(profile.std, STD_FLOOR)
        result = {"stattest": "wasserstein", "drift_score": distance, "threshold": DISTANCE_THRESHOLD, "drifted": bool(distance >= DISTANCE_THRESHOLD)}
    result["psi"] = profile.psi_sorted(current_sorted) if profile.n and current_sorted.size else float("nan")
    return result


def _categorical_test(profile: ReferenceProfile, current_codes: np.ndarray) -> dict:
    if profile.n <= SMALL_REFERENCE:
        _, p_value = profile.chi2_test(current_codes)
        result = {"stattest": "chi2", "drift_score": p_value, "threshold": P_VALUE_THRESHOLD, "drifted": bool(p_value < P_VALUE_THRESHOLD)}
    else:
        distance = profile.jensen_shannon(current_codes)
        result = {"stattest": "jensen_shannon", "drift_score": distance, "threshold": DISTANCE_THRESHOLD, "drifted": bool(distance >= DISTANCE_THRESHOLD)}
    result["psi"] = profile.psi(current_codes)
    return result


def _missing(n_ref: int, reference: pd.Series, n_cur: int, current: pd.Series) -> dict:
    return {
        "reference_missing": 1.0 - n_ref / len(reference) if len(reference) else float("nan"),
        "current_missing": 1.0 - n_cur / len(current) if len(current) else float("nan"),
    }


def _finite(series: pd.Series, name: str, side: str) -> np.ndarray:
    """Sorted finite values of a numeric column (NaN, NA and infinities dropped)."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    ordered = sorted_finite(values, f"{side} column {name!r}")
    start = np.searchsorted(ordered, -np.inf, side="right")
    stop = np.searchsorted(ordered, np.inf, side="left")
    return ordered[start:stop]


def _walk_distinct(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> np.ndarray | None:
    """The distinct values of both samples if there are at most 5 of them, else None."""
    distinct: list[float] = []
    for ordered in (reference_sorted, current_sorted):
        position = 0
        while position < ordered.size:
            value = ordered[position]
            if value not in distinct:
                distinct.append(value)
                if len(distinct) > FEW_VALUES:
                    return None
            position = int(np.searchsorted(ordered, value, side="right"))
    return np.array(sorted(distinct))


def _categorical_codes(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reference codes into its own categories, and current codes against them."""
    import pandas as pd

    ref_text = reference.astype(str).where(reference.notna())
    categorical = pd.Categorical(ref_text.dropna())
    categories = [str(c) for c in categorical.categories]
    return encode_categories(reference, categories), encode_categories(current, categories), categories
