"""Special-function primitives (as ``jax.lax``'s lgamma, digamma, polygamma, erfc, ...).

Each is an elementwise float primitive declared with ``elementwise.py``'s ``_prim``.
Eagerly they run scipy.special (a dependency; its ufuncs are well tested and keep
float32); under jit they run ``math`` functions or the scalar helpers of
``backend/numba/special_runtime.py`` (Numba cannot call scipy's ufuncs). Derivatives:
lgamma' = digamma, digamma' = polygamma(1, .), d polygamma(n, x)/dx = polygamma(n + 1, x),
gamma' = gamma digamma, ndtri' = sqrt(2 pi) exp(ndtri^2 / 2), log_ndtr' = phi / Phi
(through the asymptotic series of the Mills ratio below -20, where phi and Phi
underflow).
"""
from __future__ import annotations

from typing import Any, Callable

import math

import numpy as np
import scipy.special as sps

from ..core.primitive import Primitive
from ._rules import scalar_rule_traits
from .elementwise import (
    _FLOAT, _binary_args, _c, _defjvp, _prim, add, div, eq, exp, log, log1p, lt, mul, neg, select,
    square, sub,
)

__all__ = ["lgamma", "digamma", "polygamma", "erfc", "gamma", "ndtri", "log_ndtr", "igamma", "igammac",
           "betainc"]


def _ufunc(fn):
    """A scipy.special ufunc as an impl that keeps the operand dtype and 0-d results
    as numpy scalars."""

    def impl(*args):
        args = [np.asarray(a) for a in args]
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*args)).astype(args[-1].dtype, copy=False)
        return out[()] if out.ndim == 0 else out

    impl.__name__ = getattr(fn, "__name__", "special")
    return impl


def _helper_rule(helper):
    rule = scalar_rule_traits(lambda *xs: f"{helper}({', '.join(xs)})", runtime_helpers=(helper,))
    return rule


