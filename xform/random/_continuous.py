"""Continuous samplers built on uniform floats: uniform, normal, truncated_normal,
exponential, laplace, gumbel (JAX's algorithms, value for value; the functions they apply
are rounded as JAX's, ``_math.py``)."""
from __future__ import annotations

import math

import numpy as np

from .. import lax
from ..core.trace import Tracer
from .. import numpy as xnp
from ..lax import random_bits as rb
from ._common import (F32, F64, as_dtype, broadcast_param_shapes, check_shape, float_dtype,
                      shape_of, uniform as _uniform)
from ._keys import canonical_shape, check_key, split
from ._math import erf, erf_inv, log, log1p


# -- uniform ----------------------------------------------------------------------------------


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform values in ``[minval, maxval)`` of ``shape`` and a float ``dtype`` (default
    float64). The bits are JAX's: the same key gives the same values as
    ``jax.random.uniform`` with the same dtype.

    >>> import numpy as np, xform
    >>> xform.random.uniform(xform.random.PRNGKey(0), (3,), np.float32)
    array([0.947667  , 0.9785799 , 0.33229148], dtype=float32)
    """
    data, _ = check_key("uniform", key)
    dtype = float_dtype("uniform", dtype)
    shape = canonical_shape("uniform", shape)
    check_shape("uniform", shape, shape_of(minval), shape_of(maxval))
    return _uniform(data, shape, dtype, minval, maxval)


# -- normal -----------------------------------------------------------------------------------


def normal_erf_inv(data, shape, dtype):
    """``erf_inv(u)`` for uniform ``u`` in (-1, 1) (JAX's lower bound nextafter(-1, 0)
    keeps it finite): the normal values before their factor sqrt(2)."""
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    return erf_inv(_uniform(data, shape, dtype, lo, 1.0), dtype)


def _normal_real(data, shape, dtype):
    return lax.mul(dtype.type(math.sqrt(2)), normal_erf_inv(data, shape, dtype))


def normal(key, shape=(), dtype=None):
    """Standard normal values of ``shape`` and a float or complex ``dtype`` (default
    float64): ``sqrt(2) erf_inv(u)`` for uniform ``u`` in (-1, 1), JAX's algorithm, with
    float32 (and float16) values bit for bit JAX's. Complex values have independent real
    and imaginary parts of variance 1/2 each.

    >>> import numpy as np, xform
    >>> xform.random.normal(xform.random.PRNGKey(0), (3,), np.float32)
    array([ 1.6226422 ,  2.0252647 , -0.43359444], dtype=float32)
    """
    data, _ = check_key("normal", key)
    dtype = float_dtype("normal", dtype, complex_ok=True)
    shape = canonical_shape("normal", shape)
    if dtype.kind == "c":
        real = np.dtype(np.float32 if dtype == np.complex64 else np.float64)
        k_re, k_im = split(data)
        inv = real.type(1 / math.sqrt(2))
        re = lax.mul(_normal_real(k_re, shape, real), inv)
        im = lax.mul(_normal_real(k_im, shape, real), inv)
        return lax.complex(re, im)
    return _normal_real(data, shape, dtype)


# -- truncated normal ------------------------------------------------------------------------


def _next_float(x, up: bool, dtype):
    """The neighbouring float of ``x`` towards +inf (``up``) or -inf (numpy's nextafter;
    for traced values computed as ``x +- |x| 2**-p (1 + 2**-20)`` rounded once, which is
    the neighbour for every finite ``x``; infinities stay)."""
    if not isinstance(x, Tracer):
        return np.nextafter(np.asarray(x, dtype), np.array(np.inf if up else -np.inf, dtype))
    f = F64
    info = np.finfo(dtype)
    xd = lax.convert_element_type(x, f)
    step = lax.max(lax.mul(lax.abs(xd), f.type(2.0 ** -(info.nmant + 1) * (1 + 2.0 ** -20))),
                   f.type(float(info.smallest_subnormal) * 0.75))
    moved = lax.convert_element_type(lax.add(xd, step) if up else lax.sub(xd, step), dtype)
    return lax.select(lax.is_finite(x), moved, x)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal values conditioned on ``lower < x < upper`` (bounds broadcast to
    ``shape``; by default the result has their broadcast shape): ``sqrt(2) erf_inv(u)``
    for ``u`` uniform between ``erf(lower/sqrt(2))`` and ``erf(upper/sqrt(2))``, clipped
    into the open interval. Differentiable in the bounds (the derivative of the
    inverse-CDF map).

    >>> import numpy as np, xform
    >>> x = xform.random.truncated_normal(xform.random.PRNGKey(0), -1.0, 1.0, (1000,))
    >>> bool(x.min() > -1 and x.max() < 1)
    True
    """
    data, _ = check_key("truncated_normal", key)
    dtype = float_dtype("truncated_normal", dtype)
    if shape is None:
        shape = broadcast_param_shapes("truncated_normal", lower, upper)
    else:
        shape = canonical_shape("truncated_normal", shape)
        check_shape("truncated_normal", shape, shape_of(lower), shape_of(upper))
    sqrt2 = dtype.type(math.sqrt(2))
    lower = as_dtype(lower, dtype)
    upper = as_dtype(upper, dtype)
    # XLA turns the division by the constant sqrt(2) into a product with its reciprocal
    inv_sqrt2 = dtype.type(1) / sqrt2
    a = erf(lax.mul(lower, inv_sqrt2), dtype)
    b = erf(lax.mul(upper, inv_sqrt2), dtype)
    u = _uniform(data, shape, dtype, a, b)
    out = lax.mul(sqrt2, erf_inv(u, dtype))
    lo = _next_float(lax.stop_gradient(lower), True, dtype)
    hi = _next_float(lax.stop_gradient(upper), False, dtype)
    return lax.min(lax.max(out, lo), hi)


