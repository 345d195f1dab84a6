"""Sorting, searching and counting (numpy's page of that name): sort, argsort, and the
searches whose result shape depends on the data (nonzero, flatnonzero, argwhere; concrete
inputs only). argmax/argmin and count_nonzero are in ``_reductions.py``, ``where`` is in
``_ufuncs.py``."""
from __future__ import annotations

import numpy as np

from .. import lax
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
        raise TypeError(
            f"{name}: the result shape depends on the values of a traced "
            f"{x.aval.str_short()} (data-dependent shape), which xform cannot trace. Use "
            f"xform.numpy.where(condition, x, y) to select values with a fixed shape, or "
            f"compute it outside the transformation.")
    return np.asarray(c)


def nonzero(a):
    """Indices of nonzero elements (concrete inputs only: the shape depends on the data).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.nonzero(np.array([0, 3, 0, 4]))
    (array([1, 3]),)
    """
    a = arg(a, "nonzero")
    if is_tracer(a):
        a = _data_dependent("nonzero", a)
    return np.nonzero(np.asarray(a))


def flatnonzero(a):
    """Indices of nonzero elements of the flattened array (concrete only).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.flatnonzero(np.array([0, 3, 4]))
    array([1, 2])
    """
    a = arg(a, "flatnonzero")
    if is_tracer(a):
        a = _data_dependent("flatnonzero", a)
    return np.flatnonzero(a)


def argwhere(a):
    """Indices of nonzero elements grouped by element (concrete only).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.argwhere(np.array([0, 3]))
    array([[1]])
    """
    a = arg(a, "argwhere")
    if is_tracer(a):
        a = _data_dependent("argwhere", a)
    return np.argwhere(a)
