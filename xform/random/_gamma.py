"""Gamma-family samplers: gamma, loggamma, beta, dirichlet.

Sampling is JAX's: every element gets its own key (a split of the key, row-major), and
runs Marsaglia and Tsang's rejection method ("A simple method for generating gamma
variables", ACM TOMS 2000) in a ``while_loop``, vectorized over the elements by
``vmap`` (lanes that are done keep their value). ``a < 1`` is boosted:
``Gamma(a) = Gamma(a + 1) U**(1/a)`` (in log space for ``loggamma``).

Derivatives are the implicit reparameterization gradients (Figurnov et al., "Implicit
Reparameterization Gradients", NeurIPS 2018): with ``P(a, x)`` the regularized lower
incomplete gamma function (the CDF of a sample ``x``), holding the CDF value fixed gives

    dx/da = -(dP/da)(a, x) / (dP/dx)(a, x),   dP/dx = x**(a-1) e**-x / Gamma(a),

and ``dP/da`` comes from the series of ``P`` (x < 1 or x <= a) or the continued
fraction of ``1 - P`` (otherwise), each differentiated term by term in ``a`` as it is
summed (Moore, "Algorithm AS 187", Applied Statistics 1982; the same scheme as
XLA's ``RandomGammaGrad``). xform has no lgamma/digamma primitives yet, so the two
are written here with Lanczos' approximation (g = 7, 9 terms; relative error ~1e-15
for lgamma) in float64.
"""
from __future__ import annotations

import math

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..lax.custom_derivatives import custom_jvp
from ._common import (F64, as_dtype, broadcast_param_shapes, check_shape, float_dtype, fma,
                      shape_of, uniform as _uniform)
from ._continuous import _normal_real
from ._math import div, exp, log, log1p, pow, sequential_sum
from ._keys import canonical_shape, check_key, split

# -- lgamma and digamma for positive arguments (Lanczos, float64) ---------------------------

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lanczos_parts(x):
    """For x >= 0.5: t = x + g - 0.5, the Lanczos sum s and its derivative ds/dx."""
    z = lax.sub(x, 1.0)
    s = lax.add(lax.mul(z, 0.0), _LANCZOS[0])
    ds = lax.mul(z, 0.0)
    for i, p in enumerate(_LANCZOS[1:], start=1):
        zi = lax.add(z, float(i))
        s = lax.add(s, lax.div(p, zi))
        ds = lax.sub(ds, lax.div(p, lax.mul(zi, zi)))
    t = lax.add(z, _LANCZOS_G + 0.5)
    return z, t, s, ds


def lgamma_pos(x):
    """log Gamma(x) for float64 x > 0 (reflection below 0.5)."""
    small = lax.lt(x, 0.5)
    xr = lax.select(small, lax.sub(1.0, x), x)
    z, t, s, _ = _lanczos_parts(xr)
    big = lax.add(lax.add(_HALF_LOG_2PI, lax.mul(lax.add(z, 0.5), lax.log(t))),
                  lax.sub(lax.log(s), t))
    xs = lax.select(small, x, lax.add(lax.mul(x, 0.0), 0.25))  # a finite stand-in
    refl = lax.sub(lax.log(lax.div(math.pi, lax.sin(lax.mul(math.pi, xs)))), big)
    return lax.select(small, refl, big)


def digamma_pos(x):
    """The digamma function psi(x) = d log Gamma(x)/dx for float64 x > 0."""
    small = lax.lt(x, 0.5)
    xr = lax.select(small, lax.sub(1.0, x), x)
    _, t, s, ds = _lanczos_parts(xr)
    big = lax.add(lax.sub(lax.log(t), lax.div(_LANCZOS_G, t)), lax.div(ds, s))
    xs = lax.select(small, x, lax.add(lax.mul(x, 0.0), 0.25))  # a finite stand-in
    refl = lax.sub(big, lax.div(math.pi, lax.tan(lax.mul(math.pi, xs))))
    return lax.select(small, refl, big)


# -- the implicit gradient dx/da of a gamma sample x ------------------------------------------

_EPS = float(np.finfo(np.float64).eps)
_MAX_ITER = 2000


def _any(mask):
    return lax.reduce_or(mask, tuple(range(len(shape_of(mask)))))


