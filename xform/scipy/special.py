"""xform.scipy.special: JAX's ``jax.scipy.special`` (scipy.special's names and values).

Built on the special-function primitives of ``xform.lax`` (lgamma, digamma, polygamma,
erfc, gamma, ndtri, log_ndtr) and on ``xform.numpy``. Functions with removable
singularities in their derivatives (xlogy, xlog1py at x = 0; expit in the tails) carry
custom JVPs so that gradients are finite where the mathematical limit is.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..lax.custom_derivatives import custom_jvp

__all__ = [
    "logsumexp", "xlogy", "xlog1py", "expit", "logit", "log_ndtr", "ndtr", "ndtri", "erf",
    "erfc", "erfinv", "gammaln", "digamma", "betaln", "entr", "gamma", "polygamma", "gammainc",
    "gammaincc", "betainc",
]

Array = Any


def _promote_inexact(name: str, *args):
    """The operands as xform arrays of one inexact dtype (numpy promotion; integers and
    booleans become float64)."""
    for a in args:
        dt = np.dtype(complex) if isinstance(a, complex) else getattr(a, "dtype", None)
        if dt is not None and np.dtype(dt).kind == "c":
            raise TypeError(f"xform.scipy.special.{name}: complex input (dtype {dt}) is not "
                            "supported; pass real floating-point values.")
    dt = xnp.result_type(*args)
    if dt.kind not in "f":
        dt = np.dtype(np.float64)
    out = tuple(xnp.asarray(a, dtype=dt) for a in args)
    return out if len(out) > 1 else out[0]


def logsumexp(a: Array, axis: int | tuple[int, ...] | None = None, b: Array | None = None,
              keepdims: bool = False, return_sign: bool = False, where: Array | None = None):
    """log(sum(b * exp(a))) over ``axis``, without overflow (as scipy.special.logsumexp).

    With ``return_sign`` returns ``(log|s|, sign(s))`` for a signed sum ``s``; otherwise a
    negative sum gives nan. Entries of ``a`` at -inf contribute nothing (and get zero
    gradient); the result is -inf when all are.

    >>> import numpy as np
    >>> from xform.scipy.special import logsumexp
    >>> float(logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    >>> out, sign = logsumexp(np.array([0.0, 0.0]), b=np.array([1.0, -2.0]), return_sign=True)
    >>> float(out), float(sign)
    (0.0, -1.0)
    """
    if b is None:
        a = _promote_inexact("logsumexp", a)
    else:
        a, b = _promote_inexact("logsumexp", a, b)
        try:
            shape = np.broadcast_shapes(xnp.shape(a), xnp.shape(b))
        except ValueError:
            raise ValueError(f"xform.scipy.special.logsumexp: a of shape {xnp.shape(a)} and b "
                             f"of shape {xnp.shape(b)} do not broadcast") from None
        a, b = xnp.broadcast_to(a, shape), xnp.broadcast_to(b, shape)
        # b == 0 entries drop out, even where a is inf (0 * inf would be nan).
        a = xnp.where(b != 0, a, -np.inf)
    if where is not None:
        a = xnp.where(where, a, -np.inf)
    if isinstance(axis, list):
        axis = tuple(axis)
    nd = xnp.ndim(a)
    for ax in (() if axis is None else axis if isinstance(axis, tuple) else (axis,)):
        if not isinstance(ax, (int, np.integer)) or not -nd <= ax < nd:
            raise np.exceptions.AxisError(f"xform.scipy.special.logsumexp: axis {ax!r} is out of "
                                          f"bounds for an array of rank {nd}")
    amax = xnp.max(a, axis=axis, keepdims=True)
    # The shift changes nothing mathematically: no gradient through it; a non-finite
    # maximum (all -inf, or inf) is not subtracted (inf - inf would be nan).
    amax = lax.stop_gradient(xnp.where(xnp.isfinite(amax), amax, xnp.zeros_like(amax)))
    e = xnp.exp(a - amax)
    if b is not None:
        e = e * b
    s = xnp.sum(e, axis=axis, keepdims=keepdims)
    shift = amax if keepdims else xnp.squeeze(amax, axis=axis)
    sign = xnp.sign(s)
    out = xnp.log(xnp.abs(s)) + shift
    if return_sign:
        return out, sign
    if b is not None:
        out = xnp.where(sign < 0, np.nan, out)
    return out


def xlogy(x: Array, y: Array):
    """x * log(y), 0 where x == 0 (unless y is nan), as scipy.special.xlogy. Its
    derivative with respect to y is x / y, 0 where x == 0 (so xlogy(0, 0) has a finite
    y-gradient).

    >>> import numpy as np
    >>> from xform.scipy.special import xlogy
    >>> xlogy(np.array([0.0, 2.0]), np.array([0.0, np.e]))
    array([0., 2.])
    """
    x, y = _promote_inexact("xlogy", x, y)
    return _xlogy(x, y)


def _safe_ratio(x, y):
    # x / y with 0 where x == 0 (y is replaced there, so no 0/0 in any derivative)
    zero = x == 0
    return xnp.where(zero, xnp.zeros_like(x), x / xnp.where(zero, xnp.ones_like(y), y))


@custom_jvp
def _xlogy(x, y):
    zero = (x == 0) & ~xnp.isnan(y)
    safe_y = xnp.where(zero, xnp.ones_like(y), y)
    return xnp.where(zero, xnp.zeros_like(x), x * xnp.log(safe_y))


@_xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    return _xlogy(x, y), dx * xnp.log(y) + dy * _safe_ratio(x, y)


def xlog1py(x: Array, y: Array):
    """x * log1p(y), 0 where x == 0 (unless y is nan), as scipy.special.xlog1py.

    >>> import numpy as np
    >>> from xform.scipy.special import xlog1py
    >>> xlog1py(np.array([0.0, 2.0]), np.array([-1.0, 1e-20]))
    array([0.e+00, 2.e-20])
    """
    x, y = _promote_inexact("xlog1py", x, y)
    return _xlog1py(x, y)


@custom_jvp
def _xlog1py(x, y):
    zero = (x == 0) & ~xnp.isnan(y)
    safe_y = xnp.where(zero, xnp.zeros_like(y), y)
    return xnp.where(zero, xnp.zeros_like(x), x * xnp.log1p(safe_y))


@_xlog1py.defjvp
def _xlog1py_jvp(primals, tangents):
    x, y = primals
    dx, dy = tangents
    return _xlog1py(x, y), dx * xnp.log1p(y) + dy * _safe_ratio(x, 1 + y)


@custom_jvp
def _expit(x):
    return lax.logistic(x)


# expit(x) expit(-x), not s (1 - s), which cancels to 0 for large x
_expit.defjvps(lambda g, ans, x: g * (ans * lax.logistic(-x)))


def expit(x: Array):
    """The logistic sigmoid 1 / (1 + exp(-x)), stable for large |x| (scipy.special.expit).

    >>> import numpy as np
    >>> from xform.scipy.special import expit
    >>> expit(np.array([0.0, 800.0, -800.0]))
    array([0.5, 1. , 0. ])
    """
    return _expit(_promote_inexact("expit", x))


def logit(x: Array):
    """log(p / (1 - p)), the inverse of expit (scipy.special.logit).

    >>> import numpy as np
    >>> from xform.scipy.special import logit
    >>> logit(np.array([0.5, 0.75]))
    array([0.        , 1.09861229])
    """
    x = _promote_inexact("logit", x)
    # log(p) - log1p(-p) keeps relative precision for small p (p / (1 - p) would too,
    # but its derivative rounds 1 - p twice).
    return xnp.log(x) - xnp.log1p(-x)


def erf(x: Array):
    """The error function (scipy.special.erf).

    >>> import numpy as np
    >>> from xform.scipy.special import erf
    >>> erf(np.array([0.0, 1.0]))
    array([0.        , 0.84270079])
    """
    return lax.erf(_promote_inexact("erf", x))


def erfc(x: Array):
    """The complementary error function 1 - erf(x), accurate in the tail
    (scipy.special.erfc).

    >>> import numpy as np
    >>> from xform.scipy.special import erfc
    >>> erfc(np.array([0.0, 10.0]))
    array([1.00000000e+00, 2.08848758e-45])
    """
    return lax.erfc(_promote_inexact("erfc", x))


def erfinv(x: Array):
    """The inverse error function on [-1, 1] (scipy.special.erfinv).

    >>> import numpy as np
    >>> from xform.scipy.special import erfinv
    >>> erfinv(np.array([0.0, 0.5]))
    array([0.        , 0.47693628])
    """
    return lax.erf_inv(_promote_inexact("erfinv", x))


def gammaln(x: Array):
    """log |Gamma(x)| (scipy.special.gammaln).

    >>> import numpy as np
    >>> from xform.scipy.special import gammaln
    >>> gammaln(np.array([1.0, 10.0]))
    array([ 0.        , 12.80182748])
    """
    return lax.lgamma(_promote_inexact("gammaln", x))


def gamma(x: Array):
    """The Gamma function (scipy.special.gamma).

    >>> import numpy as np
    >>> from xform.scipy.special import gamma
    >>> gamma(np.array([5.0, 0.5]))
    array([24.        ,  1.77245385])
    """
    return lax.gamma(_promote_inexact("gamma", x))


def digamma(x: Array):
    """The digamma function psi = d gammaln / dx (scipy.special.digamma).

    >>> import numpy as np
    >>> from xform.scipy.special import digamma
    >>> digamma(np.array([1.0, 2.0]))
    array([-0.57721566,  0.42278434])
    """
    return lax.digamma(_promote_inexact("digamma", x))


def polygamma(n: Array, x: Array):
    """The polygamma function psi^(n)(x) for integer n >= 0 (scipy.special.polygamma; nan
    for other n). Differentiable in x.

    >>> import numpy as np
    >>> from xform.scipy.special import polygamma
    >>> polygamma(1, np.array([1.0, 2.0]))
    array([1.64493407, 0.64493407])
    """
    n_dt = xnp.result_type(n)
    if n_dt.kind not in "iub":  # JAX raises ValueError for non-integer n too
        raise ValueError(f"xform.scipy.special.polygamma: n must be an integer array (got dtype "
                        f"{n_dt}), as in jax.scipy.special.polygamma; cast it with .astype(int).")
    x = _promote_inexact("polygamma", x)
    n = xnp.asarray(n).astype(x.dtype)
    return lax.polygamma(n, x)


def betaln(a: Array, b: Array):
    """log |B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b) (scipy.special.betaln).

    >>> import numpy as np
    >>> from xform.scipy.special import betaln
    >>> betaln(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    array([ 0.        , -2.48490665])
    """
    a, b = _promote_inexact("betaln", a, b)
    return lax.lgamma(a) + lax.lgamma(b) - lax.lgamma(a + b)


def entr(x: Array):
    """Elementwise entropy -x log x, 0 at 0 and -inf for x < 0 (scipy.special.entr).

    >>> import numpy as np
    >>> from xform.scipy.special import entr
    >>> entr(np.array([0.0, 0.5, -1.0]))
    array([0.        , 0.34657359,       -inf])
    """
    x = _promote_inexact("entr", x)
    xs = xnp.where(x < 0, xnp.ones_like(x), x)  # no log of negatives (nor their warnings)
    return xnp.where(x < 0, -np.inf, 0.0 - _xlogy(xs, xs))  # 0 - 0 = +0, as scipy


_SQRT1_2 = 1.0 / math.sqrt(2.0)


def ndtr(x: Array):
    """The standard normal CDF, 0.5 erfc(-x / sqrt 2), accurate in the lower tail
    (scipy.special.ndtr).

    >>> import numpy as np
    >>> from xform.scipy.special import ndtr
    >>> ndtr(np.array([0.0, -10.0]))
    array([5.00000000e-01, 7.61985302e-24])
    """
    x = _promote_inexact("ndtr", x)
    return 0.5 * lax.erfc(x * (-_SQRT1_2))


def ndtri(p: Array):
    """The inverse of the standard normal CDF on [0, 1] (scipy.special.ndtri).

    >>> import numpy as np
    >>> from xform.scipy.special import ndtri
    >>> ndtri(np.array([0.5, 0.975]))
    array([0.        , 1.95996398])
    """
    return lax.ndtri(_promote_inexact("ndtri", p))


def log_ndtr(x: Array, series_order: int = 3):
    """log of the standard normal CDF, accurate in both tails (scipy.special.log_ndtr).

    ``series_order`` is accepted for JAX compatibility and checked (an int in [0, 30]);
    the asymptotic series used below x = -20 always has 9 terms (more than full double
    precision needs there).

    >>> import numpy as np
    >>> from xform.scipy.special import log_ndtr
    >>> log_ndtr(np.array([0.0, -40.0]))
    array([-6.93147181e-01, -8.04608442e+02])
    """
    if not isinstance(series_order, (int, np.integer)) or isinstance(series_order, bool):
        raise TypeError(f"xform.scipy.special.log_ndtr: series_order must be a Python int, got "
                        f"{type(series_order).__name__}.")
    if not 0 <= series_order <= 30:
        raise ValueError(f"xform.scipy.special.log_ndtr: series_order must be in [0, 30], got "
                         f"{series_order}.")
    return lax.log_ndtr(_promote_inexact("log_ndtr", x))


def gammainc(a: Array, x: Array):
    """The regularized lower incomplete gamma function P(a, x) (scipy.special.gammainc).
    Differentiable in ``x`` (the derivative in ``a`` raises NotImplementedError).

    >>> import numpy as np
    >>> from xform.scipy.special import gammainc
    >>> gammainc(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([0.63212056, 0.26424112])
    """
    a, x = _promote_inexact("gammainc", a, x)
    return lax.igamma(a, x)


def gammaincc(a: Array, x: Array):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x), accurate
    where P ~ 1 (scipy.special.gammaincc). Differentiable in ``x``.

    >>> import numpy as np
    >>> from xform.scipy.special import gammaincc
    >>> gammaincc(np.array([1.0]), np.array([50.0]))
    array([1.92874985e-22])
    """
    a, x = _promote_inexact("gammaincc", a, x)
    return lax.igammac(a, x)


def betainc(a: Array, b: Array, x: Array):
    """The regularized incomplete beta function I_x(a, b) for a, b > 0
    (scipy.special.betainc). Differentiable in ``x`` (the derivative in ``a`` and ``b``
    raises NotImplementedError).

    >>> import numpy as np
    >>> from xform.scipy.special import betainc
    >>> betainc(2.0, 3.0, np.array([0.0, 0.4, 1.0]))
    array([0.    , 0.5248, 1.    ])
    """
    a, b, x = _promote_inexact("betainc", a, b, x)
    return lax.betainc(a, b, x)


# More of jax.scipy.special (Bessel, exponential integrals, hypergeometric, combinatorics,
# entropies ...): xform/scipy/_special_more.py
from ._special_more import *  # noqa: E402,F401,F403
from ._special_more import __all__ as _more_all  # noqa: E402

__all__ += _more_all
