"""A natural logarithm that vectorises, for sums of many logs (log loss).

A loop calling `math.log` runs one scalar libm call per value; numba only vectorises
such loops with Intel's SVML, which pitboard does not depend on. This is fdlibm's
`e_log.c` algorithm written as arithmetic on whole blocks, so LLVM turns it into AVX2
code: split x into 2^k * m with m in [sqrt(2)/2, sqrt(2)) by integer operations on the
bits, then log(m) = log(1 + f) from fdlibm's degree-14 polynomial in s = f / (2 + f).
The error is below one unit in the last place (the tests compare with numpy's log).

Valid for positive normal floats only (no zero, subnormal, infinity or NaN): callers clip
their input to [eps, 1 - eps] first.
"""

from __future__ import annotations

import numpy as np

from core.kernels._jit import jit

BLOCK = 1024
"""Values per call of `log_sum_block`; its scratch buffers are this long."""

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_ONE_BITS = 0x3FF0000000000000
_HALF_SQRT2_BITS = 0x3FE6A09E667F3BCD
_TWO52_BITS = 0x4330000000000000  # 2**52: OR-ing a small integer in gives 2**52 + it
_TWO52 = 4503599627370496.0


@jit
def scratch() -> tuple[np.ndarray, np.ndarray]:
    """The two buffers `log_sum_block` works in (allocate once per loop, not per block)."""
    return np.empty(BLOCK, dtype=np.uint64), np.empty(BLOCK, dtype=np.uint64)


@jit
def log_sum_block(values: np.ndarray, mantissas: np.ndarray, exponents: np.ndarray) -> float:
    """Sum of log(values) for at most BLOCK positive normal floats (see the module docstring).

    First pass, integers only: the bits of m (x with its exponent replaced, so that m
    lands in [sqrt(2)/2, sqrt(2))) and of 2**52 + (k + 1023), which as a float minus
    2**52 gives the exponent without an int64-to-float conversion (AVX2 has none).
    Second pass, floats only: fdlibm's formula, written over m. Then four partial sums,
    so that the additions do not wait on each other.
    """
    bits = values.view(np.uint64)
    shift = np.uint64(_ONE_BITS - _HALF_SQRT2_BITS)
    for i in range(values.size):
        biased = (bits[i] + shift) >> np.uint64(52)
        mantissas[i] = bits[i] - ((biased - np.uint64(1023)) << np.uint64(52))
        exponents[i] = np.uint64(_TWO52_BITS) | biased
    logs = mantissas.view(np.float64)
    k_values = exponents.view(np.float64)
    for i in range(values.size):
        k = k_values[i] - _TWO52 - 1023.0
        f = logs[i] - 1.0
        s = f / (2.0 + f)
        z = s * s
        w = z * z
        r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
        half_f2 = 0.5 * f * f
        logs[i] = k * _LN2_HI - ((half_f2 - (s * (half_f2 + r) + k * _LN2_LO)) - f)
    s0 = s1 = s2 = s3 = 0.0
    quads = values.size - values.size % 4
    for i in range(0, quads, 4):
        s0 += logs[i]
        s1 += logs[i + 1]
        s2 += logs[i + 2]
        s3 += logs[i + 3]
    for i in range(quads, values.size):
        s0 += logs[i]
    return (s0 + s1) + (s2 + s3)