def _series_dx_da(a, x, enabled):
    """dx/da where the series P(a, x) = x**a e**-x / Gamma(a + 1) sum_n x**n / prod
    (a+1)..(a+n) converges fast (x < 1 or x <= a)."""
    one = lax.add(lax.mul(a, 0.0), 1.0)

    def cond(st):
        return _any(st[0])

    def body(st):
        on, r, c, total, dc, dtotal, k = st
        r1 = lax.add(r, 1.0)
        dc1 = lax.sub(lax.mul(dc, lax.div(x, r1)), lax.div(lax.mul(c, x), lax.mul(r1, r1)))
        c1 = lax.mul(c, lax.div(x, r1))
        total1 = lax.add(total, c1)
        dtotal1 = lax.add(dtotal, dc1)
        more = lax.bitwise_and(on, lax.gt(lax.abs(lax.div(dc1, dtotal1)), _EPS))
        more = lax.bitwise_and(more, lax.lt(k, _MAX_ITER))
        keep = lambda new, old: lax.select(on, new, old)  # noqa: E731
        return (more, keep(r1, r), keep(c1, c), keep(total1, total), keep(dc1, dc),
                keep(dtotal1, dtotal), lax.add(k, 1))

    zero = lax.mul(a, 0.0)
    st = lax.while_loop(cond, body, (enabled, a, one, one, zero, zero, np.int64(0)))
    total, dtotal = st[3], st[5]
    dlog_prefactor = lax.sub(lax.log(x), digamma_pos(lax.add(a, 1.0)))
    # dP/da / (dP/dx) with dP/dx = prefactor * a / x
    return lax.neg(lax.div(lax.mul(lax.add(dtotal, lax.mul(total, dlog_prefactor)), x), a))


def _cfrac_dx_da(a, x, enabled):
    """dx/da from the continued fraction of Q(a, x) = 1 - P(a, x) (x >= 1 and x > a),
    evaluated by its convergents p_k/q_k with their derivatives in a."""
    y = lax.sub(1.0, a)
    z = lax.add(lax.add(x, y), 1.0)
    zero = lax.mul(a, 0.0)
    pkm2, qkm2 = lax.add(zero, 1.0), lax.add(zero, x)
    pkm1, qkm1 = lax.add(x, 1.0), lax.mul(z, x)
    ans = lax.div(pkm1, qkm1)
    dpkm2, dqkm2, dpkm1, dqkm1 = zero, zero, zero, lax.neg(x)
    dans = lax.div(lax.sub(dpkm1, lax.mul(ans, dqkm1)), qkm1)
    big, rescale_by = 1.0 / _EPS, _EPS

    def cond(st):
        return lax.bitwise_and(_any(st[0]), lax.lt(st[1], _MAX_ITER))

    def body(st):
        on, k, ans, y, z, pkm1, qkm1, pkm2, qkm2, dpkm2, dqkm2, dpkm1, dqkm1, dans = st
        c = lax.convert_element_type(lax.add(k, 1), F64)
        y1, z1 = lax.add(y, 1.0), lax.add(z, 2.0)
        yc = lax.mul(y1, c)
        pk = lax.sub(lax.mul(pkm1, z1), lax.mul(pkm2, yc))
        qk = lax.sub(lax.mul(qkm1, z1), lax.mul(qkm2, yc))
        nz = lax.ne(qk, 0.0)
        safe_qk = lax.select(nz, qk, lax.add(zero, 1.0))
        ans1 = lax.select(nz, lax.div(pk, safe_qk), ans)
        dpk = lax.add(lax.sub(lax.sub(lax.mul(dpkm1, z1), pkm1), lax.mul(dpkm2, yc)),
                      lax.mul(pkm2, c))
        dqk = lax.add(lax.sub(lax.sub(lax.mul(dqkm1, z1), qkm1), lax.mul(dqkm2, yc)),
                      lax.mul(qkm2, c))
        dans1 = lax.select(nz, lax.div(lax.sub(dpk, lax.mul(ans1, dqk)), safe_qk), dans)
        change = lax.select(nz, lax.abs(lax.sub(dans1, dans)), lax.add(zero, 1.0))
        # rescale when the convergents grow large (they only matter as ratios)
        r = lax.gt(lax.abs(pk), big)
        sc = lambda v: lax.select(r, lax.mul(v, rescale_by), v)  # noqa: E731
        n_pkm2, n_qkm2, n_pkm1, n_qkm1 = sc(pkm1), sc(qkm1), sc(pk), sc(qk)
        n_dpkm2, n_dqkm2, n_dpkm1, n_dqkm1 = sc(dpkm1), sc(dqkm1), sc(dpk), sc(dqk)
        more = lax.bitwise_and(on, lax.gt(change, _EPS))
        keep = lambda new, old: lax.select(on, new, old)  # noqa: E731
        return (more, lax.add(k, 1), keep(ans1, ans), keep(y1, y), keep(z1, z),
                keep(n_pkm1, pkm1), keep(n_qkm1, qkm1), keep(n_pkm2, pkm2), keep(n_qkm2, qkm2),
                keep(n_dpkm2, dpkm2), keep(n_dqkm2, dqkm2), keep(n_dpkm1, dpkm1),
                keep(n_dqkm1, dqkm1), keep(dans1, dans))

    st = lax.while_loop(cond, body, (enabled, np.int64(0), ans, y, z, pkm1, qkm1, pkm2, qkm2,
                                     dpkm2, dqkm2, dpkm1, dqkm1, dans))
    ans, dans = st[2], st[13]
    dlog_prefactor = lax.sub(lax.log(x), digamma_pos(a))
    # dQ/da = prefactor * (dans + ans * dlog_prefactor); dx/da = dQ/da / (dP/dx)
    return lax.mul(lax.add(dans, lax.mul(ans, dlog_prefactor)), x)


