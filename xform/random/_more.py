"""More of ``jax.random``: cauchy, logistic, lognormal, pareto, rayleigh, wald, weibull_min,
triangular, maxwell, double_sided_maxwell, generalized_normal, ball, chisquare, f, t,
rademacher, geometric, poisson, binomial, multinomial, clone.

Each follows JAX's algorithm (``jax/_src/random/core.py``) on xform's samplers and keys:
the same transforms of the same uniform/normal/gamma draws, with the same key splits,
so float32 results equal JAX's up to the rounding of the transcendental functions, and
every sampler traces (``jit``, ``vmap`` over keys, loops). Poisson and binomial use
JAX's rejection samplers (``while_loop`` until every element is accepted); Poisson
rates are float32, as JAX's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import lax
from .. import numpy as xnp
from ._common import F32, as_dtype, check_shape, float_dtype, get_dtype, shape_of
from ._common import uniform as _uniform
from ._continuous import exponential, normal, normal_erf_inv
from ._math import div, exp, fma, log, log1p, pow, sequential_sum, tan
from ._discrete import bernoulli
from ._gamma import gamma, loggamma
from ._keys import canonical_shape, check_key, split

__all__ = ["cauchy", "logistic", "lognormal", "pareto", "rayleigh", "wald", "weibull_min",
           "triangular", "maxwell", "double_sided_maxwell", "generalized_normal", "ball",
           "chisquare", "f", "t", "rademacher", "geometric", "poisson", "binomial",
           "multinomial", "clone"]


def _int_dtype(name: str, dtype) -> np.dtype:
    dt = np.dtype(np.int64 if dtype is None else dtype)
    if dt.kind not in "iu":
        raise ValueError(f"xform.random.{name}: dtype must be an integer dtype, got {dt}.")
    return dt


def _param_shape(name: str, shape, *params) -> tuple:
    """JAX's rule: the result has ``shape`` (the parameters must broadcast to it), or by
    default the parameters' broadcast shape."""
    shapes = [shape_of(p) for p in params]
    if shape is None:
        return tuple(np.broadcast_shapes(*shapes)) if shapes else ()
    shape = canonical_shape(name, shape)
    check_shape(name, shape, *shapes)
    return shape


def _reciprocal(p, dtype):
    """``1 / p`` as JAX's samplers compute it: in ``p``'s own float dtype (Python numbers
    are float64, with 64-bit types), then converted to ``dtype``."""
    pdt = get_dtype(p)
    pdt = pdt if pdt.kind == "f" else np.dtype(np.float64)
    return as_dtype(lax.div(pdt.type(1), as_dtype(p, pdt)), dtype)


