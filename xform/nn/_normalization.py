"""Normalizing functions: softmax, log_softmax, logsumexp, standardize, one_hot.

Every exponential is of ``x - max(x)`` (at most 0), so large logits neither overflow
nor lose the small probabilities; softmax's derivative is its closed form
``y * (t - sum(y t))`` (a custom JVP), not the derivative of the division.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import lax
from .. import numpy as xnp
from ..core.axes import normalize_axes, normalize_axis
from ..lax.custom_derivatives import custom_jvp
from ._activations import _float


def _axes(axis, ndim: int, name: str) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    return tuple(sorted(normalize_axes(tuple(axis), ndim, f"xform.nn.{name}")))


def _mask(where, x, name):
    if where is None:
        return None
    m = xnp.asarray(where)
    if m.dtype != np.bool_:
        raise TypeError(f"xform.nn.{name}: where must be a boolean array, got {m.dtype}")
    return xnp.broadcast_to(m, x.shape)


def _masked(x, mask, fill):
    return x if mask is None else xnp.where(mask, x, xnp.full((), fill, x.dtype))


def _softmax_value(x, mask, axis):
    xm = _masked(x, mask, -np.inf)
    top = xnp.max(xm, axis=axis, keepdims=True)
    e = xnp.exp(xm - top)
    y = e / xnp.sum(e, axis=axis, keepdims=True)
    return y if mask is None else xnp.where(mask, y, xnp.zeros((), y.dtype))


def _softmax(x, axis):
    return _softmax_value(x, None, axis)


_softmax = custom_jvp(_softmax, nondiff_argnums=(1,))


@_softmax.defjvp
def _softmax_jvp(axis, primals, tangents):
    (x,), (t,) = primals, tangents
    y = _softmax(x, axis)
    return y, y * (t - xnp.sum(y * t, axis=axis, keepdims=True))


def _softmax_masked(x, mask, axis):
    return _softmax_value(x, mask, axis)


_softmax_masked = custom_jvp(_softmax_masked, nondiff_argnums=(2,))


@_softmax_masked.defjvp
def _softmax_masked_jvp(axis, primals, tangents):
    (x, mask), (t, _) = primals, tangents
    y = _softmax_masked(x, mask, axis)
    t = xnp.where(mask, t, xnp.zeros((), t.dtype))
    return y, y * (t - xnp.sum(y * t, axis=axis, keepdims=True))


def softmax(x, axis=-1, where=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``axis`` (an int, a tuple, or None for all
    axes); entries excluded by ``where`` get 0. Stable for large logits, with the
    closed-form derivative ``y (t - sum(y t))``.

    >>> import numpy as np, xform
    >>> xform.nn.softmax(np.array([1000.0, 1000.0, -1000.0]))
    array([0.5, 0.5, 0. ])
    """
    x = _float(x, "softmax")
    axes = _axes(axis, x.ndim, "softmax")
    mask = _mask(where, x, "softmax")
    if mask is None:
        return _softmax(x, axes)
    return _softmax_masked(x, mask, axes)


def log_softmax(x, axis=-1, where=None):
    """``x_i - log(sum_j exp(x_j))`` along ``axis``; entries excluded by ``where`` get
    ``-inf``. Stable for large logits (no softmax is formed).

    >>> import numpy as np, xform
    >>> xform.nn.log_softmax(np.array([1000.0, 0.0]))
    array([    0., -1000.])
    """
    x = _float(x, "log_softmax")
    axes = _axes(axis, x.ndim, "log_softmax")
    mask = _mask(where, x, "log_softmax")
    xm = _masked(x, mask, -np.inf)
    shifted = xm - lax.stop_gradient(xnp.max(xm, axis=axes, keepdims=True))
    out = shifted - xnp.log(xnp.sum(xnp.exp(shifted), axis=axes, keepdims=True))
    return out if mask is None else xnp.where(mask, out, xnp.full((), -np.inf, out.dtype))


