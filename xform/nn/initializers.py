"""xform.nn.initializers: JAX's ``jax.nn.initializers``.

An initializer is a function ``init(key, shape, dtype=None) -> array`` of
``xform.random`` keys (``dtype`` defaults to float64, numpy's default; pass
``numpy.float32`` for JAX's default-config values, which are the same bits). The
builders (``glorot_normal()``, ``he_uniform()``, ``normal(stddev)``, ...) return one::

    init = xform.nn.initializers.glorot_normal()
    w = init(xform.random.key(0), (784, 256), numpy.float32)

Fans follow JAX: ``in_axis`` (default -2) and ``out_axis`` (-1) name the input and output
dimensions, ``batch_axis`` dimensions are neither, and every other dimension is a
receptive field that multiplies both fans.
"""
from __future__ import annotations

import math
import operator
from typing import Callable, Sequence

import numpy as np

from .. import numpy as xnp
from .. import random

__all__ = ["constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
           "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "normal",
           "ones", "orthogonal", "truncated_normal", "uniform", "variance_scaling",
           "xavier_normal", "xavier_uniform", "zeros"]

Initializer = Callable[..., object]


def _dtype(dtype) -> np.dtype:
    return np.dtype(np.float64 if dtype is None else dtype)


def _shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(operator.index(d) for d in shape)


def zeros(key, shape, dtype=None):
    """An array of zeros (the key is ignored).

    >>> import xform
    >>> xform.nn.initializers.zeros(xform.random.key(0), (2,))
    array([0., 0.])
    """
    return xnp.zeros(_shape(shape), _dtype(dtype))


def ones(key, shape, dtype=None):
    """An array of ones (the key is ignored).

    >>> import xform
    >>> xform.nn.initializers.ones(xform.random.key(0), (2,))
    array([1., 1.])
    """
    return xnp.ones(_shape(shape), _dtype(dtype))


def constant(value, dtype=None) -> Initializer:
    """An initializer filling arrays with ``value``.

    >>> import xform
    >>> xform.nn.initializers.constant(-7.0)(xform.random.key(0), (2,))
    array([-7., -7.])
    """
    def init(key, shape, dtype=dtype):
        return xnp.full(_shape(shape), value, _dtype(dtype))

    return init


def uniform(scale=1e-2, dtype=None) -> Initializer:
    """An initializer of uniform values in ``[0, scale)``.

    >>> import xform
    >>> w = xform.nn.initializers.uniform(0.5)(xform.random.key(0), (1000,))
    >>> bool((w >= 0).all() and (w < 0.5).all())
    True
    """
    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype)
        return random.uniform(key, _shape(shape), dt) * xnp.asarray(scale, dt)

    return init


def normal(stddev=1e-2, dtype=None) -> Initializer:
    """An initializer of normal values with mean 0 and standard deviation ``stddev``.

    >>> import xform
    >>> w = xform.nn.initializers.normal(2.0)(xform.random.key(0), (20000,))
    >>> round(float(w.std()), 1)
    2.0
    """
    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype)
        return random.normal(key, _shape(shape), dt) * xnp.asarray(stddev, dt)

    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0) -> Initializer:
    """An initializer of ``stddev`` times standard normal values truncated to
    ``(lower, upper)`` (no correction of the standard deviation for the truncation).

    >>> import xform
    >>> w = xform.nn.initializers.truncated_normal(1.0)(xform.random.key(0), (1000,))
    >>> bool((abs(w) < 2).all())
    True
    """
    def init(key, shape, dtype=dtype):
        dt = _dtype(dtype)
        return (random.truncated_normal(key, lower, upper, _shape(shape), dt)
                * xnp.asarray(stddev, dt))

    return init


def _size(shape, axes) -> int:
    if isinstance(axes, (int, np.integer)):
        return shape[axes]
    return math.prod(shape[a] for a in axes)


def _compute_fans(shape: tuple, in_axis, out_axis, batch_axis) -> tuple[float, float]:
    if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
        raise ValueError(f"xform.nn.initializers: cannot compute the input and output sizes "
                         f"of a {len(shape)}-dimensional shape {shape}; pass in_axis and "
                         f"out_axis (or use a shape with at least 2 dimensions).")
    in_size = _size(shape, in_axis)
    out_size = _size(shape, out_axis)
    batch_size = _size(shape, batch_axis)
    receptive_field = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive_field, out_size * receptive_field


def _complex_uniform(key, shape, dtype):
    """Complex values uniform in the unit disk scaled to variance 1."""
    real = np.dtype(np.float32 if dtype == np.complex64 else np.float64)
    k_r, k_theta = random.split(key)
    r = xnp.sqrt(2 * random.uniform(k_r, shape, real))
    theta = 2 * np.pi * random.uniform(k_theta, shape, real)
    return xnp.asarray(r * xnp.exp(1j * theta.astype(dtype)), dtype=dtype)


def _complex_truncated_normal(key, upper, shape, dtype):
    """Complex normal values (variance 1 before truncation) with modulus below ``upper``."""
    real = np.dtype(np.float32 if dtype == np.complex64 else np.float64)
    k_r, k_theta = random.split(key)
    t = (1 - np.exp(-(upper ** 2))) * random.uniform(k_r, shape, real)
    r = xnp.sqrt(-xnp.log1p(-t))
    theta = 2 * np.pi * random.uniform(k_theta, shape, real)
    return xnp.asarray(r * xnp.exp(1j * theta.astype(dtype)), dtype=dtype)