def _bcast(x, dtype, shape):
    x = as_dtype(x, dtype)
    return x if shape_of(x) == tuple(shape) else xnp.broadcast_to(x, shape)


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy values: ``tan(pi (u - 1/2))`` for uniform ``u`` in [eps, 1).

    >>> import numpy as np, xform
    >>> xform.random.cauchy(xform.random.PRNGKey(0), (3,), np.float32).shape
    (3,)
    """
    data, _ = check_key("cauchy", key)
    dtype = float_dtype("cauchy", dtype)
    shape = canonical_shape("cauchy", shape)
    u = _uniform(data, shape, dtype, np.finfo(dtype).eps, 1.0)
    return tan(lax.mul(dtype.type(np.pi), lax.sub(u, dtype.type(0.5))), dtype)


def logistic(key, shape=(), dtype=None):
    """Standard logistic values ``log(u) - log1p(-u)``.

    >>> import numpy as np, xform
    >>> xform.random.logistic(xform.random.PRNGKey(0), (2,)).shape
    (2,)
    """
    data, _ = check_key("logistic", key)
    dtype = float_dtype("logistic", dtype)
    shape = canonical_shape("logistic", shape)
    u = _uniform(data, shape, dtype, np.finfo(dtype).tiny, 1.0)
    return lax.sub(log(u, dtype), log1p(lax.neg(u), dtype))


_ONE_F32 = np.float32(1)  # JAX's default sigma


def lognormal(key, sigma: Any = _ONE_F32, shape=None, dtype=None):
    """Log-normal values ``exp(sigma z)`` for standard normal ``z``.

    >>> import numpy as np, xform
    >>> bool((xform.random.lognormal(xform.random.PRNGKey(0), 0.5, (4,)) > 0).all())
    True
    """
    data, _ = check_key("lognormal", key)
    dtype = float_dtype("lognormal", dtype)
    shape = _param_shape("lognormal", shape, sigma)
    sigma = as_dtype(sigma, dtype)
    if shape_of(sigma) == tuple(shape):
        return exp(lax.mul(normal(data, shape, dtype), sigma), dtype)
    # XLA reassociates (x * sqrt(2)) * broadcast(sigma) into x * broadcast(sqrt(2) sigma)
    factor = lax.mul(dtype.type(np.sqrt(2)), sigma)
    return exp(lax.mul(normal_erf_inv(data, shape, dtype), _bcast(factor, dtype, shape)), dtype)


def pareto(key, b, shape=None, dtype=None):
    """Pareto values (shape ``b``, scale 1): ``exp(e / b)`` for exponential ``e``.

    >>> import numpy as np, xform
    >>> bool((xform.random.pareto(xform.random.PRNGKey(0), 3.0, (4,)) >= 1).all())
    True
    """
    data, _ = check_key("pareto", key)
    dtype = float_dtype("pareto", dtype)
    shape = _param_shape("pareto", shape, b)
    return exp(div(exponential(data, shape, dtype), as_dtype(b, dtype), dtype), dtype)


def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh values ``scale sqrt(-2 log u)``.

    >>> import numpy as np, xform
    >>> xform.random.rayleigh(xform.random.PRNGKey(0), 2.0, (3,)).shape
    (3,)
    """
    data, _ = check_key("rayleigh", key)
    dtype = float_dtype("rayleigh", dtype)
    shape = _param_shape("rayleigh", shape, scale)
    u = _uniform(data, shape, dtype)
    return lax.mul(_bcast(scale, dtype, shape), lax.sqrt(lax.mul(log(u, dtype), dtype.type(-2))))


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian, unit shape) values with ``mean`` (Michael, Schucany and
    Haas's transformation with one normal and one uniform draw).

    >>> import numpy as np, xform
    >>> bool((xform.random.wald(xform.random.PRNGKey(0), 1.5, (4,)) > 0).all())
    True
    """
    data, _ = check_key("wald", key)
    dtype = float_dtype("wald", dtype)
    shape = _param_shape("wald", shape, mean)
    k1, k2 = split(data)
    mean = _bcast(mean, dtype, shape)
    v = normal(k1, shape, dtype)
    z = _uniform(k2, shape, dtype)
    y = lax.mul(v, v)
    mean_sq = lax.mul(mean, mean)
    # JAX's expression, with the multiply-adds XLA contracts:
    # mean + mean_sq y / 2 - mean / 2 sqrt(4 mean y + mean_sq y**2)
    root = lax.sqrt(fma(lax.mul(dtype.type(4), mean), y, lax.mul(mean_sq, lax.mul(y, y)), dtype))
    half = dtype.type(0.5)  # (XLA multiplies by 1/2 for a division by 2)
    x = fma(lax.neg(lax.mul(mean, half)), root, fma(lax.mul(mean_sq, y), half, mean, dtype), dtype)
    return lax.select(lax.le(z, lax.div(mean, lax.add(mean, x))), x, lax.div(mean_sq, x))


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull values ``scale (-log1p(-u))^(1/concentration)`` (inverse CDF).

    >>> import numpy as np, xform
    >>> xform.random.weibull_min(xform.random.PRNGKey(0), 1.0, 2.0, (3,)).shape
    (3,)
    """
    data, _ = check_key("weibull_min", key)
    dtype = float_dtype("weibull_min", dtype)
    shape = canonical_shape("weibull_min", shape)
    u = _uniform(data, shape, dtype)
    inv = _bcast(_reciprocal(concentration, dtype), dtype, shape)
    return lax.mul(pow(lax.neg(log1p(lax.neg(u), dtype)), inv, dtype), _bcast(scale, dtype, shape))


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular values on ``[left, right]`` with peak at ``mode`` (inverse CDF).

    >>> import numpy as np, xform
    >>> x = xform.random.triangular(xform.random.PRNGKey(0), 0.0, 0.3, 1.0, (5,))
    >>> bool(((x >= 0) & (x <= 1)).all())
    True
    """
    data, _ = check_key("triangular", key)
    dtype = float_dtype("triangular", dtype)
    shape = _param_shape("triangular", shape, left, mode, right)
    left, mode, right = (_bcast(v, dtype, shape) for v in (left, mode, right))
    fc = (mode - left) / (right - left)
    u = _uniform(data, shape, dtype)
    out1 = left + xnp.sqrt(u * (right - left) * (mode - left))
    out2 = right - xnp.sqrt((1 - u) * (right - left) * (right - mode))
    return xnp.where(u < fc, out1, out2)


def maxwell(key, shape=(), dtype=None):
    """One-sided Maxwell values: the length of a 3-d standard normal vector.

    >>> import numpy as np, xform
    >>> bool((xform.random.maxwell(xform.random.PRNGKey(0), (4,)) > 0).all())
    True
    """
    data, _ = check_key("maxwell", key)
    dtype = float_dtype("maxwell", dtype)
    shape = canonical_shape("maxwell", shape)
    z = normal(data, shape + (3,), dtype)
    return lax.sqrt(sequential_sum(None, dtype, squares_of=z))  # (JAX's norm, XLA's order)


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Double-sided Maxwell values ``loc + scale * sign * maxwell``. As in JAX, the
    result's shape is ``shape`` (or, if empty, the parameters' shape) followed by the
    parameters' broadcast shape.

    >>> import numpy as np, xform
    >>> xform.random.double_sided_maxwell(xform.random.PRNGKey(0), 0.0, 1.0, (3,)).shape
    (3,)
    """
    data, _ = check_key("double_sided_maxwell", key)
    dtype = float_dtype("double_sided_maxwell", dtype)
    params = tuple(np.broadcast_shapes(shape_of(loc), shape_of(scale)))
    shape = canonical_shape("double_sided_maxwell", shape)
    if not shape:
        shape = params
    shape = shape + params
    k_maxwell, k_sign = split(data)
    signed = lax.mul(rademacher(k_sign, shape, dtype), maxwell(k_maxwell, shape, dtype))
    return fma(signed, _bcast(scale, dtype, shape), _bcast(loc, dtype, shape), dtype)


def generalized_normal(key, p, shape=(), dtype=None):
    """Generalized normal values (density proportional to ``exp(-|x|^p)``):
    ``sign * Gamma(1/p)^(1/p)``.

    >>> import numpy as np, xform
    >>> xform.random.generalized_normal(xform.random.PRNGKey(0), 1.5, (3,)).shape
    (3,)
    """
    data, _ = check_key("generalized_normal", key)
    dtype = float_dtype("generalized_normal", dtype)
    shape = canonical_shape("generalized_normal", shape)
    k_gamma, k_sign = split(data)
    inv = _reciprocal(p, dtype)
    g = gamma(k_gamma, inv, shape, dtype)
    return lax.mul(rademacher(k_sign, shape, dtype), pow(g, _bcast(inv, dtype, shape), dtype))


def ball(key, d: int, p: float = 2, shape=(), dtype=None):
    """Uniform points in the unit ``p``-norm ball of dimension ``d``: shape
    ``shape + (d,)`` (Barthe et al. 2005).

    >>> import numpy as np, xform
    >>> x = xform.random.ball(xform.random.PRNGKey(0), 3, shape=(5,))
    >>> x.shape, bool((np.linalg.norm(x, axis=-1) <= 1).all())
    ((5, 3), True)
    """
    data, _ = check_key("ball", key)
    dtype = float_dtype("ball", dtype)
    shape = canonical_shape("ball", shape)
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0:
        raise TypeError(f"xform.random.ball: d must be a non-negative int, got {d!r}.")
    k1, k2 = split(data)
    g = generalized_normal(k1, p, shape + (int(d),), dtype)
    e = exponential(k2, shape, dtype)
    powers = pow(xnp.abs(g), _bcast(p, dtype, shape + (int(d),)), dtype)
    total = lax.add(sequential_sum(powers, dtype), e)
    # JAX's g / total**(1/p), which XLA simplifies to g * total**(-1/p)
    scale = pow(total, _bcast(lax.neg(_reciprocal(p, dtype)), dtype, shape), dtype)
    return lax.mul(g, lax.expand_dims(scale, (len(shape),)))


def chisquare(key, df, shape=None, dtype=None):
    """Chi-square values with ``df`` degrees of freedom: ``2 Gamma(df / 2)`` (through
    the log-gamma sampler, as JAX). Differentiable in ``df``.

    >>> import numpy as np, xform
    >>> bool((xform.random.chisquare(xform.random.PRNGKey(0), 3.0, (4,)) > 0).all())
    True
    """
    data, _ = check_key("chisquare", key)
    dtype = float_dtype("chisquare", dtype)
    shape = _param_shape("chisquare", shape, df)
    half = as_dtype(df, dtype) / 2
    return lax.mul(exp(loggamma(data, half, shape, dtype), dtype), dtype.type(2))


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F-distributed values: ``(chi2(dfnum) / dfnum) / (chi2(dfden) / dfden)``.

    >>> import numpy as np, xform
    >>> bool((xform.random.f(xform.random.PRNGKey(0), 3.0, 5.0, (4,)) > 0).all())
    True
    """
    data, _ = check_key("f", key)
    dtype = float_dtype("f", dtype)
    shape = _param_shape("f", shape, dfnum, dfden)
    dfnum, dfden = as_dtype(dfnum, dtype), as_dtype(dfden, dtype)
    k_den, k_num = split(data)
    num = chisquare(k_num, dfnum, shape, dtype)
    den = chisquare(k_den, dfden, shape, dtype)
    # XLA simplifies JAX's (num / dfnum) / (den / dfden) to (num dfden) / (dfnum den)
    return lax.div(lax.mul(num, dfden), lax.mul(dfnum, den))


def t(key, df, shape=None, dtype=None):
    """Student's t values with ``df`` degrees of freedom: ``z sqrt((df/2) / Gamma(df/2))``.

    >>> import numpy as np, xform
    >>> xform.random.t(xform.random.PRNGKey(0), 4.0, (3,)).shape
    (3,)
    """
    data, _ = check_key("t", key)
    dtype = float_dtype("t", dtype)
    shape = _param_shape("t", shape, df)
    k_n, k_g = split(data)
    z = normal(k_n, shape, dtype)
    half = as_dtype(df, dtype) / 2
    return z * xnp.sqrt(half / gamma(k_g, half, shape, dtype))


def rademacher(key, shape=(), dtype=None):
    """Values -1 and +1 with equal probability.

    >>> import numpy as np, xform
    >>> sorted(set(xform.random.rademacher(xform.random.PRNGKey(0), (20,)).tolist()))
    [-1, 1]
    """
    data, _ = check_key("rademacher", key)
    dt = np.dtype(np.int64 if dtype is None else dtype)
    shape = canonical_shape("rademacher", shape)
    b = xnp.asarray(bernoulli(data, 0.5, shape), dtype=dt)
    return xnp.asarray(2 * b - 1, dtype=dt)


def geometric(key, p, shape=None, dtype=None):
    """Geometric values (the number of trials up to and including the first success,
    probability ``p``): ``floor(log(u) / log1p(-p)) + 1``.

    >>> import numpy as np, xform
    >>> bool((xform.random.geometric(xform.random.PRNGKey(0), 0.3, (5,)) >= 1).all())
    True
    """
    data, _ = check_key("geometric", key)
    dt = _int_dtype("geometric", dtype)
    shape = _param_shape("geometric", shape, p)
    p = xnp.asarray(p)
    fdt = p.dtype if p.dtype.kind == "f" else np.dtype(np.float64)
    u = _uniform(data, shape, fdt)
    u = xnp.where(u == 0, xnp.ones((), fdt), u)  # JAX's guard: u = 0 would give inf
    g = xnp.floor(log(u, fdt) / xnp.broadcast_to(log1p(-as_dtype(p, fdt), fdt), shape)) + 1
    return xnp.asarray(g, dtype=dt)


# -- Poisson ---------------------------------------------------------------------------------


def _poisson_knuth(data, lam, shape, dtype):
    """Knuth's multiplication method (small rates): count uniforms until their
    product drops below exp(-lam)."""
    def cond(c):
        return xnp.any(c[3] > -lam)

    def body(c):
        i, k, rng, log_prod = c
        rng, sub = split(rng)
        k = xnp.where(log_prod > -lam, k + 1, k)
        return i + 1, k, rng, log_prod + log(_uniform(sub, shape, F32), F32)

    init = (np.int64(0), xnp.zeros(shape, dtype), data, xnp.zeros(shape, F32))
    k = lax.while_loop(cond, body, init)[1]
    return xnp.asarray(k - 1, dtype=dtype)


def _poisson_rejection(data, lam, shape, dtype):
    """Hormann's transformed rejection (PTRS, large rates)."""
    log_lam = xnp.log(lam)
    b = 0.931 + 2.53 * xnp.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)

    def cond(c):
        return xnp.any(~c[2])

    def body(c):
        i, k_out, accepted, rng = c
        keys = split(rng, 3)
        rng, k0, k1 = keys[0], keys[1], keys[2]
        u = _uniform(k0, shape, F32) - 0.5
        v = _uniform(k1, shape, F32)
        us = 0.5 - xnp.abs(u)
        k = xnp.floor((2 * a / us + b) * u + lam + 0.43)
        s = xnp.log(v * inv_alpha / (a / (us * us) + b))
        tt = -lam + k * log_lam - lax.lgamma(k + 1)
        accept1 = (us >= 0.07) & (v <= v_r)
        reject = (k < 0) | ((us < 0.013) & (v > us))
        accept = accept1 | (~reject & (s <= tt))
        return i + 1, xnp.where(accept, k, k_out), accepted | accept, rng

    init = (np.int64(0), xnp.full(shape, -1, F32), xnp.zeros(shape, bool), data)
    return xnp.asarray(lax.while_loop(cond, body, init)[1], dtype=dtype)


