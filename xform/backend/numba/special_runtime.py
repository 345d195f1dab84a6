"""Scalar special functions for jitted kernels (the primitives of ``xform/lax/special.py``).

Eagerly those primitives run scipy.special; Numba cannot call scipy.special's ufuncs
(numba-scipy is not a dependency), and ``math`` has no digamma, polygamma or inverse
normal CDF, so these are written by hand with loops (not expressible as one scalar
expression). ``erf_inv_scalar`` serves ``lax.erf_inv`` (``xform/lax/elementwise.py``).
Generated kernels import them through ``runtime.py``.
"""
from __future__ import annotations

import math

import numba

from ...lax import random_math as _rm

# B_2k / (2k)! for k = 1..10: the asymptotic (Stirling-type) series of the polygammas.
_B2K_OVER_FACT = (
    1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0, -1.0 / 1209600.0, 1.0 / 47900160.0,
    -691.0 / 1307674368000.0, 1.0 / 74724249600.0, -3617.0 / 10670622842880000.0,
    43867.0 / 5109094217170944000.0, -174611.0 / 802857662698291200000.0,
)
# B_2k / (2k) for k = 1..8: the asymptotic series of digamma.
_B2K_OVER_2K = (1.0 / 12.0, -1.0 / 120.0, 1.0 / 252.0, -1.0 / 240.0, 1.0 / 132.0,
                -691.0 / 32760.0, 1.0 / 12.0, -3617.0 / 8160.0)


@numba.njit(error_model="numpy")
def digamma_scalar(x):
    """psi(x) with scipy's special values: -inf at +0, inf at -0, nan at negative
    integers and -inf, inf at inf."""
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return math.inf
    if x == 0.0:
        return -math.copysign(math.inf, x)
    res = 0.0
    if x < 0.0:
        if x == math.floor(x):
            return math.nan
        # Reflection: psi(x) = psi(1 - x) - pi / tan(pi x); sin/cos of pi*(x - round(x))
        # keep the argument reduction exact.
        r = x - math.floor(x + 0.5)
        res = -math.pi * math.cos(math.pi * r) / math.sin(math.pi * r)
        x = 1.0 - x
    while x < 10.0:  # recurrence psi(x) = psi(x + 1) - 1/x up to where the series converges
        res -= 1.0 / x
        x += 1.0
    z = 1.0 / (x * x)
    s = 0.0
    p = z
    for k in range(8):
        s += _B2K_OVER_2K[k] * p
        p *= z
    return res + math.log(x) - 0.5 / x - s


@numba.njit(error_model="numpy")
def polygamma_scalar(n, x):
    """psi^(n)(x) for integer-valued n >= 0 (nan for other n), as scipy.special.polygamma."""
    if math.isnan(n) or math.isnan(x) or n < 0.0 or n != math.floor(n):
        return math.nan
    if n == 0.0:
        return digamma_scalar(x)
    if x == math.inf:
        return 0.0
    if x == -math.inf:
        return math.nan
    if x <= 0.0 and x == math.floor(x):
        return math.inf
    nf = math.gamma(n + 1.0)  # n!
    sign = 1.0 if (int(n) % 2 == 1) else -1.0  # (-1)^(n+1)
    res = 0.0
    # psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n+1) n! / x^(n+1), until the series converges.
    lim = 20.0 + n
    while x < lim:
        res += sign * nf / x ** (n + 1.0)
        x += 1.0
    # (-1)^(n+1) (n-1)!/x^n [1 + n/(2x) + sum_k B_2k/(2k)! (n)(n+1)...(n+2k-1) / x^2k]
    z = 1.0 / (x * x)
    s = 1.0 + n / (2.0 * x)
    rising = 1.0
    zk = 1.0
    m = n
    for k in range(10):
        rising *= m * (m + 1.0)
        m += 2.0
        zk *= z
        s += _B2K_OVER_FACT[k] * rising * zk
    lead = math.exp(math.lgamma(n) - n * math.log(x))
    return res + sign * lead * s


@numba.njit(error_model="numpy")
def _ndtri_lower(q):
    # 0 < q <= 0.5: Abramowitz & Stegun 26.2.23 (abs. error < 4.5e-4), then Halley
    # steps on ndtr(x) - q (cubic convergence; erfc keeps relative precision in the tail).
    t = math.sqrt(-2.0 * math.log(q))
    x = -(t - (2.515517 + t * (0.802853 + t * 0.010328))
          / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))))
    for _ in range(4):
        r = 0.5 * math.erfc(-x * 0.7071067811865476) - q
        phi = math.exp(-0.5 * x * x) * 0.3989422804014327
        if phi == 0.0:
            break
        x = x - r / (phi + 0.5 * x * r)
    return x


@numba.njit(error_model="numpy")
def ndtri_scalar(p):
    """The inverse of the standard normal CDF, as scipy.special.ndtri."""
    if math.isnan(p) or p < 0.0 or p > 1.0:
        return math.nan
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if 0.25 <= p <= 0.75:
        # Centre: solve erf(t) = 2p - 1 (exact here) by Halley steps, x = sqrt 2 t; erf
        # keeps relative precision near 0 where ndtr(x) - p would not (ndtr ~ 0.5).
        d = 2.0 * p - 1.0
        t = 0.886226925452758 * d  # erf(t) ~ 2t / sqrt(pi)
        for _ in range(8):
            r = math.erf(t) - d
            if r == 0.0:
                break
            t = t - r / (1.1283791670955126 * math.exp(-t * t) + t * r)
        return 1.4142135623730951 * t
    if p < 0.5:
        return _ndtri_lower(p)
    return -_ndtri_lower(1.0 - p)  # 1 - p is exact for p in [0.5, 1]


