"""Array creation routines, grouped as in numpy's documentation: from shape or value
(zeros, ones, empty, full, the ``*_like`` variants, eye, identity), from existing data
(array, asarray, astype, copy), numerical ranges (arange, linspace, logspace, meshgrid) and
building matrices (diag, diagflat, tri, tril, triu)."""
from __future__ import annotations

import operator

import numpy as np

from .. import lax
from ._indexing_routines import diagonal
from ._manipulation import broadcast_to, moveaxis, ravel
from ._promote import (
    arg,
    aval,
    concrete_or_none,
    is_py_scalar,
    is_tracer,
    out_array,
    result_type_of,
    shape_arg,
)
from ._promote import array_arg as _a
from ._promote import asarray as _asarray
from ._promote import astype as _to

__all__ = ["empty", "empty_like", "eye", "identity", "ones", "ones_like", "zeros",
           "zeros_like", "full", "full_like", "array", "asarray", "astype", "copy", "arange",
           "linspace", "logspace", "meshgrid", "diag", "diagflat", "tri", "tril", "triu"]


# -- from shape or value -----------------------------------------------------------------


def _dtype_or(dtype, default):
    return np.dtype(default if dtype is None else dtype)


def zeros(shape, dtype=float, order="C", *, like=None):
    """An array of zeros (float64 by default).

    >>> import xform.numpy as xnp
    >>> xnp.zeros((2, 2), dtype=int)
    array([[0, 0],
           [0, 0]])
    """
    return lax.full(shape_arg(shape, "zeros"), 0, _dtype_or(dtype, float))


def ones(shape, dtype=None, order="C", *, like=None):
    """An array of ones (float64 by default).

    >>> import xform.numpy as xnp
    >>> xnp.ones(3)
    array([1., 1., 1.])
    """
    return lax.full(shape_arg(shape, "ones"), 1, _dtype_or(dtype, float))


def empty(shape, dtype=float, order="C", *, like=None):
    """Same as ``zeros`` (xform arrays are never uninitialized).

    >>> import xform.numpy as xnp
    >>> xnp.empty(2)
    array([0., 0.])
    """
    return zeros(shape, dtype)


def full(shape, fill_value, dtype=None, order="C", *, like=None):
    """An array filled with ``fill_value`` (may be traced, or an array that broadcasts).

    >>> import xform.numpy as xnp
    >>> xnp.full((2,), 7)
    array([7, 7])
    """
    shape = shape_arg(shape, "full")
    fill_value = arg(fill_value, "full")
    if is_py_scalar(fill_value) or isinstance(fill_value, np.generic):
        dt = np.asarray(fill_value).dtype if dtype is None else np.dtype(dtype)
        return lax.full(shape, fill_value, dt)
    if dtype is not None:
        fill_value = _to(fill_value, dtype)
    elif aval(fill_value).weak_type:
        fill_value = _to(fill_value, aval(fill_value).dtype)
    if aval(fill_value).ndim == 0:
        return out_array(lax.full(shape, fill_value, aval(fill_value).dtype))
    return broadcast_to(fill_value, shape)