def poisson(key, lam, shape=None, dtype=None):
    """Poisson values with rate ``lam`` (float32, as JAX): Knuth's method for
    ``lam < 10``, transformed rejection above (numpy's and TensorFlow's choice).

    >>> import numpy as np, xform
    >>> x = xform.random.poisson(xform.random.PRNGKey(0), np.array([0.0, 3.0, 50.0]))
    >>> x.dtype, int(x[0])
    (dtype('int64'), 0)
    """
    data, _ = check_key("poisson", key)
    dt = _int_dtype("poisson", dtype)
    shape = _param_shape("poisson", shape, lam)
    lam = _bcast(lam, F32, shape)
    with np.errstate(all="ignore"):  # eager evaluation of the branch each lane discards
        return _poisson(data, lam, shape, dt)


def _poisson(data, lam, shape, dt):
    use_knuth = xnp.isnan(lam) | (lam < 10)
    lam_knuth = xnp.where(use_knuth, lam, xnp.zeros((), F32))
    lam_rej = xnp.where(use_knuth, xnp.full((), 1e5, F32), lam)
    out = xnp.where(use_knuth, _poisson_knuth(data, lam_knuth, shape, dt),
                    _poisson_rejection(data, lam_rej, shape, dt))
    return xnp.where(lam == 0, xnp.zeros((), dt), out)


