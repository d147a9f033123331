"""The vectorised log is within one unit in the last place of numpy's, over its whole domain."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.kernels import _log

EPS = float(np.finfo(np.float64).eps)


def logs_one_by_one(values: np.ndarray) -> np.ndarray:
    mantissas, exponents = _log.scratch()
    return np.array([_log.log_sum_block(values[i : i + 1], mantissas, exponents) for i in range(values.size)])


def test_each_log_is_within_one_ulp_of_numpy():
    rng = np.random.default_rng(0)
    values = np.concatenate([
        rng.random(3000) * (1 - 2 * EPS) + EPS,
        np.geomspace(EPS, 1 - EPS, 3000),
        1 - rng.random(1000) * 1e-9,
        np.geomspace(1e-300, 1e300, 2000),
        [EPS, 1 - EPS, 0.5, 1.0, 2.0, math.sqrt(0.5), np.nextafter(math.sqrt(0.5), 0), math.sqrt(2), np.nextafter(math.sqrt(2), 2)],
    ])
    ours = logs_one_by_one(values)
    expected = np.log(values)
    exact = expected == 0.0
    assert np.array_equal(ours[exact], expected[exact])
    ulps = np.abs(ours[~exact] - expected[~exact]) / np.spacing(np.abs(expected[~exact]))
    assert ulps.max() <= 1.0


@pytest.mark.parametrize("size", [1, 3, 4, 5, 1023, _log.BLOCK])
def test_block_sum_equals_the_sum_of_logs(size):
    values = np.random.default_rng(size).random(size) * 0.999 + 0.0005
    mantissas, exponents = _log.scratch()
    assert _log.log_sum_block(values, mantissas, exponents) == pytest.approx(np.log(values).sum(), rel=1e-14)