def _stand_in(mask, v, value: float):
    return lax.select(mask, v, lax.add(lax.mul(v, 0.0), value))


def gamma_sample_grad(a, x):
    """dx/da of gamma samples ``x`` of shape ``a`` (implicit differentiation of the CDF;
    0 at x = 0, NaN for a <= 0 or x < 0), computed in float64."""
    dt = np.dtype(xnp.result_type(a))
    a = lax.convert_element_type(a, F64)
    x = lax.convert_element_type(x, F64)
    bad = lax.bitwise_or(lax.bitwise_or(lax.lt(x, 0.0), lax.le(a, 0.0)),
                         lax.bitwise_or(lax.ne(a, a), lax.ne(x, x)))
    at_zero = lax.eq(x, 0.0)
    valid = lax.bitwise_not(lax.bitwise_or(at_zero, bad))
    # harmless stand-ins where a lane has no series to sum (no NaN/inf in the loops)
    a_s = lax.select(valid, a, lax.add(lax.mul(a, 0.0), 1.0))
    x_s = lax.select(valid, x, lax.add(lax.mul(x, 0.0), 0.5))
    # the density's prefactor underflows: the sample sits where the density is negligible
    log_pref = lax.sub(lax.sub(lax.mul(a_s, lax.log(x_s)), x_s), lgamma_pos(a_s))
    ok = lax.bitwise_and(valid, lax.ge(log_pref, -math.log(np.finfo(np.float64).max)))
    use_cf = lax.bitwise_and(lax.gt(x_s, 1.0), lax.gt(x_s, a_s))
    on_series = lax.bitwise_and(ok, lax.bitwise_not(use_cf))
    on_cf = lax.bitwise_and(ok, use_cf)
    # each method gets stand-ins (in its own domain) on the other method's lanes
    series = _series_dx_da(_stand_in(on_series, a_s, 1.0), _stand_in(on_series, x_s, 0.5),
                           on_series)
    cfrac = _cfrac_dx_da(_stand_in(on_cf, a_s, 1.0), _stand_in(on_cf, x_s, 2.0), on_cf)
    out = lax.select(use_cf, cfrac, series)
    # where the density underflows, the leading term of the tail alone fixes the CDF:
    # right tail Q ~ x**(a-1) e**-x / Gamma(a), left tail P ~ x**a e**-x / Gamma(a+1)
    far = lax.bitwise_and(valid, lax.bitwise_not(ok))
    xf, af = _stand_in(far, x_s, 2.0), _stand_in(far, a_s, 1.0)
    right = lax.div(lax.sub(lax.log(xf), digamma_pos(af)),
                    lax.sub(1.0, lax.div(lax.sub(af, 1.0), xf)))
    left = lax.div(lax.mul(xf, lax.sub(digamma_pos(lax.add(af, 1.0)), lax.log(xf))),
                   lax.sub(af, xf))
    out = lax.select(far, lax.select(lax.gt(xf, af), right, left), out)
    out = lax.select(at_zero, lax.mul(out, 0.0), out)
    out = lax.select(bad, lax.add(lax.mul(out, 0.0), np.nan), out)
    return lax.convert_element_type(out, dt)