# -- binomial, multinomial -------------------------------------------------------------------

_STIRLING_TAIL = np.array([0.0810614667953272, 0.0413406959554092, 0.0276779256849983,
                           0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
                           0.0118967099458917, 0.0104112652619720, 0.00925546218271273,
                           0.00833056343336287])


def _stirling_tail(k):
    """log(k!) minus its Stirling approximation: tabulated for k <= 9, series above."""
    table = xnp.asarray(_STIRLING_TAIL, dtype=k.dtype)
    small = k <= 9
    kc = xnp.clip(k, 0.0, 9.0)
    kp1sq = (kc + 1) * (kc + 1)
    approx = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (kc + 1)
    return xnp.where(small, xnp.take(table, xnp.asarray(xnp.floor(kc), dtype=np.int64)), approx)


def _binomial_inversion(data, count, prob, shape):
    log1mp = xnp.log1p(-prob)

    def cond(c):
        return xnp.any(c[2] <= count)

    def body(c):
        i, num_geom, geom_sum, rng = c
        ks = split(rng)
        sub, rng = ks[0], ks[1]
        num_geom = xnp.where(geom_sum <= count, num_geom + 1, num_geom)
        geom = xnp.ceil(xnp.log(_uniform(sub, shape, prob.dtype)) / log1mp)
        return i + 1, num_geom, geom_sum + geom, rng

    zeros = xnp.zeros(shape, prob.dtype)
    return lax.while_loop(cond, body, (np.int64(0), zeros, zeros, data))[1] - 1