# -- exponential, laplace, gumbel ------------------------------------------------------------


def exponential(key, shape=(), dtype=None):
    """Exponential values (rate 1): ``-log1p(-u)`` for uniform ``u`` in [0, 1).

    >>> import numpy as np, xform
    >>> x = xform.random.exponential(xform.random.PRNGKey(0), (4,), np.float32)
    >>> bool((x >= 0).all())
    True
    """
    data, _ = check_key("exponential", key)
    dtype = float_dtype("exponential", dtype)
    shape = canonical_shape("exponential", shape)
    u = _uniform(data, shape, dtype)
    return lax.neg(log1p(lax.neg(u), dtype))


def laplace(key, shape=(), dtype=None):
    """Laplace values (location 0, scale 1): ``sign(u) log1p(-|u|)`` for uniform ``u`` in
    (-1, 1).

    >>> import numpy as np, xform
    >>> xform.random.laplace(xform.random.PRNGKey(0), (2,), np.float32).shape
    (2,)
    """
    data, _ = check_key("laplace", key)
    dtype = float_dtype("laplace", dtype)
    shape = canonical_shape("laplace", shape)
    lo = dtype.type(-1) + dtype.type(np.finfo(dtype).epsneg)
    u = _uniform(data, shape, dtype, lo, 1.0)
    return lax.mul(lax.sign(u), log1p(lax.neg(lax.abs(u)), dtype))


_MODES = ("low", "high", "highest")


def _check_mode(name, mode):
    if mode is None:
        return "low"  # (JAX's default, unless its use_high_dynamic_range_gumbel flag is set)
    if mode not in _MODES:
        raise ValueError(f"xform.random.{name}: mode must be one of {_MODES}, got {mode!r}")
    return mode


def gumbel(key, shape=(), dtype=None, mode=None):
    """Standard Gumbel values: ``-log(-log(u))`` for uniform ``u`` in [tiny, 1)
    (``mode='low'``, the default). ``mode='high'`` draws two uniforms per value, for
    values down to ~1e-16 away from 0 and 1 (float32: Gumbel values up to ~32 instead of
    ~16); ``mode='highest'`` (float32; 'high' for other dtypes) makes a float32 from 64
    random bits, the full float32 range. JAX's three modes, bit for bit.

    >>> import numpy as np, xform
    >>> xform.random.gumbel(xform.random.PRNGKey(0), (2,), np.float32).dtype
    dtype('float32')
    >>> x = xform.random.gumbel(xform.random.PRNGKey(0), (1000,), np.float32, mode="highest")
    >>> bool(abs(x.mean() - 0.5772) < 0.1)
    True
    """
    data, _ = check_key("gumbel", key)
    dtype = float_dtype("gumbel", dtype)
    shape = canonical_shape("gumbel", shape)
    return gumbel_from_key(data, shape, dtype, _check_mode("gumbel", mode))


