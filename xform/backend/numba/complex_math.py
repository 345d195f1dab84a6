"""Complex exp, sinh, cosh, tanh, sin, cos and tan for jit kernels, as numpy computes them.

numpy calls the C library's ``cexp``/``csinh``/``ccosh``/``ctanh``, which follow C99
Annex G: exact special values for infinite, nan and zero parts, and no intermediate
overflow where the true value is finite (``exp(709.9+0.5j)`` is about 1.8e308).
Numba's own versions compute ``exp(x) * cos(y)`` and the like directly, which gives
``nan`` for ``tanh(710+0j)`` and ``inf`` for ``exp(709.9+0.5j)``. These follow the
algorithms of the C99 reference implementations (as in FreeBSD's libm): the same
case analysis, and a scaled exponential for large real parts.

They compute in float64 (complex64 operands are widened; the kernel casts the result
back), and are plain njit functions, compiled once per kernel that uses them.
"""
from __future__ import annotations

import math

import numba
import numpy as np

_EXP_OVERFLOW = 709.782712893384  # exp(x) overflows float64 above this
_SCALED_LIMIT = 1455.0  # beyond, even the scaled exponential overflows
_K = 1799
_KLN2 = 1246.97177782734161156  # _K * ln(2): exp(x - _KLN2) is finite for x < 1956

_opts = dict(error_model="numpy", nogil=True)


@numba.njit(**_opts)
def _scaled_cexp(x, y, expt):
    """exp(x) * 2**expt * (cos y + i sin y) for large x, multiplying cos(y) into the
    mantissa before the exponent is applied, so that a finite result stays finite."""
    m, e = math.frexp(math.exp(x - _KLN2))
    mant = math.ldexp(m, 1024)  # in [2**1023, 2**1024)
    total = e - 1024 + _K + expt
    half = total // 2
    s1 = math.ldexp(1.0, half)
    s2 = math.ldexp(1.0, total - half)
    return complex(math.cos(y) * mant * s1 * s2, math.sin(y) * mant * s1 * s2)


@numba.njit(**_opts)
def cexp(z):
    x, y = np.float64(z.real), np.float64(z.imag)
    if y == 0.0:
        return complex(math.exp(x), y)
    if x == 0.0:
        return complex(math.cos(y), math.sin(y))
    if not math.isfinite(y):
        if x == math.inf:
            return complex(x, y - y)
        if x == -math.inf:
            return complex(0.0, math.copysign(0.0, y))
        return complex(y - y, y - y)
    if _EXP_OVERFLOW <= x < _SCALED_LIMIT:
        return _scaled_cexp(x, y, 0)
    ex = math.exp(x)
    return complex(ex * math.cos(y), ex * math.sin(y))


@numba.njit(**_opts)
def csinh(z):
    x, y = np.float64(z.real), np.float64(z.imag)
    if math.isfinite(x) and math.isfinite(y):
        if y == 0.0:
            return complex(math.sinh(x), y)
        ax = abs(x)
        if ax < 22.0:
            return complex(math.sinh(x) * math.cos(y), math.cosh(x) * math.sin(y))
        if ax < _EXP_OVERFLOW:
            h = math.exp(ax) * 0.5
            return complex(math.copysign(h, x) * math.cos(y), h * math.sin(y))
        if ax < _SCALED_LIMIT:
            w = _scaled_cexp(ax, y, -1)
            return complex(w.real * math.copysign(1.0, x), w.imag)
        h = math.copysign(math.inf, x)
        return complex(h * math.cos(y), math.inf * math.sin(y))
    if x == 0.0:
        return complex(x, y - y)
    if y == 0.0:
        return complex(x, y)
    if math.isfinite(x):
        return complex(y - y, y - y)
    if math.isinf(x):
        if not math.isfinite(y):
            return complex(x * x, y - y)
        return complex(x * math.cos(y), math.inf * math.sin(y))
    return complex((x + x) * (y - y), (x * x) * (y - y))


@numba.njit(**_opts)
def ccosh(z):
    x, y = np.float64(z.real), np.float64(z.imag)
    if math.isfinite(x) and math.isfinite(y):
        if y == 0.0:
            return complex(math.cosh(x), x * y)
        ax = abs(x)
        if ax < 22.0:
            return complex(math.cosh(x) * math.cos(y), math.sinh(x) * math.sin(y))
        if ax < _EXP_OVERFLOW:
            h = math.exp(ax) * 0.5
            return complex(h * math.cos(y), math.copysign(h, x) * math.sin(y))
        if ax < _SCALED_LIMIT:
            w = _scaled_cexp(ax, y, -1)
            return complex(w.real, w.imag * math.copysign(1.0, x))
        h = math.copysign(math.inf, x)
        return complex(math.inf * math.cos(y), h * math.sin(y))
    if x == 0.0:
        return complex(y - y, 0.0)
    if y == 0.0:
        return complex(x * x, math.copysign(0.0, x) * y)
    if math.isfinite(x):
        return complex(y - y, x * (y - y))
    if math.isinf(x):
        if not math.isfinite(y):
            return complex(x * x, x * (y - y))
        return complex((x * x) * math.cos(y), x * math.sin(y))
    return complex((x * x) * (y - y), (x + x) * (y - y))


@numba.njit(**_opts)
def ctanh(z):
    x, y = np.float64(z.real), np.float64(z.imag)
    if not math.isfinite(x):
        if x != x:
            return complex(x, y if y == 0.0 else x * y)
        s = y if math.isinf(y) else math.sin(y) * math.cos(y)
        return complex(math.copysign(1.0, x), math.copysign(0.0, s))
    if not math.isfinite(y):
        return complex(x if x == 0.0 else y - y, y - y)
    if abs(x) >= 22.0:  # tanh(x) is +-1 in float64; the imaginary part decays as exp(-2|x|)
        e = math.exp(-abs(x))
        return complex(math.copysign(1.0, x), 4.0 * math.sin(y) * math.cos(y) * e * e)
    t = math.tan(y)
    beta = 1.0 + t * t
    s = math.sinh(x)
    rho = math.sqrt(1.0 + s * s)
    denom = 1.0 + beta * s * s
    return complex((beta * rho * s) / denom, t / denom)


# C99 leaves some signs unspecified (of an infinity or zero next to a nan); csin and
# ccos pick glibc's, which is what numpy gives on Linux.


@numba.njit(**_opts)
def csin(z):  # sin z = -i sinh(i z)
    x, y = np.float64(z.real), np.float64(z.imag)
    if math.isinf(y) and not math.isfinite(x):
        return complex(x - x, math.inf)
    w = csinh(complex(-y, x))
    return complex(w.imag, -w.real)


@numba.njit(**_opts)
def ccos(z):  # cos z = cosh(i z)
    x, y = np.float64(z.real), np.float64(z.imag)
    if x == 0.0 and y != y:
        return complex(y, x)
    return ccosh(complex(-y, x))


@numba.njit(**_opts)
def ctan(z):  # tan z = -i tanh(i z)
    w = ctanh(complex(-np.float64(z.imag), np.float64(z.real)))
    return complex(w.imag, -w.real)
