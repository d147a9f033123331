"""Hypothesis strategies for kernel tests: samples with ties, constants, extreme scales, NaN."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

SCALES = [1e-150, 1e-8, 1.0, 1e8, 1e150]


@st.composite
def samples(draw, min_size: int = 1, max_size: int = 60, nan: bool = True) -> np.ndarray:
    """A 1-D float sample: continuous, tie-heavy, constant or integer-valued, maybe with NaN."""
    size = draw(st.integers(min_size, max_size))
    shape = draw(st.sampled_from(["continuous", "ties", "constant", "integers"]))
    if shape == "continuous":
        values = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=size, max_size=size))
        array = np.array(values, dtype=float) * draw(st.sampled_from(SCALES))
    elif shape == "ties":
        array = np.array(draw(st.lists(st.integers(0, 3), min_size=size, max_size=size)), dtype=float) * draw(st.sampled_from(SCALES))
    elif shape == "constant":
        array = np.full(size, draw(st.floats(-1e6, 1e6, allow_nan=False)))
    else:
        array = np.array(draw(st.lists(st.integers(-1000, 1000), min_size=size, max_size=size)), dtype=float)
    if nan and size > 1 and draw(st.booleans()):
        holes = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size // 2 + 1))
        array[holes] = np.nan
    return array


def finite(array: np.ndarray) -> np.ndarray:
    return array[~np.isnan(array)]
