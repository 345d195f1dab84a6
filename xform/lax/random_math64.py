"""float64 ``fma``, ``log1p``, ``exp`` and ``erf_inv`` rounded exactly as JAX computes them
on CPU (with ``jax_enable_x64``).

``xform.random`` turns uniform bits into float64 normal, exponential, Laplace, Gumbel,
log-normal, ... values with these functions so that a JAX user's seeds give the same
bits. The general-purpose ``lax.log1p``/``exp``/``erf_inv`` are more accurate and are used
everywhere else. (The functions XLA takes from the C math library, ``log``, ``erf``,
``tan`` and ``pow``, are in ``random_libm.py``; the float32 ones in ``random_math.py``.)

The algorithms (XLA's CPU code generation as of jaxlib 0.10, measured bit for bit):

- XLA contracts every multiply feeding an add into a fused multiply-add, in float64 as
  in float32; ``fma_f64_xla`` is that operation, correctly rounded.
- ``log1p``: the float32 algorithm in float64 (Cephes' rational approximation
  ``x - x**2/2 + x**3 P(x)/Q(x)`` for ``|x| < sqrt(2) - 1``, otherwise ``log(1 + x)``
  with the C library's ``log``), the polynomials by fused multiply-adds from a zero start.
- ``exp``: a Padé form from Cephes (as Eigen's): ``n = floor(x log2(e) + 1/2)``,
  ``g = x - n C1 - n C2``, ``exp(g) = 1 + 2 g P(g**2) / (Q(g**2) - g P(g**2))``, times
  ``2**n``; 0 below ``-708.396...`` (no subnormal results), inf above ``709.78...``.
- ``erf_inv``: Giles' double-precision approximation in ``w = -log1p(-x**2)`` (with the
  ``log1p`` above): polynomials of degree 22, 18 and 16 in ``w - 3.125`` (``w < 6.25``),
  ``sqrt(w) - 3.25`` (``w < 16``) and ``sqrt(w) - 5``, times ``x``; ``+-1`` give
  ``+-inf``. Near ``|x| = 1`` the ``log1p`` of ``-x**2`` loses digits (up to ~5000 ulps
  against the true inverse): JAX's values, not the most accurate ones.

The numpy ``impl``s compute each fused multiply-add exactly (``fma64``: Dekker's exact
product and Knuth's exact sum, then the sum rounded once through round-to-odd, Boldo and
Melquiond's method), the Numba lowering (``xform/backend/numba/random.py``) with the
processor's fma, so eager, jitted and JAX's values agree bit for bit. Derivatives are
those of the exact functions.
"""
from __future__ import annotations

from typing import Any

import math
from fractions import Fraction

import numpy as np

from .random_libm import log_c
from .random_math import (ERF_INV64_CENTRAL, ERF_INV64_MID, ERF_INV64_TAIL, float_primitive, fma_jvp,
                          unary_jvp)

__all__ = ["fma_f64_xla", "log1p_f64_xla", "exp_f64_xla", "erf_inv_f64_xla"]

F64 = np.dtype(np.float64)
TINY = float(np.finfo(np.float64).tiny)

LOG1P_SMALL = 0.41421356237309504880  # sqrt(2) - 1
LOG1P_NUM = (4.5270000862445199635215e-5, 4.9854102823193375972212e-1, 6.5787325942061044846969e0,
             2.9911919328553073277375e1, 6.0949667980987787057556e1, 5.7112963590585538103336e1,
             2.0039553499201281259648e1)
LOG1P_DEN = (1.0, 1.5062909083469192043167e1, 8.3047565967967209469434e1,
             2.2176239823732856465394e2, 3.0909872225312059774938e2,
             2.1642788614495947685003e2, 6.0118660497603843919306e1)

EXP_HI = 709.782712893384  # exp overflows above
EXP_LO = -708.3964185322641  # exp(EXP_LO) ~ the smallest normal float64: 0 below
LOG2E = 1.4426950408889634073599
LN2_C1 = 0.693145751953125
LN2_C2 = 1.42860682030941723212e-6
EXP_P = (1.26177193074810590878e-4, 3.02994407707441961300e-2, 9.99999999999999999910e-1)
EXP_Q = (3.00198505138664455042e-6, 2.52448340349684104192e-3, 2.27265548208155028766e-1,
         2.00000000000000000009e0)


