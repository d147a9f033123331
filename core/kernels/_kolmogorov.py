"""Survival function of the Kolmogorov distribution, for the KS test's p-value.

`ks_2samp(..., method="asymp")` reports `P(D_n >= d)` for the one-sample Kolmogorov
statistic with `n = round(n1 * n2 / (n1 + n2))`. scipy evaluates it with exact but slow
algorithms (its one-sided Smirnov sum dominates `ks_2samp` on drifted data). We follow the
same regions (Simard & L'Ecuyer 2011) and stay exact where the probability is large enough
to matter, switching to an asymptotic expansion only where its error is far below 1%:

- `n*d <= 1` or `n*d >= n-1`: closed forms (Ruben & Gambino);
- the tail (`n*d^2 >= 2.2` or `d >= 0.5`): twice the one-sided Smirnov probability, the
  exact Birnbaum-Tingey sum for n up to 100,000 and its asymptotic expansion beyond, where
  the relative error is below 1e-4; past `n*d^2 >= 370` the probability underflows to 0;
- the body: for n <= 140 the exact Durbin matrix method (Marsaglia, Tsang & Wang 2003),
  for larger n the Pelz-Good expansion (what scipy uses there too).
"""

from __future__ import annotations

import math

import numpy as np

from core.kernels._jit import jit

_TAIL_NX2 = 2.2
_UNDERFLOW_NX2 = 370.0
_EXACT_BODY_N = 140
_EXACT_BODY_NX2 = 4.0
_EXACT_TAIL_N = 100_000
_PI2 = math.pi**2
_SQRT2PI = math.sqrt(2.0 * math.pi)


@jit
def two_sample_p_value(n1: int, n2: int, d: float) -> float:
    """`ks_2samp(method="asymp")`'s two-sided p-value for statistic `d` on samples of n1, n2.

    NaN when the effective size rounds to 0 (one value in each sample), as in scipy.
    """
    big = float(max(n1, n2))
    small = float(min(n1, n2))
    n = int(np.rint(big * small / (big + small)))
    if n <= 0:
        return np.nan
    return min(max(kolmogorov_sf(n, d), 0.0), 1.0)


@jit
def kolmogorov_sf(n: int, x: float) -> float:
    """P(D_n >= x) for the two-sided one-sample Kolmogorov statistic of n observations."""
    if np.isnan(x):
        return np.nan
    if x >= 1.0:
        return 0.0
    if x <= 0.0:
        return 1.0
    t = n * x
    if t <= 0.5:
        return 1.0
    if t <= 1.0:
        return 1.0 - math.exp(math.lgamma(n + 1.0) - n * math.log(n) + n * math.log(2.0 * t - 1.0))
    if t >= n - 1:
        return 2.0 * (1.0 - x) ** n
    nx2 = t * x
    if nx2 >= _UNDERFLOW_NX2:
        return 0.0
    if x < 0.5 and n <= _EXACT_BODY_N and nx2 <= _EXACT_BODY_NX2:
        return 1.0 - _durbin_cdf(n, x)
    if x >= 0.5 or nx2 >= _TAIL_NX2:
        return 2.0 * _smirnov_sf(n, x)
    return 1.0 - _pelz_good_cdf(n, x)


@jit
def _smirnov_sf(n: int, x: float) -> float:
    """P(D+_n >= x), the one-sided statistic: exact sum, or asymptotic for very large n."""
    if n > _EXACT_TAIL_N:
        z = math.sqrt(n) * x
        return math.exp(-2.0 * z * z - 2.0 * z / (3.0 * math.sqrt(n)))
    # Birnbaum & Tingey (1951): x * sum_j C(n, j) (1 - x - j/n)^(n-j) (x + j/n)^(j-1)
    last = int(math.floor(n * (1.0 - x)))
    log_binomial = 0.0
    total = 0.0
    for j in range(last + 1):
        if j > 0:
            log_binomial += math.log((n - j + 1.0) / j)
        below = 1.0 - x - j / n
        if below <= 0.0:
            break
        total += math.exp(log_binomial + (n - j) * math.log(below) + (j - 1.0) * math.log(x + j / n))
    return min(x * total, 1.0)


