"""Sorting, searching and counting (numpy's page of that name): sort, argsort, and the
searches whose result shape depends on the data (nonzero, flatnonzero, argwhere: concrete
inputs, or JAX's ``size=`` for a static result length). argmax/argmin and count_nonzero
are in ``_reductions.py``, ``where`` is in ``_ufuncs.py``."""
from __future__ import annotations

import operator

import numpy as np

from .. import lax
from ..core.trace import ConcretizationTypeError
from ._promote import arg, aval, concrete_or_none, is_tracer, normalize_axis, out_array
from ._promote import array_arg as _a

__all__ = ["sort", "argsort", "nonzero", "flatnonzero", "argwhere"]


# -- sorting -----------------------------------------------------------------------------


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted copy along ``axis`` (flattened if None); nans last like numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.sort(np.array([[3, 1], [0, 2]]), axis=0)
    array([[0, 1],
           [3, 2]])
    """
    if order is not None:
        raise TypeError("sort: order= (structured arrays) is not supported")
    a = _a(a, "sort")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    if aval(a).ndim == 0:
        raise np.exceptions.AxisError("sort: axis -1 is out of bounds for array of dimension 0")
    ax = normalize_axis(axis, aval(a).ndim, "sort")
    if aval(a).shape[ax] <= 1:
        return out_array(a)
    return out_array(lax.sort(a, ax))


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Indices that sort ``a`` along ``axis`` (stable; nans last, like numpy).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argsort(np.array([3, 1, 2]))
    array([1, 2, 0])
    """
    if order is not None:
        raise TypeError("argsort: order= is not supported")
    a = _a(a, "argsort")
    if axis is None:
        a = lax.reshape(a, (aval(a).size,))
        axis = 0
    ax = normalize_axis(axis, aval(a).ndim, "argsort")
    return out_array(lax.argsort(a, ax))


# -- searching ---------------------------------------------------------------------------


def _data_dependent(name, x):
    c = concrete_or_none(x)
    if c is None:
        # JAX raises ConcretizationTypeError here too (a TypeError, as before)
        raise ConcretizationTypeError(
            f"{name}: the result shape depends on the values of a traced "
            f"{x.aval.str_short()} (data-dependent shape), which xform cannot trace. Pass "
            f"size= (and fill_value=) for a result of fixed size, use "
            f"xform.numpy.where(condition, x, y) to select values with a fixed shape, or "
            f"compute it outside the transformation.")
    return np.asarray(c)


def _check_size(size, name):
    try:
        size = operator.index(size)
    except TypeError:
        raise TypeError(f"{name}: size must be a non-negative int (the static length of the "
                        f"result), got {size!r} of type {type(size).__name__}") from None
    if size < 0:
        raise ValueError(f"{name}: size must be non-negative, got {size}")
    return size


def _nonzero_sized(a, size, fill_value, name):
    """JAX's ``nonzero(a, size=, fill_value=)``: the first ``size`` nonzero positions (in
    row-major order), padded with ``fill_value`` (by default 0) when there are fewer. The
    shape is static, so it traces under jit/vmap/grad."""
    from ._creation import arange, zeros
    from ._indexing import at
    from ._indexing_routines import unravel_index
    from ._reductions import cumsum
    from ._reductions import sum as _sum
    from ._ufuncs import _where, not_equal, where

    size = _check_size(size, name)
    a = _a(a, name)
    shape = tuple(aval(a).shape)
    if not shape:
        raise ValueError(f"{name}: calling nonzero on 0d arrays is not allowed (numpy's "
                         f"rule); use atleast_1d(a)")
    flat = lax.reshape(a, (aval(a).size,))
    mask = flat if aval(flat).dtype == np.bool_ else not_equal(flat, 0)
    n = aval(flat).size
    idt = np.dtype(np.intp)
    # the k-th nonzero element goes to slot k; slots >= size are dropped
    slot = lax.sub(cumsum(mask, dtype=idt), lax.full((), 1, idt))
    slot = _where(mask, slot, lax.full((n,), size, idt))
    flat_idx = at(zeros(size, idt))[slot].set(arange(n, dtype=idt), mode="drop")
    coords = unravel_index(flat_idx, shape)
    if fill_value is None:
        return tuple(out_array(c) for c in coords)
    fills = tuple(fill_value) if isinstance(fill_value, (tuple, list)) else (fill_value,) * len(shape)
    if len(fills) != len(shape):
        raise ValueError(f"{name}: fill_value must be a scalar or a tuple of length "
                         f"{len(shape)} (one per dimension), got {fill_value!r}")
    valid = lax.lt(arange(size, dtype=idt), _sum(mask, dtype=idt))
    return tuple(out_array(where(valid, c, f).astype(idt)) for c, f in zip(coords, fills))


def nonzero(a, *, size=None, fill_value=None):
    """Indices of nonzero elements: one index array per dimension. The result shape
    depends on the data, so traced inputs need ``size=`` (JAX's): the first ``size``
    indices, padded with ``fill_value`` (default 0; a scalar or one per dimension).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nonzero(np.array([0, 3, 0, 4]))
    (array([1, 3]),)
    >>> xnp.nonzero(np.array([0, 3, 0, 4]), size=3, fill_value=-1)
    (array([ 1,  3, -1]),)
    """
    if size is not None:
        return _nonzero_sized(a, size, fill_value, "nonzero")
    if fill_value is not None:
        raise ValueError("nonzero: fill_value requires size=")
    a = arg(a, "nonzero")
    if is_tracer(a):
        a = _data_dependent("nonzero", a)
    return np.nonzero(np.asarray(a))


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of nonzero elements of the flattened array; ``size``/``fill_value`` as in
    ``nonzero`` (needed for traced inputs).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.flatnonzero(np.array([0, 3, 4]))
    array([1, 2])
    """
    if size is not None:
        a = _a(a, "flatnonzero")
        return _nonzero_sized(lax.reshape(a, (aval(a).size,)), size, fill_value, "flatnonzero")[0]
    if fill_value is not None:
        raise ValueError("flatnonzero: fill_value requires size=")
    a = arg(a, "flatnonzero")
    if is_tracer(a):
        a = _data_dependent("flatnonzero", a)
    return np.flatnonzero(a)


def argwhere(a, *, size=None, fill_value=None):
    """Indices of nonzero elements grouped by element, shape ``(count, a.ndim)``;
    ``size``/``fill_value`` as in ``nonzero`` (needed for traced inputs).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argwhere(np.array([0, 3]))
    array([[1]])
    >>> xnp.argwhere(np.array([[0, 3], [5, 0]]), size=3, fill_value=-1)
    array([[ 0,  1],
           [ 1,  0],
           [-1, -1]])
    """
    if size is not None:
        a = _a(a, "argwhere")
        nd = aval(a).ndim
        cols = _nonzero_sized(lax.reshape(a, (1,)) if nd == 0 else a, size, fill_value, "argwhere")
        r = lax.concatenate([lax.expand_dims(c, (1,)) for c in cols], 1)
        return out_array(r[:, :0] if nd == 0 else r)
    if fill_value is not None:
        raise ValueError("argwhere: fill_value requires size=")
    a = arg(a, "argwhere")
    if is_tracer(a):
        a = _data_dependent("argwhere", a)
    return np.argwhere(a)