def logsumexp(a, axis=None, b=None, keepdims: bool = False, return_sign: bool = False,
              where=None):
    """``log(sum(b * exp(a)))`` over ``axis`` (scipy's and JAX's ``logsumexp``), computed
    as ``max + log(sum(b exp(a - max)))``. With ``return_sign`` returns
    ``(log|sum|, sign(sum))``; otherwise a negative sum gives NaN.

    >>> import numpy as np, xform
    >>> float(xform.nn.logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    """
    a = _float(a, "logsumexp")
    if b is not None:
        b = xnp.asarray(b)
        a, b = xnp.broadcast_arrays(a, b)
        if b.dtype.kind not in "fc":
            b = xnp.asarray(b, dtype=a.dtype)
    axes = _axes(axis, a.ndim, "logsumexp")
    mask = _mask(where, a, "logsumexp")
    am = _masked(a, mask, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        top = xnp.max(am, axis=axes, keepdims=True)
        top = lax.stop_gradient(xnp.where(xnp.isfinite(top), top, xnp.zeros((), top.dtype)))
        e = xnp.exp(am - top)
        if b is not None:
            e = e * b
        if mask is not None:
            e = xnp.where(mask, e, xnp.zeros((), e.dtype))
        s = xnp.sum(e, axis=axes, keepdims=True)
        sign = xnp.sign(s)
        out = xnp.log(xnp.abs(s)) + top
    if not keepdims:
        out = xnp.squeeze(out, axis=axes)
        sign = xnp.squeeze(sign, axis=axes)
    if return_sign:
        return out, sign
    if b is not None:
        out = xnp.where(sign < 0, xnp.full((), np.nan, out.dtype), out)
    return out


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *,
                algorithm: str = "fast"):
    """``(x - mean) / sqrt(variance + epsilon)`` with the mean and variance along
    ``axis`` (of the entries selected by ``where``) unless given. ``algorithm='fast'``
    (JAX's default) takes the variance as ``mean(x^2) - mean(x)^2`` clipped at 0;
    ``'stable'`` as ``mean((x - mean)^2)``.

    >>> import numpy as np, xform
    >>> xform.nn.standardize(np.array([1.0, 2.0, 3.0]), epsilon=0.0)
    array([-1.22474487,  0.        ,  1.22474487])
    """
    if algorithm not in ("fast", "stable"):
        raise ValueError(f"xform.nn.standardize: algorithm must be 'fast' or 'stable', got "
                         f"{algorithm!r}")
    x = _float(x, "standardize")
    axes = _axes(axis, x.ndim, "standardize")
    mask = _mask(where, x, "standardize")

    def mean_of(v):
        if mask is None:
            return xnp.mean(v, axis=axes, keepdims=True)
        total = xnp.sum(xnp.where(mask, v, xnp.zeros((), v.dtype)), axis=axes, keepdims=True)
        return total / xnp.sum(mask, axis=axes, keepdims=True)

    if mean is None:
        mean = mean_of(x)
    if variance is None:
        if algorithm == "stable":
            variance = mean_of(xnp.square(x - mean))
        else:
            variance = xnp.maximum(mean_of(xnp.square(x)) - xnp.square(mean), 0)
    return (x - mean) * lax.rsqrt(xnp.asarray(variance + epsilon, dtype=x.dtype))


def one_hot(x, num_classes: int, *, dtype=None, axis: int = -1):
    """One-hot encoding: a new axis ``axis`` of size ``num_classes`` holding 1 at the
    position ``x`` (0 everywhere for out-of-range values). ``dtype`` defaults to
    float64.

    >>> import numpy as np, xform
    >>> xform.nn.one_hot(np.array([0, 2, 5]), 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise TypeError(f"xform.nn.one_hot: num_classes must be a concrete int, got "
                        f"{num_classes!r}") from None
    x = xnp.asarray(x)
    out_axis = normalize_axis(axis, x.ndim + 1, "xform.nn.one_hot")
    shape = [1] * (x.ndim + 1)
    shape[out_axis] = num_classes
    classes = lax.broadcasted_iota(x.dtype, tuple(shape), out_axis)
    hot = xnp.expand_dims(x, out_axis) == classes
    return xnp.asarray(hot, dtype=np.float64 if dtype is None else dtype)