def _unary(name, fn, numba, example, summary) -> tuple[Primitive, Callable[..., Any]]:
    prim = _prim(name, _ufunc(fn), 1, _FLOAT, numba=numba)

    def f(x):
        return prim.bind(x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{summary}\n\n    >>> import numpy as np; from xform import lax\n{example}"
    return prim, f


lgamma_p, lgamma = _unary(
    # scipy's gammaln(-inf) is -inf (|Gamma| -> 0 between the poles); C's lgamma gives inf
    "lgamma", sps.gammaln,
    lambda x: f"(lambda _x: -math.inf if _x == -math.inf else math.lgamma(_x))({x})",
    "    >>> lax.lgamma(np.array([1.0, 0.5, 10.0]))\n"
    "    array([ 0.        ,  0.57236494, 12.80182748])\n",
    "Elementwise log |Gamma(x)| (inf at the poles 0, -1, -2, ...).")

digamma_p, digamma = _unary(
    "digamma", sps.psi, _helper_rule("digamma_scalar"),
    "    >>> lax.digamma(np.array([1.0, 2.0]))\n    array([-0.57721566,  0.42278434])\n",
    "Elementwise digamma psi(x) = d lgamma(x)/dx (nan at the negative integers).")

polygamma_p = _prim("polygamma", _ufunc(sps.polygamma), 2, _FLOAT,
                    numba=_helper_rule("polygamma_scalar"))


def polygamma(m, x):
    """Elementwise polygamma psi^(m)(x), the (m+1)-th derivative of lgamma (``m`` a
    non-negative integer-valued float; nan otherwise).

    >>> import numpy as np; from xform import lax
    >>> lax.polygamma(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 1.64493407, -2.40411381])
    """
    m, x = _binary_args(m, x, "polygamma")
    return polygamma_p.bind(m, x)


erfc_p, erfc = _unary(
    "erfc", sps.erfc, lambda x: f"math.erfc({x})",
    "    >>> lax.erfc(np.array([0.0, 10.0]))\n    array([1.00000000e+00, 2.08848758e-45])\n",
    "Elementwise complementary error function 1 - erf(x), accurate where erf(x) ~ 1.")

gamma_p, gamma = _unary(
    # math.gamma (C tgamma) under Numba drops the sign of zero: Gamma(-0) is -inf
    "gamma", sps.gamma,
    lambda x: f"(lambda _x: math.copysign(math.inf, _x) if _x == 0.0 else math.gamma(_x))({x})",
    "    >>> lax.gamma(np.array([5.0, 0.5]))\n    array([24.        ,  1.77245385])\n",
    "Elementwise Gamma function.")

ndtri_p, ndtri = _unary(
    "ndtri", sps.ndtri, _helper_rule("ndtri_scalar"),
    "    >>> lax.ndtri(np.array([0.5, 0.975]))\n    array([0.        , 1.95996398])\n",
    "Elementwise inverse of the standard normal CDF (on [0, 1]).")

log_ndtr_p, log_ndtr = _unary(
    "log_ndtr", sps.log_ndtr, _helper_rule("log_ndtr_scalar"),
    "    >>> lax.log_ndtr(np.array([0.0, -40.0]))\n    array([-6.93147181e-01, -8.04608442e+02])\n",
    "Elementwise log of the standard normal CDF, accurate in both tails.")

_defjvp(lgamma_p, lambda g, ans, x: mul(g, digamma(x)))
_defjvp(digamma_p, lambda g, ans, x: mul(g, polygamma(_c(x, 1.0), x)))
# m is integer-valued: no derivative with respect to it (as in JAX).
_defjvp(polygamma_p, None, lambda g, ans, m, x: mul(g, polygamma(add(m, _c(m, 1.0)), x)))
_defjvp(erfc_p, lambda g, ans, x: mul(g, mul(_c(x, -2.0 / math.sqrt(math.pi)), exp(neg(square(x))))))
_defjvp(gamma_p, lambda g, ans, x: mul(g, mul(ans, digamma(x))))
_defjvp(ndtri_p, lambda g, ans, p: mul(g, mul(_c(p, math.sqrt(2 * math.pi)),
                                              exp(mul(_c(p, 0.5), square(ans))))))

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_ndtr_slope(x, ans):
    """phi(x) / Phi(x). Below -20 exp(logpdf - log_ndtr) cancels catastrophically
    (both ~ -x^2/2), so there it is -x / S(x), S the asymptotic series of
    Phi(x) (-x) / phi(x) = 1 - 1/x^2 + 3/x^4 - ...; each branch sees safe inputs so the
    unused one has no nan derivative."""
    tail = lt(x, _c(x, -20.0))
    xt = select(tail, x, _c(x, -20.0))
    xb = select(tail, _c(x, 0.0), x)
    ab = select(tail, _c(ans, 0.0), ans)
    z = div(_c(xt, 1.0), square(xt))
    s, term = _c(xt, 1.0), _c(xt, 1.0)
    for k in range(1, 10):
        term = mul(term, mul(_c(xt, -(2.0 * k - 1.0)), z))
        s = add(s, term)
    body = exp(sub(sub(mul(_c(xb, -0.5), square(xb)), _c(xb, _LOG_SQRT_2PI)), ab))
    return select(tail, div(neg(xt), s), body)


_defjvp(log_ndtr_p, lambda g, ans, x: mul(g, _log_ndtr_slope(x, ans)))


igamma_p = _prim("igamma", _ufunc(sps.gammainc), 2, _FLOAT, numba=_helper_rule("igamma_scalar"))
igammac_p = _prim("igammac", _ufunc(sps.gammaincc), 2, _FLOAT, numba=_helper_rule("igammac_scalar"))


def igamma(a, x):
    """Elementwise regularized lower incomplete gamma P(a, x) (scipy.special.gammainc).
    Differentiable in ``x`` only.

    >>> import numpy as np; from xform import lax
    >>> lax.igamma(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([0.63212056, 0.26424112])
    """
    a, x = _binary_args(a, x, "igamma")
    return igamma_p.bind(a, x)


def igammac(a, x):
    """Elementwise regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), accurate
    where P ~ 1 (scipy.special.gammaincc). Differentiable in ``x`` only.

    >>> import numpy as np; from xform import lax
    >>> lax.igammac(np.array([1.0]), np.array([50.0]))
    array([1.92874985e-22])
    """
    a, x = _binary_args(a, x, "igammac")
    return igammac_p.bind(a, x)


def _igamma_dx(a, x):
    # d P(a, x)/dx = x^(a-1) e^(-x) / Gamma(a); (a - 1) log x is taken as 0 at a = 1
    # (where x = 0 would give 0 * -inf)
    am1 = sub(a, _c(a, 1.0))
    one = eq(am1, _c(am1, 0.0))
    t = select(one, _c(x, 0.0), mul(am1, log(select(one, _c(x, 1.0), x))))
    return exp(sub(sub(t, x), lgamma(a)))


def _no_a_derivative(name):
    def rule(g, ans, a, x):
        raise NotImplementedError(
            f"xform.lax.{name}: the derivative with respect to the shape parameter a is not "
            f"implemented (only with respect to x); wrap a in lax.stop_gradient if it is a "
            f"constant.")
    return rule


_defjvp(igamma_p, _no_a_derivative("igamma"), lambda g, ans, a, x: mul(g, _igamma_dx(a, x)))
_defjvp(igammac_p, _no_a_derivative("igammac"), lambda g, ans, a, x: neg(mul(g, _igamma_dx(a, x))))


betainc_p = _prim("betainc", _ufunc(sps.betainc), 3, _FLOAT, numba=_helper_rule("betainc_scalar"))


def betainc(a, b, x):
    """Elementwise regularized incomplete beta function I_x(a, b) (scipy.special.betainc)
    for a, b > 0. Differentiable in ``x`` only.

    >>> import numpy as np; from xform import lax
    >>> lax.betainc(np.array([2.0]), np.array([3.0]), np.array([0.4]))
    array([0.5248])
    """
    a, x = _binary_args(a, x, "betainc")
    b, x = _binary_args(b, x, "betainc")
    return betainc_p.bind(a, b, x)


def _xlogy0(c, v, logfn):
    # c * logfn(v), taken as 0 where c == 0 (no 0 * -inf at the interval's ends)
    zero = eq(c, _c(c, 0.0))
    return select(zero, _c(v, 0.0), mul(c, logfn(select(zero, _c(v, 0.5), v))))


def _betainc_dx(a, b, x):
    # d I_x(a, b)/dx = x^(a-1) (1-x)^(b-1) / B(a, b)
    t = add(_xlogy0(sub(a, _c(a, 1.0)), x, log), _xlogy0(sub(b, _c(b, 1.0)), neg(x), log1p))
    return exp(sub(t, sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))))


def _betainc_no_ab(g, ans, a, b, x):
    raise NotImplementedError(
        "xform.lax.betainc: the derivative with respect to the shape parameters a and b is not "
        "implemented (only with respect to x); wrap them in lax.stop_gradient if constant.")


_defjvp(betainc_p, _betainc_no_ab, _betainc_no_ab,
        lambda g, ans, a, b, x: mul(g, _betainc_dx(a, b, x)))