def variance_scaling(scale, mode: str, distribution: str, in_axis: int | Sequence[int] = -2,
                     out_axis: int | Sequence[int] = -1, batch_axis: int | Sequence[int] = (),
                     dtype=None) -> Initializer:
    """An initializer of values with variance ``scale / n``, ``n`` the fan given by
    ``mode`` (``'fan_in'``, ``'fan_out'``, ``'fan_avg'``, ``'fan_geo_avg'``), from
    ``distribution``: ``'truncated_normal'`` (truncated at 2 standard deviations and
    rescaled to the variance), ``'normal'`` or ``'uniform'`` (complex dtypes: a disk).

    >>> import xform
    >>> init = xform.nn.initializers.variance_scaling(2.0, "fan_in", "normal")
    >>> w = init(xform.random.key(0), (200, 300))
    >>> round(float(w.var() * 200), 1)
    2.0
    """
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"xform.nn.initializers.variance_scaling: invalid mode {mode!r}; "
                         f"use 'fan_in', 'fan_out', 'fan_avg' or 'fan_geo_avg'.")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"xform.nn.initializers.variance_scaling: invalid distribution "
                         f"{distribution!r}; use 'truncated_normal', 'normal' or 'uniform'.")

    def init(key, shape, dtype=dtype):
        shape = _shape(shape)
        dt = _dtype(dtype)
        fan_in, fan_out = _compute_fans(shape, in_axis, out_axis, batch_axis)
        denominator = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
                       "fan_geo_avg": (fan_in * fan_out) ** 0.5}[mode]
        variance = xnp.asarray(scale / denominator, dtype=dt)
        complex_ = dt.kind == "c"
        if distribution == "truncated_normal":
            if complex_:
                # the stddev of a complex standard normal truncated at modulus 2
                stddev = xnp.sqrt(variance) / xnp.asarray(.95311164380491208, dt)
                return _complex_truncated_normal(key, 2, shape, dt) * stddev
            # the stddev of a standard normal truncated to (-2, 2)
            stddev = xnp.sqrt(variance) / xnp.asarray(.87962566103423978, dt)
            return random.truncated_normal(key, -2, 2, shape, dt) * stddev
        if distribution == "normal":
            return random.normal(key, shape, dt) * xnp.sqrt(variance)
        if complex_:
            return _complex_uniform(key, shape, dt) * xnp.sqrt(variance)
        return random.uniform(key, shape, dt, -1) * xnp.sqrt(3 * variance)

    return init


def _builder(scale, mode, distribution, name, summary):
    def build(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
              batch_axis: int | Sequence[int] = (), dtype=None) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis,
                                dtype)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f"{summary} (``variance_scaling({scale}, {mode!r}, "
                     f"{distribution!r})``).\n\n"
                     f"    >>> import xform\n"
                     f"    >>> xform.nn.initializers.{name}()(xform.random.key(0), (3, 4)).shape\n"
                     f"    (3, 4)\n")
    return build


glorot_uniform = _builder(1.0, "fan_avg", "uniform", "glorot_uniform",
                          "Glorot/Xavier uniform initializer")
glorot_normal = _builder(1.0, "fan_avg", "truncated_normal", "glorot_normal",
                         "Glorot/Xavier normal initializer")
lecun_uniform = _builder(1.0, "fan_in", "uniform", "lecun_uniform", "LeCun uniform initializer")
lecun_normal = _builder(1.0, "fan_in", "truncated_normal", "lecun_normal",
                        "LeCun normal initializer")
he_uniform = _builder(2.0, "fan_in", "uniform", "he_uniform", "He/Kaiming uniform initializer")
he_normal = _builder(2.0, "fan_in", "truncated_normal", "he_normal",
                     "He/Kaiming normal initializer")
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def orthogonal(scale=1.0, column_axis: int = -1, dtype=None) -> Initializer:
    """An initializer of (semi-)orthogonal matrices (orthonormal along the smaller side)
    times ``scale``, for shapes of at least 2 dimensions (the other dimensions are
    flattened into rows).

    >>> import numpy as np, xform
    >>> w = xform.nn.initializers.orthogonal()(xform.random.key(0), (3, 3))
    >>> bool(np.allclose(w.T @ w, np.eye(3)))
    True
    """
    def init(key, shape, dtype=dtype):
        shape = _shape(shape)
        dt = _dtype(dtype)
        if len(shape) < 2:
            raise ValueError(f"xform.nn.initializers.orthogonal: needs a shape of at least 2 "
                             f"dimensions, got {shape}")
        if 0 in shape:
            return xnp.zeros(shape, dt)
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // n_cols
        q = random.orthogonal(key, n_rows, (), dt, n_cols)
        rest = tuple(np.delete(np.array(shape), column_axis))
        q = xnp.reshape(q, rest + (n_cols,))
        q = xnp.moveaxis(q, -1, column_axis)
        return xnp.asarray(scale, dt) * q

    return init