# 2**-(k + 24) for k leading zero bits (k = 0..64) of a 64-bit fixed-point number
_SCALE_F32 = np.ldexp(np.float32(1), -(np.arange(65) + 24)).astype(np.float32)


def _float32_from_64_bits(hi, lo):
    """The float32 nearest below the 64-bit fixed-point number ``(hi, lo) 2**-64`` in
    (0, 1) (2**-65 for 0): the leading 24 significant bits (JAX's ``_safe_int_to_float``,
    which assembles the exponent and mantissa bits; here the same value by exact
    arithmetic, ``(2**23 + mantissa) 2**-(24 + leading zeros)``)."""
    u32 = np.uint32
    hiclz, loclz = lax.clz(hi), lax.clz(lo)
    hi_empty = lax.eq(hiclz, u32(32))
    top = lax.bitwise_or(
        lax.shift_left(hi, hiclz),
        lax.select(hi_empty, lax.shift_left(lo, loclz),
                   lax.shift_right_logical(lo, lax.sub(u32(32), hiclz))))
    mantissa = lax.bitwise_and(lax.shift_right_logical(top, u32(8)), u32((1 << 23) - 1))
    zeros = lax.select(hi_empty, lax.add(u32(32), loclz), hiclz)
    scale = xnp.asarray(_SCALE_F32)[lax.convert_element_type(zeros, np.int32)]
    significand = lax.convert_element_type(lax.add(mantissa, u32(1 << 23)), F32)
    return lax.mul(significand, scale)


def _gumbel_highest_f32(data, shape):
    """JAX's mode='highest' for float32: ``b`` = 64 random bits as a fixed-point number in
    [0, 1); below 1/2, ``-log(-log1p(-b))``, else ``-log(-log(1 - b))`` with ``1 - b``
    exact (the 64-bit two's complement), each float32 from 64 bits."""
    u32 = np.uint32
    bits = rb.threefry_random_bits(data, 32, (2,) + tuple(shape))
    hi = lax.index_in_dim(bits, 0, 0, keepdims=False)
    lo = lax.index_in_dim(bits, 1, 0, keepdims=False)
    neg_hi, neg_lo = lax.bitwise_not(hi), lax.bitwise_not(lo)
    carry = lax.convert_element_type(lax.eq(neg_lo, u32(0xFFFFFFFF)), np.uint32)
    neg_hi, neg_lo = lax.add(neg_hi, carry), lax.add(neg_lo, u32(1))
    flip = lax.lt(hi, u32(1 << 31))
    x = _float32_from_64_bits(lax.select(flip, hi, neg_hi), lax.select(flip, lo, neg_lo))
    low_half = lax.neg(log(lax.neg(log1p(lax.neg(x), F32)), F32))
    high_half = lax.neg(log(lax.neg(log(x, F32)), F32))
    return lax.select(flip, low_half, high_half)


def gumbel_from_key(data, shape, dtype, mode):
    info = np.finfo(dtype)
    if mode == "highest" and dtype == F32:
        return _gumbel_highest_f32(data, shape)
    if mode in ("high", "highest"):
        both = _uniform(data, (2,) + tuple(shape), dtype)
        high = lax.index_in_dim(both, 0, 0, keepdims=False)
        low = lax.index_in_dim(both, 1, 0, keepdims=False)
        filled = lax.add(lax.add(high, lax.mul(dtype.type(2.0 ** -info.nmant), low)),
                         dtype.type(info.tiny))
        x = lax.select(lax.ge(high, dtype.type(0.5)), high, filled)
        return lax.neg(log(lax.neg(log1p(lax.neg(x), dtype)), dtype))
    u = _uniform(data, shape, dtype, dtype.type(info.tiny), 1.0)
    return lax.neg(log(lax.neg(log(u, dtype)), dtype))