@jit
def _durbin_cdf(n: int, d: float) -> float:
    """P(D_n < d) exactly, by the Durbin matrix power (Marsaglia, Tsang & Wang 2003)."""
    k = int(n * d) + 1
    m = 2 * k - 1
    h = k - n * d
    base = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if i - j + 1 >= 0:
                base[i, j] = 1.0
    for i in range(m):
        base[i, 0] -= h ** (i + 1)
        base[m - 1, i] -= h ** (m - i)
    if 2.0 * h - 1.0 > 0.0:
        base[m - 1, 0] += (2.0 * h - 1.0) ** m
    for i in range(m):
        for j in range(m):
            if i - j + 1 > 0:
                for g in range(1, i - j + 2):
                    base[i, j] /= g
    power, exponent = _matrix_power(base, n)
    s = power[k - 1, k - 1]
    for i in range(1, n + 1):
        s = s * i / n
        if s < 1e-140:
            s *= 1e140
            exponent -= 140
    return s * 10.0**exponent


@jit
def _matrix_power(base: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """base**n as (matrix, e) with the true power = matrix * 10**e (keeps entries finite)."""
    m = base.shape[0]
    result = np.eye(m)
    result_exp = 0
    square = base.copy()
    square_exp = 0
    while n > 0:
        if n & 1:
            result = result @ square
            result_exp += square_exp
            if np.abs(result).max() > 1e140:
                result *= 1e-140
                result_exp += 140
        n >>= 1
        if n:
            square = square @ square
            square_exp *= 2
            if np.abs(square).max() > 1e140:
                square *= 1e-140
                square_exp += 140
    return result, result_exp


@jit
def _pelz_good_cdf(n: int, x: float) -> float:
    """P(D_n <= x) by the Pelz-Good (1976) expansion K0 + K1/sqrt(n) + K2/n + K3/n^1.5."""
    z = math.sqrt(n) * x
    z2 = z * z
    log_q = -_PI2 / 8.0 / z2
    if log_q < -745.0:
        return 0.0
    q = math.exp(log_q)
    k1a, k1b = -z2, _PI2 / 4.0
    k2a = 6.0 * z2**3 + 2.0 * z2**2
    k2b = (2.0 * z2**2 - 5.0 * z2) * _PI2 / 4.0
    k2c = _PI2**2 * (1.0 - 2.0 * z2) / 16.0
    k3a = -30.0 * z2**3 - 90.0 * z2**4
    k3b = _PI2 * (135.0 * z2**2 - 96.0 * z2**3) / 4.0
    k3c = _PI2**2 * (-60.0 * z2 + 212.0 * z2**2) / 16.0
    k3d = _PI2**3 * (5.0 - 30.0 * z2) / 64.0
    terms = int(math.ceil(16.0 * z / math.pi))
    s0 = s1 = s2 = s3 = 0.0
    # sums over odd m = 2k-1 of c(m) q^(m^2), evaluated by Horner in q^(8k)
    for k in range(terms, 0, -1):
        m2 = (2.0 * k - 1.0) ** 2
        step = q ** (8.0 * k)
        s0 = s0 * step + 1.0
        s1 = s1 * step + k1a + k1b * m2
        s2 = s2 * step + k2a + k2b * m2 + k2c * m2 * m2
        s3 = s3 * step + k3a + k3b * m2 + k3c * m2 * m2 + k3d * m2 * m2 * m2
    scale = q * _SQRT2PI
    s0 *= scale / z
    s1 *= scale / (6.0 * z2 * z2)
    s2 *= scale / (72.0 * z2**3 * z)
    s3 *= scale / (6480.0 * z2**5)
    q_all = math.exp(-_PI2 / 2.0 / z2)
    extra2 = 0.0
    extra3 = 0.0
    sqrt3z = math.sqrt(3.0) * z
    for k in range(terms, 0, -1):
        k2 = float(k * k)
        weight = k2 * q_all**k2
        extra2 += weight
        extra3 += (sqrt3z + math.pi * k) * (sqrt3z - math.pi * k) * weight
    s2 += extra2 * _PI2 * _SQRT2PI / (-36.0 * z2 * z)
    s3 += extra3 * _PI2 * _SQRT2PI / (216.0 * z2**3)
    root_n = math.sqrt(n)
    return s0 + s1 / root_n + s2 / n + s3 / (n * root_n)
