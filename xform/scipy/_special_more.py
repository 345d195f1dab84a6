"""More of ``jax.scipy.special`` (and the functions autograd's ``scipy.special``
wraps): Bessel functions, exponential and sine/cosine integrals, Fresnel integrals,
hypergeometric functions, Owen's T, Dawson, Spence, combinatorics and entropies.

Values come from scipy.special (``xform.lax.scipy_special.scipy_elementwise``: scipy
directly on concrete inputs, a ``pure_callback`` under ``jit``/``vmap``); derivatives
are ``custom_jvp`` rules with the closed forms. Where none exists the rule says so:

- integer orders (``n`` of ``expn``/``jn``/``yn``, ``v`` of ``bessel_jn``) and the real
  order ``v`` of ``iv``/``ive``/``jv``/``yv``/``kv`` have no derivative (their tangents
  contribute nothing, as ``polygamma``'s ``m``);
- the parameters ``a``, ``b`` (``c``) of ``hyp1f1``/``hyp2f1`` are differentiated by
  central differences of scipy's function (relative accuracy ~1e-8 in float64);
  their ``x`` derivative is exact.

Functions written with ``xform.numpy`` (``factorial``, ``comb``, ``multigammaln``,
``kl_div``, ``rel_entr``, ``boxcox``, ``boxcox1p``, ``softmax``, ``log_softmax``,
``erfcinv``, ``loggamma``) differentiate through their parts.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sps

from .. import lax
from .. import numpy as xnp
from ..lax.custom_derivatives import custom_jvp
from ..lax.scipy_special import _float_args, scipy_elementwise

__all__ = ["i0", "i0e", "i1", "i1e", "zeta", "exp1", "expi", "expn", "erfcx", "dawsn",
           "spence", "sici", "fresnel", "owens_t", "hyp1f1", "hyp2f1", "loggamma", "gammasgn",
           "factorial", "comb", "poch", "beta", "multigammaln", "kl_div", "rel_entr", "boxcox",
           "boxcox1p", "softmax", "log_softmax", "bernoulli", "bessel_jn", "psi", "rgamma",
           "j0", "j1", "jn", "jv", "y0", "y1", "yn", "yv", "iv", "ive", "kv", "kve", "erfcinv",
           "wofz"]

Array = Any
_SQRT_PI = math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _sp(fn, name):
    def call(*args):
        return scipy_elementwise(fn, *args, name=name)
    return call


def _make(name: str, fn, *derivs):
    """A custom_jvp function computing scipy's ``fn``, with one derivative rule per
    argument (``rule(g, ans, *args)``; None: no dependence). The rule gets ``ans`` from
    the custom_jvp function itself, so derivatives of derivatives use the rules again."""
    f = custom_jvp(_sp(fn, name))
    f.__name__ = f.__qualname__ = f"_{name}"

    def rule(primals, tangents):
        ans = f(*primals)
        out = None
        for d, t in zip(derivs, tangents):
            if d is not None:
                c = d(t, ans, *primals)
                out = c if out is None else out + c
        return ans, (xnp.zeros_like(ans) if out is None else out)

    f.defjvp(rule)
    return f


def _public(name: str, f, n_args: int, doc: str):
    def wrapper(*args):
        if len(args) != n_args:
            raise TypeError(f"xform.scipy.special.{name} takes {n_args} arguments, got "
                            f"{len(args)}.")
        cast, _ = _float_args(f"xform.scipy.special.{name}", list(args))
        return f(*cast)

    wrapper.__name__ = wrapper.__qualname__ = name
    wrapper.__doc__ = doc
    return wrapper


def _central_diff(get_fn, k: int):
    """The derivative in argument ``k`` by central differences (for parameters without a
    closed-form derivative), of the custom_jvp function ``get_fn()`` itself, so that the
    difference is differentiable again by the same rules."""
    def rule(g, ans, *args):
        fn = get_fn()
        a = args[k]
        scale = 1e-5 if xnp.asarray(a).dtype == np.float64 else 1e-3
        h = lax.stop_gradient(scale * (1.0 + xnp.abs(a)))
        up = list(args)
        dn = list(args)
        up[k], dn[k] = a + h, a - h
        return g * (fn(*up) - fn(*dn)) / (2 * h)
    return rule


# -- Bessel functions --------------------------------------------------------------------


def i0e(x: Array) -> Array:
    """Exponentially scaled modified Bessel function ``exp(-|x|) I0(x)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.i0e(np.array([0.0, 1.0]))
    array([1.        , 0.46575961])
    """
    return lax.bessel_i0e(x)


def i1e(x: Array) -> Array:
    """Exponentially scaled modified Bessel function ``exp(-|x|) I1(x)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.i1e(np.array([0.0, 1.0]))
    array([0.        , 0.20791042])
    """
    return lax.bessel_i1e(x)


def i0(x: Array) -> Array:
    """Modified Bessel function of order 0, ``I0(x)`` (``i0e(x) exp(|x|)``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.i0(np.array([0.0, 1.0]))
    array([1.        , 1.26606588])
    """
    (x,), _ = _float_args("xform.scipy.special.i0", [x])
    return lax.bessel_i0e(x) * xnp.exp(xnp.abs(x))


def i1(x: Array) -> Array:
    """Modified Bessel function of order 1, ``I1(x)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.i1(np.array([0.0, 1.0]))
    array([0.       , 0.5651591])
    """
    (x,), _ = _float_args("xform.scipy.special.i1", [x])
    return lax.bessel_i1e(x) * xnp.exp(xnp.abs(x))


def _order_derivs(d_x):
    return (None, d_x)  # the order has no derivative (see the module docstring)


_jv = _make("jv", sps.jv, *_order_derivs(
    lambda g, ans, v, x: g * (_jv(v - 1, x) - _jv(v + 1, x)) / 2))
_yv = _make("yv", sps.yv, *_order_derivs(
    lambda g, ans, v, x: g * (_yv(v - 1, x) - _yv(v + 1, x)) / 2))
_iv = _make("iv", sps.iv, *_order_derivs(
    lambda g, ans, v, x: g * (_iv(v - 1, x) + _iv(v + 1, x)) / 2))
_ive = _make("ive", sps.ive, *_order_derivs(
    lambda g, ans, v, x: g * (_ive(v + 1, x) + (v / x - xnp.sign(x)) * ans)))
_kv = _make("kv", sps.kv, *_order_derivs(
    lambda g, ans, v, x: g * -(_kv(v - 1, x) + _kv(v + 1, x)) / 2))
_kve = _make("kve", sps.kve, *_order_derivs(
    lambda g, ans, v, x: g * (ans - (_kve(v - 1, x) + _kve(v + 1, x)) / 2)))

jv = _public("jv", _jv, 2, """Bessel function of the first kind of real order ``v``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.jv(np.array([0.0, 1.5]), np.array([1.0, 2.0]))
    array([0.76519769, 0.49129378])
    """)
yv = _public("yv", _yv, 2, """Bessel function of the second kind of real order ``v``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.yv(0.0, np.array([1.0]))
    array([0.08825696])
    """)
iv = _public("iv", _iv, 2, """Modified Bessel function of the first kind of real order ``v``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.iv(1.0, np.array([1.0]))
    array([0.5651591])
    """)
ive = _public("ive", _ive, 2, """Exponentially scaled ``iv``: ``iv(v, x) exp(-|x|)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.ive(1.0, np.array([1.0]))
    array([0.20791042])
    """)
kv = _public("kv", _kv, 2, """Modified Bessel function of the second kind of real order ``v``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.kv(0.0, np.array([1.0]))
    array([0.42102444])
    """)
kve = _public("kve", _kve, 2, """Exponentially scaled ``kv``: ``kv(v, x) exp(x)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.kve(0.0, np.array([1.0]))
    array([1.14446308])
    """)


def j0(x: Array) -> Array:
    """Bessel function ``J0``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.j0(np.array([0.0, 1.0]))
    array([1.        , 0.76519769])
    """
    return jv(0.0, x)


def j1(x: Array) -> Array:
    """Bessel function ``J1``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.j1(np.array([1.0]))
    array([0.44005059])
    """
    return jv(1.0, x)


def jn(n: Array, x: Array) -> Array:
    """Bessel function of integer order ``n`` (``jv`` at integer orders).

    >>> import numpy as np; from xform.scipy import special
    >>> special.jn(2, np.array([1.0]))
    array([0.11490348])
    """
    return jv(n, x)


def y0(x: Array) -> Array:
    """Bessel function of the second kind ``Y0``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.y0(np.array([1.0]))
    array([0.08825696])
    """
    return yv(0.0, x)


def y1(x: Array) -> Array:
    """Bessel function of the second kind ``Y1``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.y1(np.array([1.0]))
    array([-0.78121282])
    """
    return yv(1.0, x)


def yn(n: Array, x: Array) -> Array:
    """Bessel function of the second kind of integer order ``n``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.yn(2, np.array([1.0]))
    array([-1.65068261])
    """
    return yv(n, x)


def bessel_jn(z: Array, *, v: int, n_iter: int = 50) -> Array:
    """The Bessel functions ``J_0(z)`` to ``J_v(z)`` stacked on a new leading axis
    (JAX's ``bessel_jn``; ``n_iter`` of JAX's recurrence is accepted and unused: the
    values are scipy's).

    >>> import numpy as np; from xform.scipy import special
    >>> special.bessel_jn(np.array([1.0, 2.0]), v=1)
    array([[0.76519769, 0.22389078],
           [0.44005059, 0.57672481]])
    """
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
        raise TypeError(f"xform.scipy.special.bessel_jn: v must be a non-negative int, got {v!r}.")
    (z,), dt = _float_args("xform.scipy.special.bessel_jn", [z])
    return xnp.stack([jv(np.asarray(k, dt), z) for k in range(int(v) + 1)])


# -- exponential and related integrals ---------------------------------------------------------

_exp1 = _make("exp1", sps.exp1, lambda g, ans, x: g * -xnp.exp(-x) / x)
_expi = _make("expi", sps.expi, lambda g, ans, x: g * xnp.exp(x) / x)


def _expn_dx(g, ans, n, x):
    # d/dx E_n(x) = -E_{n-1}(x), with E_0(x) = exp(-x) / x
    prev = xnp.where(n >= 1, _expn(xnp.maximum(n - 1, 0.0), x), xnp.exp(-x) / x)
    e0_slope = -xnp.exp(-x) * (x + 1) / (x * x)
    return g * xnp.where(n >= 1, -prev, e0_slope)


_expn = _make("expn", sps.expn, None, _expn_dx)
_erfcx = _make("erfcx", sps.erfcx, lambda g, ans, x: g * (2 * x * ans - 2 / _SQRT_PI))
_dawsn = _make("dawsn", sps.dawsn, lambda g, ans, x: g * (1 - 2 * x * ans))


def _spence_dx(g, ans, x):
    # spence(x) = int_1^x log(t) / (1 - t) dt: the slope log(x) / (1 - x), which near
    # x = 1 (0/0) is the series -(1 - u/2 + u^2/3 - u^3/4 + u^4/5), u = x - 1
    u = x - 1
    near = xnp.abs(u) < 1e-3
    us = xnp.where(near, u, 0.0)
    series = -(1 - us / 2 + us ** 2 / 3 - us ** 3 / 4 + us ** 4 / 5)
    xs = xnp.where(near, 2.0, x)
    return g * xnp.where(near, series, xnp.log(xs) / (1 - xs))


_spence = _make("spence", sps.spence, _spence_dx)

exp1 = _public("exp1", _exp1, 1, """Exponential integral ``E1(x) = int_x^inf exp(-t)/t dt``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.exp1(np.array([0.5, 1.0]))
    array([0.55977359, 0.21938393])
    """)
expi = _public("expi", _expi, 1, """Exponential integral ``Ei(x)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.expi(np.array([1.0]))
    array([1.89511782])
    """)
expn = _public("expn", _expn, 2, """Generalized exponential integral ``E_n(x)``
    (integer ``n >= 0``; no derivative in ``n``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.expn(2, np.array([1.0]))
    array([0.14849551])
    """)
erfcx = _public("erfcx", _erfcx, 1, """Scaled complementary error function
    ``exp(x^2) erfc(x)``, accurate for large ``x``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.erfcx(np.array([0.0, 30.0]))
    array([1.        , 0.01879589])
    """)
dawsn = _public("dawsn", _dawsn, 1, """Dawson's integral ``exp(-x^2) int_0^x exp(t^2) dt``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.dawsn(np.array([1.0]))
    array([0.53807951])
    """)
spence = _public("spence", _spence, 1, """Spence's function (dilogarithm)
    ``int_1^x log(t) / (1 - t) dt`` for ``x >= 0``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.spence(np.array([1.0, 2.0]))
    array([ 0.        , -0.82246703])
    """)


@custom_jvp
def _sici(x):
    return scipy_elementwise(sps.sici, x, name="sici", n_out=2)


@_sici.defjvp
def _sici_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    si, ci = _sici(x)
    zero = x == 0
    safe = xnp.where(zero, 1.0, x)
    return (si, ci), (g * xnp.where(zero, 1.0, xnp.sin(safe) / safe), g * xnp.cos(x) / x)


def sici(x: Array) -> tuple:
    """Sine and cosine integrals ``(Si(x), Ci(x))``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.sici(np.array([1.0]))
    (array([0.94608307]), array([0.33740392]))
    """
    (x,), _ = _float_args("xform.scipy.special.sici", [x])
    return _sici(x)


@custom_jvp
def _fresnel(x):
    return scipy_elementwise(sps.fresnel, x, name="fresnel", n_out=2)


@_fresnel.defjvp
def _fresnel_jvp(primals, tangents):
    (x,), (g,) = primals, tangents
    s, c = _fresnel(x)
    arg = (math.pi / 2) * x * x
    return (s, c), (g * xnp.sin(arg), g * xnp.cos(arg))


def fresnel(x: Array) -> tuple:
    """Fresnel integrals ``(S(x), C(x))`` (scipy's normalization, ``sin(pi t^2 / 2)``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.fresnel(np.array([1.0]))
    (array([0.43825915]), array([0.7798934]))
    """
    (x,), _ = _float_args("xform.scipy.special.fresnel", [x])
    return _fresnel(x)


_owens_t = _make(
    "owens_t", sps.owens_t,
    lambda g, ans, h, a: g * -_INV_SQRT_2PI * xnp.exp(-h * h / 2) * lax.erf(a * h / math.sqrt(2)) / 2,
    lambda g, ans, h, a: g * xnp.exp(-h * h * (1 + a * a) / 2) / (2 * math.pi * (1 + a * a)))
owens_t = _public("owens_t", _owens_t, 2, """Owen's T function ``T(h, a)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.owens_t(np.array([0.3]), np.array([0.5]))
    array([0.0702967])
    """)

_hyp1f1 = _make("hyp1f1", sps.hyp1f1, _central_diff(lambda: _hyp1f1, 0),
                _central_diff(lambda: _hyp1f1, 1),
                lambda g, ans, a, b, x: g * a / b * _hyp1f1(a + 1, b + 1, x))
_hyp2f1 = _make("hyp2f1", sps.hyp2f1, _central_diff(lambda: _hyp2f1, 0),
                _central_diff(lambda: _hyp2f1, 1), _central_diff(lambda: _hyp2f1, 2),
                lambda g, ans, a, b, c, x: g * a * b / c * _hyp2f1(a + 1, b + 1, c + 1, x))
hyp1f1 = _public("hyp1f1", _hyp1f1, 3, """Confluent hypergeometric function ``1F1(a; b; x)``
    (see the module docstring for its derivatives).

    >>> import numpy as np; from xform.scipy import special
    >>> special.hyp1f1(1.0, 2.0, np.array([0.5]))
    array([1.29744254])
    """)
hyp2f1 = _public("hyp2f1", _hyp2f1, 4, """Gauss hypergeometric function ``2F1(a, b; c; x)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.hyp2f1(1.0, 2.0, 3.0, np.array([0.5]))
    array([1.54517744])
    """)

_gammasgn = _make("gammasgn", sps.gammasgn, lambda g, ans, x: g * 0.0)
gammasgn = _public("gammasgn", _gammasgn, 1, """The sign of the gamma function (derivative 0).

    >>> import numpy as np; from xform.scipy import special
    >>> special.gammasgn(np.array([-1.5, -0.5, 2.0]))
    array([ 1., -1.,  1.])
    """)

_poch = _make(
    "poch", sps.poch,
    lambda g, ans, z, m: g * ans * (lax.digamma(z + m) - lax.digamma(z)),
    lambda g, ans, z, m: g * ans * lax.digamma(z + m))
poch = _public("poch", _poch, 2, """Pochhammer symbol ``Gamma(z + m) / Gamma(z)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.poch(np.array([2.0]), np.array([3.0]))
    array([24.])
    """)

_beta = _make(
    "beta", sps.beta,
    lambda g, ans, a, b: g * ans * (lax.digamma(a) - lax.digamma(a + b)),
    lambda g, ans, a, b: g * ans * (lax.digamma(b) - lax.digamma(a + b)))
beta = _public("beta", _beta, 2, """The beta function ``Gamma(a) Gamma(b) / Gamma(a + b)``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.beta(np.array([2.0]), np.array([3.0]))
    array([0.08333333])
    """)

_rgamma = _make("rgamma", sps.rgamma, lambda g, ans, x: g * -ans * lax.digamma(x))
rgamma = _public("rgamma", _rgamma, 1, """``1 / Gamma(x)`` (0 at the poles).

    >>> import numpy as np; from xform.scipy import special
    >>> special.rgamma(np.array([0.0, 4.0]))
    array([0.        , 0.16666667])
    """)


@custom_jvp
def _wofz(z):
    return scipy_elementwise(sps.wofz, z, name="wofz")


@_wofz.defjvp
def _wofz_jvp(primals, tangents):
    (z,), (g,) = primals, tangents
    w = _wofz(z)
    return w, g * (-2 * z * w + 2j / _SQRT_PI)  # holomorphic: w'(z) = -2 z w + 2i/sqrt(pi)


def wofz(z: Array) -> Array:
    """The Faddeeva function ``exp(-z^2) erfc(-iz)`` (complex; real inputs give complex
    results), holomorphic.

    >>> import numpy as np; from xform.scipy import special
    >>> special.wofz(np.array([1.0 + 1.0j]))
    array([0.30474421+0.20821894j])
    """
    (z,), dt = _float_args("xform.scipy.special.wofz", [z], allow_complex=True)
    if dt.kind != "c":
        z = xnp.asarray(z, dtype=np.result_type(dt, np.complex64))
    return _wofz(z)


# -- written with xform.numpy --------------------------------------------------------------


def psi(x: Array) -> Array:
    """The digamma function (scipy's alias of ``digamma``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.psi(np.array([1.0]))
    array([-0.57721566])
    """
    (x,), _ = _float_args("xform.scipy.special.psi", [x])
    return lax.digamma(x)


def zeta(x: Array, q: Array | None = None) -> Array:
    """Hurwitz zeta ``sum_k (k + q)^-x``; Riemann's ``zeta(x)`` when ``q`` is None.
    Differentiable in ``q``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.zeta(np.array([2.0, 4.0]))
    array([1.64493407, 1.08232323])
    """
    if q is None:
        q = np.ones((), np.result_type(xnp.asarray(x).dtype, np.float64))
    return lax.zeta(x, q)


def loggamma(x: Array) -> Array:
    """``log Gamma(x)`` for real ``x > 0`` (NaN for ``x < 0``, as scipy's real
    ``loggamma``), with derivative ``digamma``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.loggamma(np.array([-1.5, 2.5]))
    array([       nan, 0.28468287])
    """
    (x,), _ = _float_args("xform.scipy.special.loggamma", [x])
    return xnp.where(x < 0, np.nan, lax.lgamma(x))


def factorial(n: Array, exact: bool = False) -> Array:
    """``n! = Gamma(n + 1)`` (0 for negative ``n``, as scipy); ``exact=True`` is not
    supported (it needs Python integers).

    >>> import numpy as np; from xform.scipy import special
    >>> special.factorial(np.array([-1.0, 3.0, 3.5]))
    array([ 0.       ,  6.       , 11.6317284])
    """
    if exact:
        raise NotImplementedError("xform.scipy.special.factorial: exact=True is not supported "
                                  "(use math.factorial on Python ints).")
    (n,), _ = _float_args("xform.scipy.special.factorial", [n])
    return xnp.where(n < 0, 0.0, xnp.exp(lax.lgamma(n + 1)))


def comb(N: Array, k: Array, *, exact: bool = False, repetition: bool = False) -> Array:
    """The number of combinations ``N choose k`` (with ``repetition``:
    ``N + k - 1 choose k``), as floats through ``gammaln``; 0 where ``k > N`` or a
    value is negative.

    >>> import numpy as np; from xform.scipy import special
    >>> special.comb(5.0, np.array([2.0, 6.0]))
    array([10.,  0.])
    """
    if exact:
        raise NotImplementedError("xform.scipy.special.comb: exact=True is not supported "
                                  "(use math.comb on Python ints).")
    (N, k), _ = _float_args("xform.scipy.special.comb", [N, k])
    if repetition:
        N = N + k - 1
    valid = (k >= 0) & (N >= 0) & (k <= N)
    Ns, ks = xnp.where(valid, N, 1.0), xnp.where(valid, k, 0.0)
    val = xnp.exp(lax.lgamma(Ns + 1) - lax.lgamma(ks + 1) - lax.lgamma(Ns - ks + 1))
    return xnp.where(valid, val, 0.0)


def multigammaln(a: Array, d: int) -> Array:
    """The log of the multivariate gamma function of dimension ``d``:
    ``d (d-1)/4 log(pi) + sum_j gammaln(a - j/2)``.

    >>> import numpy as np; from xform.scipy import special
    >>> float(special.multigammaln(3.5, 2))
    2.4664857258317197
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise TypeError(f"xform.scipy.special.multigammaln: d must be a positive int, got {d!r}.")
    (a,), _ = _float_args("xform.scipy.special.multigammaln", [a])
    total = sum(lax.lgamma(a - j / 2.0) for j in range(int(d)))
    return total + d * (d - 1) / 4.0 * math.log(math.pi)


def _entropy_args(name, p, q):
    (p, q), _ = _float_args(f"xform.scipy.special.{name}", [p, q])
    both = (p > 0) & (q > 0)
    ps, qs = xnp.where(both, p, 1.0), xnp.where(both, q, 1.0)
    return p, q, both, ps * xnp.log(ps / qs)


def rel_entr(p: Array, q: Array) -> Array:
    """Elementwise relative entropy ``p log(p / q)`` (0 for ``p = 0, q >= 0``; inf
    otherwise outside ``p, q > 0``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.rel_entr(np.array([0.0, 1.0, 1.0]), np.array([1.0, 0.0, 2.0]))
    array([ 0.        ,         inf, -0.69314718])
    """
    p, q, both, term = _entropy_args("rel_entr", p, q)
    return xnp.where(both, term, xnp.where((p == 0) & (q >= 0), 0.0, np.inf))


def kl_div(p: Array, q: Array) -> Array:
    """Elementwise ``p log(p / q) - p + q`` (``q`` for ``p = 0, q >= 0``; inf otherwise
    outside ``p, q > 0``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.kl_div(np.array([0.0, 1.0, 1.0]), np.array([1.0, 0.0, 2.0]))
    array([1.        ,        inf, 0.30685282])
    """
    p, q, both, term = _entropy_args("kl_div", p, q)
    return xnp.where(both, term - p + q, xnp.where((p == 0) & (q >= 0), q, np.inf))


def boxcox(x: Array, lmbda: Array) -> Array:
    """The Box-Cox transform ``(x^lmbda - 1) / lmbda`` (``log x`` at ``lmbda = 0``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.boxcox(np.array([1.0, 4.0]), np.array([0.0, 0.5]))
    array([0., 2.])
    """
    (x, lmbda), _ = _float_args("xform.scipy.special.boxcox", [x, lmbda])
    return _boxcox_of_log(xnp.log(x), lmbda)


def boxcox1p(x: Array, lmbda: Array) -> Array:
    """The Box-Cox transform of ``1 + x``, accurate for small ``x``.

    >>> import numpy as np; from xform.scipy import special
    >>> special.boxcox1p(np.array([1e-10]), np.array([0.5]))
    array([1.e-10])
    """
    (x, lmbda), _ = _float_args("xform.scipy.special.boxcox1p", [x, lmbda])
    return _boxcox_of_log(xnp.log1p(x), lmbda)


def _boxcox_of_log(logx, lmbda):
    zero = lmbda == 0
    safe = xnp.where(zero, 1.0, lmbda)
    return xnp.where(zero, logx, xnp.expm1(safe * logx) / safe)


def softmax(x: Array, /, *, axis: int | tuple[int, ...] | None = None) -> Array:
    """scipy's ``softmax``: ``exp(x) / sum(exp(x))`` over ``axis`` (all axes by
    default, unlike ``xform.nn.softmax``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.softmax(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[0.0320586 , 0.08714432],
           [0.23688282, 0.64391426]])
    """
    from ..nn import softmax as _softmax

    (x,), _ = _float_args("xform.scipy.special.softmax", [x])
    return _softmax(x, axis=tuple(range(xnp.ndim(x))) if axis is None else axis)


def log_softmax(x: Array, /, *, axis: int | tuple[int, ...] | None = None) -> Array:
    """scipy's ``log_softmax`` over ``axis`` (all axes by default).

    >>> import numpy as np; from xform.scipy import special
    >>> special.log_softmax(np.array([0.0, 0.0]))
    array([-0.69314718, -0.69314718])
    """
    from ..nn import log_softmax as _log_softmax

    (x,), _ = _float_args("xform.scipy.special.log_softmax", [x])
    return _log_softmax(x, axis=tuple(range(xnp.ndim(x))) if axis is None else axis)


def bernoulli(n: int) -> Array:
    """The Bernoulli numbers ``B_0`` to ``B_n`` (``B_1 = -1/2``, as scipy).

    >>> from xform.scipy import special
    >>> special.bernoulli(4)
    array([ 1.        , -0.5       ,  0.16666667,  0.        , -0.03333333])
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"xform.scipy.special.bernoulli: n must be a non-negative int, got {n!r}.")
    return xnp.asarray(sps.bernoulli(int(n)))


def erfcinv(x: Array) -> Array:
    """Inverse of the complementary error function on ``(0, 2)``:
    ``-ndtri(x / 2) / sqrt(2)`` (accurate for small ``x``).

    >>> import numpy as np; from xform.scipy import special
    >>> special.erfcinv(np.array([1.0, 1e-10]))
    array([-0.        ,  4.57282497])
    """
    (x,), _ = _float_args("xform.scipy.special.erfcinv", [x])
    return -lax.ndtri(x / 2) / math.sqrt(2)