# Giles' double-precision erf_inv polynomials ("Approximating the erfinv function", GPU
# Computing Gems, 2011; xform/lax/random_math.py keeps the coefficients, highest degree first)
_ERF_INV_CENTRAL = _rm.ERF_INV64_CENTRAL
_ERF_INV_MID = _rm.ERF_INV64_MID
_ERF_INV_TAIL = _rm.ERF_INV64_TAIL


@numba.njit(error_model="numpy")
def _horner(coefs, t):
    p = 0.0
    for c in coefs:
        p = p * t + c
    return p


@numba.njit(error_model="numpy")
def erf_inv_scalar(y):
    """The inverse error function, as scipy.special.erfinv (within a few ulps).

    Giles' approximation in ``w = -log((1 - a)(1 + a))`` (no cancellation next to
    ``a = |y| = 1``, unlike ``-log1p(-y*y)``), then one Newton step whose residual keeps
    its relative precision: ``erf(x) - a`` in the centre, ``erfc(x) - (1 - a)`` for
    ``a >= 0.5`` (``1 - a`` is exact there, and erfc is accurate in its tail)."""
    x = float(y)
    a = abs(x)
    if not a <= 1.0:  # also NaN
        return math.nan
    if a == 1.0:
        return math.copysign(math.inf, x)
    w = -math.log((1.0 - a) * (1.0 + a))
    if w < 6.25:
        p = _horner(_ERF_INV_CENTRAL, w - 3.125)
    elif w < 16.0:
        p = _horner(_ERF_INV_MID, math.sqrt(w) - 3.25)
    else:
        p = _horner(_ERF_INV_TAIL, math.sqrt(w) - 5.0)
    t = p * a
    slope = 1.1283791670955126 * math.exp(-t * t)  # erf'(t) = 2 / sqrt(pi) exp(-t^2)
    if a < 0.5:
        t -= (math.erf(t) - a) / slope
    else:
        t += (math.erfc(t) - (1.0 - a)) / slope
    return math.copysign(t, x)


@numba.njit(error_model="numpy")
def log_ndtr_scalar(x):
    """log of the standard normal CDF, accurate in both tails (scipy.special.log_ndtr)."""
    if math.isnan(x):
        return math.nan
    if x > 0.0:  # log1p(-Phi(-x)): log(Phi(x)) would round Phi(x) ~ 1 first
        return math.log1p(-0.5 * math.erfc(x * 0.7071067811865476))
    if x > -20.0:
        return math.log(0.5 * math.erfc(-x * 0.7071067811865476))
    if x == -math.inf:
        return -math.inf
    # Asymptotic series: Phi(x) = phi(x)/(-x) * (1 - 1/x^2 + 3/x^4 - 15/x^6 + ...)
    z = 1.0 / (x * x)
    s = 1.0
    term = 1.0
    for k in range(1, 10):
        term *= -(2.0 * k - 1.0) * z
        s += term
    return -0.5 * x * x - math.log(-x) - 0.9189385332046728 + math.log(s)


@numba.njit(error_model="numpy")
def _igamma_pq(a, x):
    # Regularized incomplete gamma (P, Q): the power series of P for x < a + 1, the
    # continued fraction of Q (modified Lentz) otherwise (Numerical Recipes 6.2); each
    # converges fast on its side.
    if math.isnan(a) or math.isnan(x) or a < 0.0 or x < 0.0:
        return math.nan, math.nan
    if a == 0.0:
        if x > 0.0:
            return 1.0, 0.0
        return math.nan, math.nan
    if x == 0.0:
        return 0.0, 1.0
    if x == math.inf:
        return 1.0, 0.0
    if a == math.inf:
        return 0.0, 1.0
    logpre = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        ap = a
        term = 1.0 / a
        s = term
        for _ in range(100000):
            ap += 1.0
            term *= x / ap
            s += term
            if abs(term) < abs(s) * 1e-17:
                break
        p = s * math.exp(logpre)
        return p, 1.0 - p
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    q = math.exp(logpre) * h
    return 1.0 - q, q


@numba.njit(error_model="numpy")
def igamma_scalar(a, x):
    """The regularized lower incomplete gamma P(a, x) (scipy.special.gammainc)."""
    return _igamma_pq(a, x)[0]


@numba.njit(error_model="numpy")
def igammac_scalar(a, x):
    """The regularized upper incomplete gamma Q(a, x) (scipy.special.gammaincc)."""
    return _igamma_pq(a, x)[1]


@numba.njit(error_model="numpy")
def _betacf(a, b, x):
    # continued fraction of the incomplete beta (modified Lentz; Numerical Recipes 6.4)
    tiny = 1e-300
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 100000):
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


@numba.njit(error_model="numpy")
def betainc_scalar(a, b, x):
    """The regularized incomplete beta I_x(a, b) (scipy.special.betainc), a, b > 0."""
    if math.isnan(a) or math.isnan(b) or math.isnan(x) or a <= 0.0 or b <= 0.0 \
            or x < 0.0 or x > 1.0:
        return math.nan
    if x == 0.0:
        return 0.0
    if x == 1.0:
        return 1.0
    lbt = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
           + b * math.log1p(-x))
    # the continued fraction converges for x < (a + 1) / (a + b + 2); else use symmetry
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, 1.0 - x) / b