# -- sampling ---------------------------------------------------------------------------------


def _gamma_one(key, alpha, log_space: bool):
    """One Gamma(alpha) sample (log of it with ``log_space``): JAX's algorithm."""
    dtype = np.dtype(xnp.result_type(alpha))
    one, zero = dtype.type(1), dtype.type(0)
    third = dtype.type(1.0 / 3.0)
    boost_mask = lax.ge(alpha, one)
    alpha_orig = alpha
    alpha = lax.select(boost_mask, alpha, lax.add(alpha, one))
    d = lax.sub(alpha, third)
    # XLA rewrites third / sqrt(d) as third * rsqrt(d); its rsqrt is 1 / sqrt(d) where it
    # does not use the processor's estimate (refined by Newton steps, CPU-dependent bits)
    c = lax.mul(third, lax.div(one, lax.sqrt(d)))

    def accept_cond(st):  # loop while the candidate is rejected
        _, xx, v, u = st
        squeeze = lax.ge(u, fma(dtype.type(-0.0331), lax.mul(xx, xx), one, dtype))
        lhs = log(u, dtype)
        rhs = lax.add(lax.mul(xx, dtype.type(0.5)),
                      lax.mul(d, lax.add(lax.sub(one, v), log(v, dtype))))
        return lax.bitwise_and(squeeze, lax.ge(lhs, rhs))

    def next_v(st):
        k = st[0]
        ks = split(k)
        k, sub = ks[0], ks[1]
        x = _normal_real(sub, (), dtype)
        v = fma(x, c, one, dtype)  # (XLA contracts 1 + x c)
        return k, x, v

    def propose(st):
        ks = split(st[0], 3)
        k, x_key, u_key = ks[0], ks[1], ks[2]
        _, x, v = lax.while_loop(lambda s: lax.le(s[2], zero), next_v,
                                 (x_key, zero, dtype.type(-1)))
        u = _uniform(u_key, (), dtype)
        return k, lax.mul(x, x), lax.mul(lax.mul(v, v), v), u

    ks = split(key)
    key, sub = ks[0], ks[1]
    _, _, v, _ = lax.while_loop(accept_cond, propose, (key, zero, one, dtype.type(2)))
    if log_space:
        u = _uniform(sub, (), dtype)
        log_samples = log1p(lax.neg(u), dtype)  # -exponential
        log_boost = lax.select(lax.bitwise_or(boost_mask, lax.eq(log_samples, zero)), zero,
                               lax.mul(log_samples, lax.div(one, alpha_orig)))
        return lax.add(lax.add(log(d, dtype), log(v, dtype)), log_boost)
    samples = lax.sub(one, _uniform(sub, (), dtype))
    boost = lax.select(boost_mask, one, pow(samples, lax.div(one, alpha_orig), dtype))
    return lax.mul(lax.mul(d, v), boost)


def _sample(key, a, log_space: bool):
    """Samples for every element of ``a`` (keys: a row-major split of ``key``)."""
    from ..vmap import vmap

    shape = shape_of(a)
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return a
    keys = split(key, n)
    flat = lax.reshape(a, (n,))
    out = vmap(lambda k, al: _gamma_one(k, al, log_space))(keys, flat)
    return lax.reshape(out, shape)


def _make_gamma(log_space: bool):
    @custom_jvp
    def sample(key, a):
        return _sample(key, a, log_space)

    @sample.defjvp
    def _jvp(primals, tangents):
        key, a = primals
        _, ta = tangents
        out = sample(key, a)
        x = lax.exp(out) if log_space else out
        if log_space:  # d log x = dx / x, with x = 0 (underflow) read as the smallest float
            tiny = np.finfo(np.dtype(xnp.result_type(out))).tiny
            x = lax.select(lax.eq(x, 0), lax.add(lax.mul(x, 0), tiny), x)
            grad = lax.div(gamma_sample_grad(a, x), x)
        else:
            grad = gamma_sample_grad(a, x)
        return out, lax.mul(ta, grad)

    return sample