def _btrs(data, count, prob, shape):
    """Hormann's BTRS transformed rejection (large ``n p``)."""
    stddev = xnp.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c0 = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = xnp.floor((count + 1) * prob)

    def cond(c):
        return xnp.any(~c[2])

    def body(c):
        i, k_out, accepted, rng = c
        keys = split(rng, 3)
        rng, k0, k1 = keys[0], keys[1], keys[2]
        u = _uniform(k0, shape, prob.dtype) - 0.5
        v = _uniform(k1, shape, prob.dtype)
        us = 0.5 - xnp.abs(u)
        accept1 = (us >= 0.07) & (v <= v_r)
        k = xnp.floor((2 * a / us + b) * u + c0)
        reject = (k < 0) | (k > count)
        v = xnp.log(v * alpha / (a / (us * us) + b))
        ub = ((m + 0.5) * xnp.log((m + 1) / (r * (count - m + 1)))
              + (count + 1) * xnp.log((count - m + 1) / (count - k + 1))
              + (k + 0.5) * xnp.log(r * (count - k + 1) / (k + 1))
              + _stirling_tail(m) + _stirling_tail(count - m)
              - _stirling_tail(k) - _stirling_tail(count - k))
        accept = accept1 | (~reject & (v <= ub))
        return i + 1, xnp.where(accept, k, k_out), accepted | accept, rng

    init = (np.int64(0), xnp.full(shape, -1, prob.dtype), xnp.zeros(shape, bool), data)
    return lax.while_loop(cond, body, init)[1]