def _like(a, dtype, shape_, name):
    a = arg(a, name)
    av = aval(a)
    dt = av.dtype if dtype is None else np.dtype(dtype)
    shp = av.shape if shape_ is None else shape_arg(shape_, name)
    return dt, shp


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros with the shape and dtype of ``a``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.zeros_like(np.array([1, 2]))
    array([0, 0])
    """
    dt, shp = _like(a, dtype, shape, "zeros_like")
    return lax.full(shp, 0, dt)


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones with the shape and dtype of ``a``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.ones_like(np.array([1.5, 2.0]))
    array([1., 1.])
    """
    dt, shp = _like(a, dtype, shape, "ones_like")
    return lax.full(shp, 1, dt)


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Same as ``zeros_like``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.empty_like(np.array([1, 2]))
    array([0, 0])
    """
    return zeros_like(prototype, dtype, shape=shape)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """``fill_value`` with the shape and dtype of ``a``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.full_like(np.array([1, 2]), 7.9)
    array([7, 7])
    """
    dt, shp = _like(a, dtype, shape, "full_like")
    fill_value = arg(fill_value, "full_like")
    if is_py_scalar(fill_value) or isinstance(fill_value, np.generic):
        with np.errstate(all="ignore"):
            return lax.full(shp, np.asarray(fill_value).astype(dt)[()], dt)
    return full(shp, _to(fill_value, dt))


def eye(N, M=None, k=0, dtype=float, order="C", *, device=None, like=None):
    """2-d array with ones on the ``k``-th diagonal.

    >>> import xform.numpy as xnp
    >>> xnp.eye(2, 3, k=1, dtype=int)
    array([[0, 1, 0],
           [0, 0, 1]])
    """
    return np.eye(N, M, k, dtype=dtype)


def identity(n, dtype=None, *, like=None):
    """Square identity matrix.

    >>> import xform.numpy as xnp
    >>> xnp.identity(2)
    array([[1., 0.],
           [0., 1.]])
    """
    return np.identity(n, dtype=dtype)


# -- from existing data ------------------------------------------------------------------


def asarray(a, dtype=None, order=None, *, device=None, copy=None, like=None):
    """Convert to an array; lists holding traced values are stacked.

    >>> import xform.numpy as xnp
    >>> xnp.asarray([1, 2], dtype=float)
    array([1., 2.])
    """
    r = _asarray(a, dtype)
    if is_tracer(r) and aval(r).weak_type:
        r = _to(r, aval(r).dtype)
    return r


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):  # noqa: A002
    """Create an array (a copy for numpy inputs); lists holding traced values are stacked.

    >>> import xform.numpy as xnp
    >>> xnp.array([[1, 2], [3, 4]]).shape
    (2, 2)
    """
    r = asarray(object, dtype)
    if isinstance(r, np.ndarray) and copy and r is object:
        r = r.copy()
    if ndmin and aval(r).ndim < ndmin:
        r = lax.reshape(r, (1,) * (ndmin - aval(r).ndim) + tuple(aval(r).shape))
    return r


def astype(x, dtype, /, *, copy=True, device=None):
    """Cast to ``dtype`` (numpy's casting; float -> int truncates).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.astype(np.array([1.7, -1.7]), np.int32)
    array([ 1, -1], dtype=int32)
    """
    from ._promote import astype as _astype

    x = _a(x, "astype")
    r = _astype(x, dtype)
    if isinstance(r, np.ndarray) and r is x and copy:
        r = r.copy()
    return out_array(r)


def copy(a, order="K", subok=False):
    """A copy (traced values are immutable: returned as they are).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.copy(np.array([1, 2]))
    array([1, 2])
    """
    a = _a(a, "copy")
    if isinstance(a, np.ndarray):
        return a.copy()
    return a


# -- numerical ranges --------------------------------------------------------------------


def arange(start, stop=None, step=None, dtype=None, *, like=None, device=None):
    """Evenly spaced values in [start, stop) (arguments must be concrete).

    >>> import xform.numpy as xnp
    >>> xnp.arange(1, 7, 2)
    array([1, 3, 5])
    """
    vals = []
    for v in (start, stop, step):
        if is_tracer(v):
            c = concrete_or_none(v)
            if c is None:
                raise v._concretization_error("arange (its length depends on the value)")
            v = c
        vals.append(v)
    start, stop, step = vals
    if stop is None and step is None:
        return np.arange(start, dtype=dtype)
    if step is None:
        return np.arange(start, stop, dtype=dtype)
    return np.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """``num`` evenly spaced samples over [start, stop] (start/stop may be traced).

    >>> import xform.numpy as xnp
    >>> xnp.linspace(0.0, 1.0, 5)
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative.")
    if not is_tracer(start) and not is_tracer(stop):
        return np.linspace(start, stop, num, endpoint, retstep, dtype, axis)
    start = _a(start, "linspace")
    stop = _a(stop, "linspace")
    from ._ufuncs import add, floor, multiply, subtract, true_divide

    dt, _ = result_type_of(start, stop, 1.0)
    div = (num - 1) if endpoint else num
    start_f, stop_f = _to(start, dt), _to(stop, dt)
    delta = subtract(stop_f, start_f)
    nd = aval(delta).ndim
    y = lax.reshape(np.arange(0, num, dtype=dt), (num,) + (1,) * nd)
    step = true_divide(delta, div) if div > 0 else np.nan
    if div > 0:
        y = add(multiply(y, step), start_f)
    else:
        y = add(multiply(y, delta), start_f)
    if endpoint and num > 1:
        last = lax.expand_dims(lax.broadcast_to_shape(stop_f, aval(y).shape[1:]), (0,))
        y = lax.concatenate([lax.slice_in_dim(y, 0, num - 1, 1, 0), _to(last, aval(y).dtype)], 0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        if np.dtype(dtype).kind in "iu":
            y = floor(y)
        y = _to(y, dtype)
    y = out_array(y)
    if retstep:
        return y, step
    return y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``.

    >>> import xform.numpy as xnp
    >>> xnp.logspace(0.0, 2.0, 3)
    array([  1.,  10., 100.])
    """
    from ._ufuncs import power

    y = linspace(start, stop, num, endpoint, axis=axis)
    r = power(base, y)
    return out_array(_to(r, dtype) if dtype is not None else r)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate matrices from coordinate vectors.

    >>> import numpy as np, xform.numpy as xnp
    >>> [g.shape for g in xnp.meshgrid(np.arange(3), np.arange(2))]
    [(2, 3), (2, 3)]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: Valid values for `indexing` are 'xy' and 'ij'.")
    xs = [ravel(x) for x in xi]
    nd = len(xs)
    shp = [aval(x).shape[0] for x in xs]
    if indexing == "xy" and nd > 1:
        shp[0], shp[1] = shp[1], shp[0]
    outs = []
    for i, x in enumerate(xs):
        d = i
        if indexing == "xy" and nd > 1 and i < 2:
            d = 1 - i
        if sparse:
            s = [1] * nd
            s[d] = aval(x).shape[0]
            outs.append(out_array(lax.reshape(x, tuple(s))))
        else:
            outs.append(out_array(lax.broadcast_in_dim(x, tuple(shp), (d,))))
    return tuple(outs)


# -- building matrices -------------------------------------------------------------------


def diag(v, k=0):
    """Diagonal of a 2-d array, or a 2-d array with the 1-d ``v`` on its ``k``-th diagonal.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diag(np.array([1, 2]), k=1)
    array([[0, 1, 0],
           [0, 0, 2],
           [0, 0, 0]])
    """
    v = _a(v, "diag")
    av = aval(v)
    k = operator.index(k)
    if av.ndim == 2:
        return diagonal(v, k)
    if av.ndim != 1:
        raise ValueError("diag: input must be 1-d or 2-d")
    n = av.shape[0] + abs(k)
    mask = np.eye(n, n, k, dtype=bool)
    pad_cfg = ((0, abs(k), 0),)
    vp = lax.pad(v, np.zeros((), av.dtype)[()], pad_cfg) if k else v
    vb = lax.broadcast_in_dim(vp, (n, n), (0,) if k >= 0 else (1,))
    from ._ufuncs import _where

    return out_array(_where(mask, vb, np.zeros((), av.dtype)[()]))


def diagflat(v, k=0):
    """2-d array with the flattened ``v`` on the ``k``-th diagonal.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diagflat(np.array([[1, 2]]))
    array([[1, 0],
           [0, 2]])
    """
    return diag(ravel(v), k)


def tri(N, M=None, k=0, dtype=float, *, like=None):
    """Ones at and below the ``k``-th diagonal.

    >>> import xform.numpy as xnp
    >>> xnp.tri(2, dtype=int)
    array([[1, 0],
           [1, 1]])
    """
    return np.tri(N, M, k, dtype=dtype)


def _tri_mask(a, k, lower):
    av = aval(a)
    if av.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: input must be at least 2-d")
    n, m = av.shape[-2:]
    mask = np.tri(n, m, k, dtype=bool)
    return mask if lower else ~np.tri(n, m, k - 1, dtype=bool)


def triu(m, k=0):
    """Upper triangle (zero below the ``k``-th diagonal) of the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.triu(np.ones((2, 2), dtype=int))
    array([[1, 1],
           [0, 1]])
    """
    from ._ufuncs import _where

    m = _a(m, "triu")
    if aval(m).ndim == 1:
        m = lax.broadcast_in_dim(m, (aval(m).shape[0],) * 2, (1,))
    return out_array(_where(_tri_mask(m, k, False), m, np.zeros((), aval(m).dtype)[()]))


def tril(m, k=0):
    """Lower triangle (zero above the ``k``-th diagonal) of the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.tril(np.ones((2, 2), dtype=int))
    array([[1, 0],
           [1, 1]])
    """
    from ._ufuncs import _where

    m = _a(m, "tril")
    if aval(m).ndim == 1:
        m = lax.broadcast_in_dim(m, (aval(m).shape[0],) * 2, (1,))
    return out_array(_where(_tri_mask(m, k, True), m, np.zeros((), aval(m).dtype)[()]))
