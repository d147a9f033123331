"""Checked inputs for the kernels: every public kernel validates its arrays once, here.

Kernels are compiled for one signature each (float64 samples, int64 codes), so inputs are
converted once at the boundary, with a one-line error naming the argument when they are
not 1-D numbers.
"""

from __future__ import annotations

import numpy as np


def as_float_array(values: object, name: str) -> np.ndarray:
    """A contiguous float64 1-D array (one compiled signature for every input dtype)."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name}: expected numbers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def as_codes(codes: object, name: str) -> np.ndarray:
    """Contiguous int64 category codes."""
    array = np.asarray(codes)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of category codes, got shape {array.shape}")
    if array.dtype.kind not in "biu":
        raise ValueError(f"{name}: category codes must be integers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.int64)