def binomial(key, n, p, shape=None, dtype=None):
    """Binomial values (``n`` trials of probability ``p``; float results, as JAX):
    inversion for ``n min(p, 1-p) <= 10``, BTRS rejection above. NaN for a NaN or
    negative ``n`` or an invalid ``p``; ``inf`` for infinite ``n``.

    >>> import numpy as np, xform
    >>> x = xform.random.binomial(xform.random.PRNGKey(0), 20.0, np.array([0.0, 0.5, 1.0]))
    >>> x[0], x[2]
    (np.float64(0.0), np.float64(20.0))
    """
    data, _ = check_key("binomial", key)
    dtype = float_dtype("binomial", dtype)
    shape = _param_shape("binomial", shape, n, p)
    prob = xnp.asarray(p)
    fdt = prob.dtype if prob.dtype.kind == "f" else np.dtype(np.float64)
    prob = _bcast(prob, fdt, shape)
    count = _bcast(n, fdt, shape)
    with np.errstate(all="ignore"):  # eager evaluation of the branch each lane discards
        return _binomial(data, count, prob, shape, dtype, fdt)


def _binomial(data, count, prob, shape, dtype, fdt):
    p_lt_half = prob < 0.5
    q = xnp.where(p_lt_half, prob, 1.0 - prob)
    count_bad = xnp.isnan(count) | (count < 0.0)
    count_inf = xnp.isinf(count)
    q_nan, q_neg = xnp.isnan(q), q < 0.0
    q = xnp.where(q_nan | q_neg, xnp.full((), 0.01, fdt), q)
    use_inv = count_bad | (count * q <= 10.0)
    count = xnp.floor(count)
    count_inv = xnp.where(use_inv, count, xnp.zeros((), fdt))
    count_btrs = xnp.where(use_inv, xnp.full((), 1e4, fdt), count)
    q_btrs = xnp.where(use_inv, xnp.full((), 0.5, fdt), q)
    samples = xnp.where(use_inv, _binomial_inversion(data, count_inv, q, shape),
                        _btrs(data, count_btrs, q_btrs, shape))
    samples = xnp.asarray(samples, dtype=dtype)
    invalid = q_neg | q_nan | count_bad
    samples = xnp.where(invalid, xnp.full((), np.nan, dtype), samples)
    samples = xnp.where(count_inf & ~invalid, xnp.full((), np.inf, dtype), samples)
    keep = p_lt_half | count_bad | q_nan | count_inf
    return xnp.where(keep, samples, xnp.asarray(count, dtype=dtype) - samples)


