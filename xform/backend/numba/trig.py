"""Fast sin/cos for moderate arguments, used by fused loops with a checked fallback.

``vsin``/``vcos`` of ``xform.backend.numba.vector_math`` reduce every argument by
Payne-Hanek (valid over the whole float64 range), which is ~3/4 of their cost. For
``|x| <= FAST_MAX`` (2**20) a Cody-Waite reduction is as accurate and ~4x cheaper:

    n  = rint(|x| * 2/pi)
    a  = fma(-n, C1, |x|)        exact: a is a multiple of 2**-53 and |a| < 1
    th + tl = n * (C2 + C3)      th = fl(n*C2), tl = its exact error (fma) + n*C3
    r  = (a - th) - tl           as a double-double (two-sum), error < 2**-140

where C1 + C2 + C3 = pi/2 to ~160 bits. Since no float64 lies closer than 2**-61 to a
multiple of pi/2, ``r`` keeps full relative accuracy, and the same polynomial kernels as
``vsin``/``vcos`` give the same (<1.5 ulp) accuracy.

The sin/cos routines of ``vector_calls.py`` map a chunk with these functions while
or-ing ``trig_big(arg)`` (``|arg| > FAST_MAX``, inf or nan) into a flag, and, when the
flag is set, map the chunk again with the exact ``vsin``/``vcos``. Everything here is
branch-free and inlined, so those loops vectorize.
"""
from __future__ import annotations

from .vector_math import (_ABS, _SIGN, _from_bits, _bits, _jit, _sincos_reduced, _SHIFT,
                          _SHIFT_BITS, _two_prod_err)

FAST_MAX = 1048576.0  # 2**20
_FAST_MAX_BITS = 0x4130000000000000
_TWO_OVER_PI = float.fromhex("0x1.45f306dc9c883p-1")
# pi/2 = C1 + C2 + C3 (each the rounding of the remainder)
_C1 = float.fromhex("0x1.921fb54442d18p+0")
_C2 = float.fromhex("0x1.1a62633145c07p-54")
_C3 = float.fromhex("-0x1.f1976b7ed8fbcp-110")


@_jit
def trig_big(x):
    """1 if the fast functions do not apply to ``x`` (|x| > 2**20, inf, nan), else 0."""
    return 1 if (_bits(float(x)) & _ABS) > _FAST_MAX_BITS else 0


@_jit
def _reduce_fast(ax):
    t = ax * _TWO_OVER_PI + _SHIFT
    q = _bits(t) - _SHIFT_BITS
    n = t - _SHIFT
    a = _fma_neg(n, _C1, ax)
    th = n * _C2
    tl = _two_prod_err(n, _C2, th) + n * _C3
    s = a - th
    bb = s - a
    e = (a - (s - bb)) - (th + bb)  # two-sum error of a - th
    e = e - tl
    rh = s + e
    rl = e - (rh - s)
    return rh, rl, q


@_jit
def _fma_neg(n, c, x):
    """x - n*c with one rounding (exact here, see the module docstring)."""
    p = n * c
    return (x - p) - _two_prod_err(n, c, p)


@_jit
def _quadrant(ax, shift):
    rh, rl, q = _reduce_fast(ax)
    return _sincos_reduced(rh, rl, q + shift)


@_jit
def vsin_fast(x):
    """sin(x) for |x| <= 2**20 (other arguments: garbage, see ``trig_big``)."""
    x = float(x)
    res = _quadrant(abs(x), 0)
    return _from_bits(_bits(res) ^ (_bits(x) & _SIGN))


@_jit
def vcos_fast(x):
    """cos(x) for |x| <= 2**20 (other arguments: garbage, see ``trig_big``)."""
    return _quadrant(abs(float(x)), 1)