# -- the correctly rounded float64 fused multiply-add, in numpy -----------------------------

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitting constant for 53-bit mantissas
_SAFE_HI, _SAFE_LO = 2.0 ** 900, 2.0 ** -900  # no overflow/underflow in the exact steps


def _two_sum(a, b):
    """``s + e == a + b`` exactly, ``s`` the rounded sum (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    """``p + e == a * b`` exactly, ``p`` the rounded product (Dekker, Veltkamp's split)."""
    p = a * b
    ca, cb = _SPLIT * a, _SPLIT * b
    ah, bh = ca - (ca - a), cb - (cb - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def fma64(a, b, c):
    """The correctly rounded float64 ``a * b + c`` of float64 arrays (broadcasting).

    With ``a * b = uh + ul`` and ``c + uh = th + tl`` exactly, ``RN(th + RO(tl + ul))`` is
    the correctly rounded result, ``RO`` rounding to odd (Boldo and Melquiond, "Emulation
    of FMA and correctly rounded sums: proved algorithms using rounding to odd", IEEE TC
    2008). The exact product needs no overflow in the splitting and no underflow of its
    error: elements outside that range (rare) are computed with exact rationals, zero and
    non-finite products as ``a * b + c`` (exact, or the same special values).
    """
    a, b, c = np.broadcast_arrays(*(np.asarray(v, F64) for v in (a, b, c)))
    with np.errstate(all="ignore"):
        uh, ul = _two_prod(a, b)
        th, tl = _two_sum(c, uh)
        # tl + ul rounded to odd: the rounded sum, moved one ulp towards the exact sum
        # when that is not exact and the rounded sum's last bit is 0
        s, e = _two_sum(tl, ul)
        bump = (e != 0) & ((s.view(np.uint64) & np.uint64(1)) == 0)
        if bump.any():
            s = np.where(bump, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)
        z = th + s
        big = np.maximum(np.maximum(np.abs(a), np.abs(b)), np.abs(c))
        safe = (big < _SAFE_HI) & (np.abs(uh) > _SAFE_LO)  # (False for NaN, inf, 0 products)
        if safe.all():
            return z[()]
        out = np.where(safe, z, a * b + c)
        slow = ~safe & np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & (a != 0) & (b != 0)
    if np.any(slow):
        out = np.array(out)
        for i in zip(*np.nonzero(slow)):
            out[i] = float(Fraction(float(a[i])) * Fraction(float(b[i])) + Fraction(float(c[i])))
    return out[()]


# -- numpy implementations ------------------------------------------------------------------


def _flush(x):
    """Subnormal values as (signed) zero: XLA on CPU runs with denormals-are-zero and
    flush-to-zero, in float64 as in float32."""
    return np.where(np.abs(x) < TINY, np.copysign(0.0, x), x)


def _poly(coefs, x):
    p = np.zeros_like(x)
    for c in coefs:
        p = fma64(p, x, c)
    return p


def _log1p_impl(x):
    x = _flush(np.asarray(x, F64))
    with np.errstate(all="ignore"):
        x2 = x * x
        r = _poly(LOG1P_NUM, x) / _poly(LOG1P_DEN, x)
        small = x + fma64(-0.5, x2, (x * x2) * r)
        out = np.where(np.abs(x) < LOG1P_SMALL, small, log_c(x + 1.0))
    return _flush(out)[()]


def _exp_impl(x):
    x = _flush(np.asarray(x, F64))
    with np.errstate(all="ignore"):
        xc = np.maximum(np.minimum(x, EXP_HI), EXP_LO)
        n = np.floor(fma64(xc, LOG2E, 0.5))
        g = fma64(-n, LN2_C2, fma64(-n, LN2_C1, xc))
        g2 = g * g
        p = fma64(fma64(EXP_P[0], g2, EXP_P[1]), g2, EXP_P[2]) * g
        q = fma64(fma64(fma64(EXP_Q[0], g2, EXP_Q[1]), g2, EXP_Q[2]), g2, EXP_Q[3])
        e = fma64(p / (q - p), 2.0, 1.0)
        r = np.ldexp(e, n.astype(np.int64))
        r = np.where(x < EXP_LO, 0.0, np.where(x > EXP_HI, np.inf, r))
        r = np.where(np.isnan(x), x, r)
    return _flush(r)[()]


def _horner(coefs, t):
    p = np.full_like(t, coefs[0])
    for c in coefs[1:]:
        p = fma64(p, t, c)
    return p


def _erf_inv_impl(x):
    x = _flush(np.asarray(x, F64))
    with np.errstate(all="ignore"):
        w = -_log1p_impl(x * -x)
        central, mid = w < 6.25, w < 16.0
        t = np.atleast_1d(np.where(central, w - 3.125, np.sqrt(w) - np.where(mid, 3.25, 5.0)))
        p = np.empty_like(t)
        for part, coefs in ((central, ERF_INV64_CENTRAL), (mid & ~central, ERF_INV64_MID),
                            (~mid, ERF_INV64_TAIL)):  # (each polynomial on its own range)
            part = np.atleast_1d(part)
            if part.any():
                p[part] = _horner(coefs, t[part])
        out = np.where(np.abs(x) == 1.0, x * np.inf, p.reshape(x.shape) * x)
    return _flush(out)[()]


# -- primitives -------------------------------------------------------------------------------


fma_f64_xla_p = float_primitive("fma_f64_xla", fma64, 3, (F64,))
log1p_f64_xla_p = float_primitive("log1p_f64_xla", _log1p_impl, 1, (F64,))
exp_f64_xla_p = float_primitive("exp_f64_xla", _exp_impl, 1, (F64,))
erf_inv_f64_xla_p = float_primitive("erf_inv_f64_xla", _erf_inv_impl, 1, (F64,))


def _log1p_deriv(g, ans, x):
    from .elementwise import add, div

    return div(g, add(x, 1.0))


def _exp_deriv(g, ans, x):
    from .elementwise import mul

    return mul(g, ans)


def _erf_inv_deriv(g, ans, x):
    from .elementwise import exp, mul, square

    return mul(g, mul(math.sqrt(math.pi) / 2, exp(square(ans))))


fma_f64_xla_p.jvp = fma_jvp(fma_f64_xla_p)
unary_jvp(log1p_f64_xla_p, _log1p_deriv)
unary_jvp(exp_f64_xla_p, _exp_deriv)
unary_jvp(erf_inv_f64_xla_p, _erf_inv_deriv)


def _bind(prim, *args):
    from ..core.trace import get_aval

    prim.abstract_eval(*(get_aval(x, prim.name) for x in args))  # the dtype check, eagerly too
    return prim.bind(*args)


def fma_f64_xla(a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` of float64 values (broadcasting) rounded once, as JAX computes the
    multiply-adds of its samplers on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math64 import fma_f64_xla
    >>> a = 1 + 2.0 ** -30
    >>> float(fma_f64_xla(np.float64(a), np.float64(a), np.float64(-1))) == 2 ** -29 + 2 ** -60
    True
    """
    return _bind(fma_f64_xla_p, a, b, c)


def log1p_f64_xla(x: Any) -> Any:
    """``log(1 + x)`` of float64 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math64 import log1p_f64_xla
    >>> log1p_f64_xla(np.array([0.0, -0.5, -1.0])).tolist()
    [0.0, -0.6931471805599453, -inf]
    """
    return _bind(log1p_f64_xla_p, x)


def exp_f64_xla(x: Any) -> Any:
    """``exp`` of float64 values, rounded as JAX computes it on CPU (0 below -708.39...;
    within an ulp: e itself comes out one ulp above ``math.e``, as in JAX).

    >>> import numpy as np
    >>> from xform.lax.random_math64 import exp_f64_xla
    >>> exp_f64_xla(np.array([0.0, 1.0, -1000.0])).tolist()
    [1.0, 2.7182818284590455, 0.0]
    """
    return _bind(exp_f64_xla_p, x)


def erf_inv_f64_xla(x: Any) -> Any:
    """Inverse error function of float64 values, rounded as JAX computes it on CPU.

    >>> import numpy as np
    >>> from xform.lax.random_math64 import erf_inv_f64_xla
    >>> erf_inv_f64_xla(np.array([0.0, 0.5, -1.0])).round(12).tolist()
    [0.0, 0.476936276204, -inf]
    """
    return _bind(erf_inv_f64_xla_p, x)