def multinomial(key, n, p, *, shape=None, dtype=None, unroll: int | bool = 1):
    """Multinomial counts of ``n`` trials over the outcomes on ``p``'s last axis (one
    binomial per outcome, on what the earlier ones left), of ``shape`` (the whole result
    shape, outcomes last, to which ``p`` broadcasts; default ``p.shape``); float results,
    as JAX.

    >>> import numpy as np, xform
    >>> c = xform.random.multinomial(xform.random.PRNGKey(0), 10.0, np.array([0.2, 0.3, 0.5]))
    >>> float(c.sum())
    10.0
    """
    data, _ = check_key("multinomial", key)
    dtype = float_dtype("multinomial", dtype)
    p = xnp.asarray(p)
    fdt = xnp.result_type(xnp.asarray(n), p)
    if fdt.kind != "f":
        fdt = np.dtype(np.float64)
    p = xnp.asarray(p, dtype=fdt)
    shape = tuple(p.shape) if shape is None else canonical_shape("multinomial", shape)
    if not shape:
        raise ValueError("xform.random.multinomial: the result needs an outcome axis (the "
                         "last one); got shape ().")
    check_shape("multinomial", shape, tuple(p.shape))
    n = xnp.broadcast_to(xnp.asarray(n, dtype=fdt), shape[:-1])
    p = xnp.broadcast_to(p, shape)
    pm = xnp.moveaxis(p, -1, 0)
    remaining = xnp.flip(xnp.cumsum(xnp.flip(pm, 0), axis=0), 0)
    ratios = pm / xnp.where(remaining == 0, xnp.ones((), fdt), remaining)
    keys = split(data, pm.shape[0])

    def step(remainder, ratio_key):
        ratio, k = ratio_key
        count = binomial(k, remainder, xnp.clip(ratio, 0, 1), dtype=fdt)
        return remainder - count, count

    with np.errstate(all="ignore"):  # (see binomial)
        _, counts = lax.scan(step, n, (ratios, keys), unroll=unroll)
    return xnp.asarray(xnp.moveaxis(counts, 0, -1), dtype=dtype)


def clone(key):
    """The key itself (JAX's ``clone`` matters only to its key-reuse checker).

    >>> import xform
    >>> k = xform.random.key(0)
    >>> xform.random.clone(k) is k
    True
    """
    check_key("clone", key)
    return key