_gamma_sample = _make_gamma(False)
_loggamma_sample = _make_gamma(True)


def _gamma(name, key, a, shape, dtype, log_space):
    data, _ = check_key(name, key)
    dtype = float_dtype(name, dtype)
    if shape is None:
        shape = shape_of(a)
    else:
        shape = canonical_shape(name, shape)
        check_shape(name, shape, shape_of(a))
    a = as_dtype(a, dtype)
    if shape_of(a) != tuple(shape):
        a = xnp.broadcast_to(a, shape)
    return (_loggamma_sample if log_space else _gamma_sample)(data, a)


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a) values (unit scale: divide by a rate or multiply by a scale), of
    ``shape`` (default ``a``'s shape). Differentiable in ``a`` (implicit
    reparameterization: the derivative of the sample at a fixed CDF value).

    >>> import numpy as np, xform
    >>> x = xform.random.gamma(xform.random.PRNGKey(0), np.array([0.5, 2.0, 9.0]))
    >>> x.shape, bool((x > 0).all())
    ((3,), True)
    """
    return _gamma("gamma", key, a, shape, dtype, False)


def loggamma(key, a, shape=None, dtype=None):
    """``log`` of Gamma(a) values, accurate for small ``a`` where the samples themselves
    underflow.

    >>> import numpy as np, xform
    >>> float(xform.random.loggamma(xform.random.PRNGKey(0), 1e-3)) < -100
    True
    """
    return _gamma("loggamma", key, a, shape, dtype, True)


def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) values, ``Ga / (Ga + Gb)`` from two log-gamma samples (computed from
    their difference, so small parameters do not lose precision). Differentiable in
    ``a`` and ``b``.

    >>> import numpy as np, xform
    >>> x = xform.random.beta(xform.random.PRNGKey(0), 2.0, 3.0, (5,))
    >>> bool(((x > 0) & (x < 1)).all())
    True
    """
    data, _ = check_key("beta", key)
    dtype = float_dtype("beta", dtype)
    if shape is None:
        shape = broadcast_param_shapes("beta", a, b)
    else:
        shape = canonical_shape("beta", shape)
        check_shape("beta", shape, shape_of(a), shape_of(b))
    a = xnp.broadcast_to(as_dtype(a, dtype), shape)
    b = xnp.broadcast_to(as_dtype(b, dtype), shape)
    ks = split(data)
    log_ga = _loggamma_sample(ks[0], a)
    log_gb = _loggamma_sample(ks[1], b)
    top = lax.max(log_ga, log_gb)
    ga, gb = exp(lax.sub(log_ga, top), dtype), exp(lax.sub(log_gb, top), dtype)
    return lax.div(ga, lax.add(ga, gb))


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) values over the last axis of ``alpha`` (the result has shape
    ``shape + alpha.shape[-1:]``): normalized log-gamma samples (a softmax).
    Differentiable in ``alpha``.

    >>> import numpy as np, xform
    >>> x = xform.random.dirichlet(xform.random.PRNGKey(0), np.array([1.0, 2.0, 3.0]))
    >>> round(float(x.sum()), 12)
    1.0
    """
    data, _ = check_key("dirichlet", key)
    dtype = float_dtype("dirichlet", dtype)
    ashape = shape_of(alpha)
    if len(ashape) < 1:
        raise ValueError(f"xform.random.dirichlet: alpha must have at least one axis, got "
                         f"shape {ashape}")
    if shape is None:
        shape = ashape[:-1]
    else:
        shape = canonical_shape("dirichlet", shape)
        check_shape("dirichlet", shape, ashape[:-1])
    alpha = xnp.broadcast_to(as_dtype(alpha, dtype), tuple(shape) + ashape[-1:])
    log_g = _loggamma_sample(data, alpha)
    top = lax.stop_gradient(xnp.max(log_g, axis=-1, keepdims=True))
    e = exp(lax.sub(log_g, top), dtype)
    total = lax.expand_dims(sequential_sum(e, dtype), (len(shape_of(e)) - 1,))
    return div(e, total, dtype)  # (JAX's softmax, XLA's order)
