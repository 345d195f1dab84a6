"""Indexing routines (numpy's "Indexing routines" page) as functions: generating index
arrays (ix_, indices, unravel_index, ravel_multi_index) and indexing-like operations (take,
take_along_axis, diagonal). ``x[...]`` and ``x.at[...]`` are in ``_indexing.py``;
``nonzero`` is in ``_sorting.py`` and ``where`` in ``_ufuncs.py``."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from .. import lax
from ._promote import aval, is_tracer, normalize_axis, out_array, shape_arg
from ._promote import array_arg as _a

__all__ = ["ix_", "indices", "unravel_index", "ravel_multi_index", "take", "take_along_axis",
           "diagonal"]


# -- generating index arrays -------------------------------------------------------------


def ix_(*args):
    """Open mesh of index arrays for cross-indexing.

    >>> import numpy as np, xform.numpy as xnp
    >>> [i.shape for i in xnp.ix_([0, 1], [2, 3, 4])]
    [(2, 1), (1, 3)]
    """
    outs = []
    n = len(args)
    for k, a in enumerate(args):
        a = _a(a, "ix_")
        if aval(a).ndim != 1:
            raise ValueError("ix_: Cross index must be 1 dimensional")
        s = [1] * n
        s[k] = aval(a).shape[0]
        if not is_tracer(a) and a.dtype == bool:
            a = np.nonzero(a)[0]
            s[k] = a.shape[0]
        outs.append(out_array(lax.reshape(a, tuple(s))))
    return tuple(outs)


def indices(dimensions, dtype=int, sparse=False):
    """Grid of indices (concrete).

    >>> import xform.numpy as xnp
    >>> xnp.indices((2, 2))[0]
    array([[0, 0],
           [1, 1]])
    """
    return np.indices(dimensions, dtype, sparse)


def unravel_index(indices, shape, order="C"):
    """Flat indices to coordinate arrays (works on traced indices, order 'C').

    >>> import xform.numpy as xnp
    >>> xnp.unravel_index(5, (2, 3))
    (np.int64(1), np.int64(2))
    """
    from ._ufuncs import floor_divide, remainder

    shape = shape_arg(shape, "unravel_index")
    idx = _a(indices, "unravel_index")
    if not is_tracer(idx):
        return np.unravel_index(idx, shape, order)
    outs = []
    for d in reversed(shape):
        outs.append(remainder(idx, d))
        idx = floor_divide(idx, d)
    return tuple(reversed(outs))


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """Coordinate arrays to flat indices (row-major).

    >>> import xform.numpy as xnp
    >>> xnp.ravel_multi_index(([1], [2]), (2, 3))
    array([5])
    """
    from ._ufuncs import add, multiply

    if not any(is_tracer(m) for m in multi_index):
        return np.ravel_multi_index(multi_index, dims, mode=mode, order=order)
    r = 0
    for m, d in zip(multi_index, dims):
        r = add(multiply(r, d), m)
    return r


# -- indexing-like operations ------------------------------------------------------------


def take(a, indices, axis=None, out=None, mode=None, unique_indices: bool = False,
         indices_are_sorted: bool = False, fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (flattened if None).

    ``mode``: ``'raise'`` (the default, numpy's; JAX's default is 'fill') as indexing
    (concrete out-of-range indices raise IndexError; traced ones are clamped, as in
    JAX), ``'wrap'`` (modulo the length), ``'clip'`` (to the valid range; negative
    indices become 0, as in numpy) or ``'fill'`` (JAX's: out-of-range indices read
    ``fill_value``, by default NaN for floats). ``unique_indices`` and
    ``indices_are_sorted`` are accepted hints.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.take(np.array([[1, 2], [3, 4]]), [1, 0], axis=1)
    array([[2, 1],
           [4, 3]])
    >>> xnp.take(np.arange(4.0), [5, -5], mode="wrap")
    array([1., 3.])
    >>> xnp.take(np.arange(4.0), [1, 7], mode="fill", fill_value=-1.0)
    array([ 1., -1.])
    """
    from ._indexing import _get_filled, getitem
    from ._ufuncs import clip, remainder

    if out is not None:
        raise TypeError("take: out= is not supported (arrays are immutable); use the result.")
    if mode not in (None, "raise", "wrap", "clip", "fill"):
        raise ValueError(f"take: mode must be 'raise', 'wrap', 'clip' or 'fill', got {mode!r}.")
    a = _a(a, "take")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    ax = normalize_axis(axis, aval(a).ndim, "take")
    idx = _a(indices, "take")
    if aval(idx).dtype.kind not in "iu":
        raise IndexError("take: indices must be integers")
    n = aval(a).shape[ax]
    if mode in ("wrap", "clip") and n == 0 and aval(idx).size:
        raise IndexError(f"take: cannot take from an empty axis {ax} with mode={mode!r}.")
    if mode in ("wrap", "clip") and aval(idx).dtype == np.uint64:
        idx = lax.convert_element_type(idx, np.int64)  # numpy takes indices as intp first
    if mode == "wrap":
        idx = remainder(idx, n)
    elif mode == "clip":
        idx = clip(idx, 0, n - 1)
    elif mode == "fill":
        return out_array(_get_filled(a, (slice(None),) * ax + (idx,), fill_value))
    return out_array(getitem(a, (slice(None),) * ax + (idx,)))


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """Pick values along ``axis`` with an index array broadcasting against ``arr``.
    ``mode`` (JAX's): None (out-of-range concrete indices raise, traced ones clamp),
    'clip', or 'fill' (they read ``fill_value``, by default NaN for floats).

    >>> import numpy as np, xform.numpy as xnp
    >>> a = np.array([[10, 30, 20]])
    >>> xnp.take_along_axis(a, np.argsort(a, axis=1), axis=1)
    array([[10, 20, 30]])
    """
    from ._indexing import getitem
    from ._manipulation import ravel

    arr = _a(arr, "take_along_axis")
    idx = _a(indices, "take_along_axis")
    if axis is None:
        arr = ravel(arr)
        axis = 0
    nd = aval(arr).ndim
    if aval(idx).ndim != nd:
        raise ValueError("take_along_axis: `indices` and `arr` must have the same number of "
                         "dimensions")
    ax = normalize_axis(axis, nd, "take_along_axis")
    index = []
    for d in range(nd):
        if d == ax:
            index.append(idx)
        else:
            s = [1] * nd
            s[d] = aval(arr).shape[d]
            index.append(np.arange(aval(arr).shape[d]).reshape(s))
    if mode == "fill":
        from ._indexing import _get_filled

        return out_array(_get_filled(arr, tuple(index), fill_value))
    if mode == "clip":
        from ._indexing import at as _at

        return out_array(_at(arr)[tuple(index)].get(mode="clip"))
    if mode not in (None, "promise_in_bounds"):
        raise ValueError(f"take_along_axis: mode must be None, 'clip', 'fill' or "
                         f"'promise_in_bounds', got {mode!r}.")
    return out_array(getitem(arr, tuple(index)))


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal over axes (axis1, axis2), placed last.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.diagonal(np.arange(9).reshape(3, 3), 1)
    array([1, 5])
    """
    from ._indexing import getitem
    from ._manipulation import moveaxis

    a = _a(a, "diagonal")
    av = aval(a)
    if av.ndim < 2:
        raise ValueError("diagonal: input must be at least 2-d")
    i1 = normalize_axis(axis1, av.ndim, "diagonal")
    i2 = normalize_axis(axis2, av.ndim, "diagonal")
    if i1 == i2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    a = moveaxis(a, (i1, i2), (-2, -1))
    n, m = aval(a).shape[-2:]
    offset = operator.index(offset)
    if offset >= 0:
        length = builtins.max(0, builtins.min(n, m - offset))
        rows = np.arange(length)
        cols = rows + offset
    else:
        length = builtins.max(0, builtins.min(n + offset, m))
        cols = np.arange(length)
        rows = cols - offset
    return out_array(getitem(a, (Ellipsis, rows, cols)))
