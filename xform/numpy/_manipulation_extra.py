"""numpy's array manipulation and creation routines that were missing: resize,
rollaxis, block, delete, insert, trim_zeros, geomspace. Positions (``obj``) must be
static (numpy values), as the result shapes depend on them.
"""
from __future__ import annotations

import numpy as np

from ._creation import asarray
from ._manipulation import concatenate, moveaxis, ravel, reshape, tile
from ._promote import array_arg, concrete_or_none, is_tracer, ndim, result_type_of, shape

__all__ = ["resize", "rollaxis", "block", "delete", "insert", "trim_zeros", "geomspace", "dsplit",
           "unstack", "matrix_transpose"]


def _dt(x):
    return np.dtype(x.aval.dtype if is_tracer(x) else x.dtype)


def resize(a, new_shape):
    """``a`` flattened, repeated as needed and reshaped to ``new_shape``.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.resize(np.array([1, 2, 3]), (2, 4))
    array([[1, 2, 3, 1],
           [2, 3, 1, 2]])
    """
    a = ravel(array_arg(a, "resize"))
    new_shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    if any(d < 0 for d in new_shape):
        raise ValueError(f"resize: all elements of new_shape must be non-negative, got {new_shape}.")
    total = int(np.prod(new_shape))
    n = shape(a)[0]
    if n == 0 or total == 0:
        return asarray(np.zeros(new_shape), dtype=_dt(a))
    reps = -(-total // n)
    return reshape(tile(a, reps)[:total], new_shape)


def rollaxis(a, axis: int, start: int = 0):
    """Move ``axis`` to before position ``start`` (numpy's older ``moveaxis``).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.rollaxis(np.ones((3, 4, 5)), 2).shape
    (5, 3, 4)
    """
    a = array_arg(a, "rollaxis")
    n = ndim(a)
    axis = axis % n if -n <= axis < n else axis
    if not 0 <= axis < n:
        raise ValueError(f"rollaxis: axis {axis} is out of bounds for {n} dimensions.")
    if start < 0:
        start += n
    if not 0 <= start <= n:
        raise ValueError(f"rollaxis: start {start} must be in [-{n}, {n}].")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    return moveaxis(a, axis, start)


def _block_depth(x):
    if isinstance(x, list):
        if not x:
            raise ValueError("block: lists cannot be empty.")
        ds = {_block_depth(v) for v in x}
        if len(ds) != 1:
            raise ValueError("block: list depths are mismatched.")
        return 1 + ds.pop()
    if isinstance(x, tuple):
        raise TypeError("block: only lists nest (tuples are not allowed), as numpy.")
    return 0


def _block_ndim(x):
    if isinstance(x, list):
        return max(_block_ndim(v) for v in x)
    return ndim(array_arg(x, "block"))


def block(arrays):
    """Assemble an array from nested lists of blocks (innermost lists concatenate along
    the last axis), as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.block([[np.eye(2), np.zeros((2, 1))], [np.ones((1, 2)), np.full((1, 1), 2.0)]])
    array([[1., 0., 0.],
           [0., 1., 0.],
           [1., 1., 2.]])
    """
    depth = _block_depth(arrays)
    nd = max(depth, _block_ndim(arrays))

    def rec(x, level):
        if isinstance(x, list):
            return concatenate([rec(v, level + 1) for v in x], axis=-(depth - level))
        x = array_arg(x, "block")
        return reshape(x, (1,) * (nd - ndim(x)) + shape(x))

    return rec(arrays, 0)


def _static_obj(obj, where_):
    if isinstance(obj, slice):
        return obj
    c = concrete_or_none(obj)
    if c is None or is_tracer(c):
        raise TypeError(f"{where_}: obj (the positions) must be static; the result shape "
                        "depends on it.")
    return np.asarray(c)


def delete(arr, obj, axis: int | None = None, *, assume_unique_indices: bool = False):
    """``arr`` without the entries ``obj`` (int, slice, index array or boolean mask)
    along ``axis`` (flattened if None).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.delete(np.array([[1, 2, 3], [4, 5, 6]]), 1, axis=1)
    array([[1, 3],
           [4, 6]])
    """
    a = array_arg(arr, "delete")
    if axis is None:
        a, axis = ravel(a), 0
    axis = axis % ndim(a)
    n = shape(a)[axis]
    o = _static_obj(obj, "delete")
    keep = np.ones(n, dtype=bool)
    if isinstance(o, slice):
        keep[o] = False
    elif o.dtype == bool:
        if o.shape != (n,):
            raise ValueError(f"delete: boolean mask of shape {o.shape} does not match axis "
                             f"length {n}.")
        keep = ~o
    else:
        o = o.astype(np.int64).ravel()
        if np.any((o < -n) | (o >= n)):
            raise IndexError(f"delete: index out of bounds for axis {axis} of size {n}.")
        keep[o] = False
    return moveaxis(moveaxis(a, axis, 0)[np.flatnonzero(keep)], 0, axis)


def insert(arr, obj, values, axis: int | None = None):
    """``arr`` with ``values`` inserted before the positions ``obj`` along ``axis``
    (flattened if None), as numpy.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.insert(np.array([1, 2, 3]), 1, np.array([9, 8]))
    array([1, 9, 8, 2, 3])
    """
    from ._manipulation import broadcast_to
    a = array_arg(arr, "insert")
    if axis is None:
        a, axis = ravel(a), 0
    nd = ndim(a)
    axis = axis % nd
    n = shape(a)[axis]
    o = _static_obj(obj, "insert")
    if isinstance(o, slice):
        o = np.arange(*o.indices(n))
    v = asarray(array_arg(values, "insert"), dtype=_dt(a))
    x = moveaxis(a, axis, 0)
    # numpy: values get ndmin=arr.ndim (leading 1s), then broadcast into the new slots
    v = reshape(v, (1,) * (nd - ndim(v)) + shape(v)) if ndim(v) < nd else v
    if o.ndim == 0:
        pos = int(o)
        if pos < 0:
            pos += n
        if not 0 <= pos <= n:
            raise IndexError(f"insert: index {int(o)} is out of bounds for size {n}.")
        v = moveaxis(v, 0, axis)  # a scalar position inserts values' first axis there
        k = shape(v)[axis]
        tgt = tuple(k if d == axis else shape(a)[d] for d in range(nd))
        vv = moveaxis(broadcast_to(v, tgt), axis, 0)
        return moveaxis(concatenate([x[:pos], vv, x[pos:]], axis=0), 0, axis)
    idx = o.astype(np.int64).ravel()
    idx = np.where(idx < 0, idx + n, idx)
    if np.any((idx < 0) | (idx > n)):
        raise IndexError(f"insert: indices out of bounds for size {n}.")
    k = idx.size
    tgt = tuple(k if d == axis else shape(a)[d] for d in range(nd))
    vv = moveaxis(broadcast_to(v, tgt), axis, 0)
    # numpy: stable order of the insert positions; new element j lands at idx[j] + rank(j)
    order = np.argsort(idx, kind="stable")
    new_pos = np.empty(k, dtype=np.int64)
    new_pos[order] = idx[order] + np.arange(k)
    total = n + k
    is_new = np.zeros(total, dtype=bool)
    is_new[new_pos] = True
    src = np.empty(total, dtype=np.int64)
    src[~is_new] = np.arange(n)
    src[new_pos] = n + np.arange(k)
    both = concatenate([x, vv], axis=0)
    return moveaxis(both[src], 0, axis)


def trim_zeros(filt, trim: str = "fb", axis=None):
    """``filt`` without its leading (``'f'``) and/or trailing (``'b'``) zeros (1-D, needs
    concrete values: the result size depends on them).

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.trim_zeros(np.array([0, 0, 1, 2, 0]))
    array([1, 2])
    """
    f = array_arg(filt, "trim_zeros")
    c = concrete_or_none(f)
    if c is None or is_tracer(c):
        raise TypeError("trim_zeros: the result size depends on the values; needs a concrete "
                        "array.")
    nz = np.flatnonzero(np.asarray(c))
    if nz.size == 0:
        return f[:0]
    start = nz[0] if "f" in trim.lower() else 0
    stop = nz[-1] + 1 if "b" in trim.lower() else shape(f)[0]
    return f[start:stop]


def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None, axis: int = 0):
    """``num`` numbers spaced evenly on a log scale from ``start`` to ``stop`` (same sign;
    negative ranges are mirrored), end points exact as numpy.

    >>> import xform.numpy as xnp
    >>> xnp.geomspace(1.0, 1000.0, 4)
    array([   1.,   10.,  100., 1000.])
    """
    from ._creation import linspace
    from ._ufuncs import abs as _abs, log10, power, sign
    from ._indexing import at
    start = array_arg(start, "geomspace")
    stop = array_arg(stop, "geomspace")
    dt, _ = result_type_of(start, stop, 1.0)
    start = asarray(start, dtype=dt)
    stop = asarray(stop, dtype=dt)
    cs, ce = concrete_or_none(start), concrete_or_none(stop)
    if cs is not None and ce is not None and not is_tracer(cs) and not is_tracer(ce):
        if np.any(np.asarray(cs) == 0) or np.any(np.asarray(ce) == 0):
            raise ValueError("geomspace: start and stop must be nonzero.")
    sgn = sign(start)
    ls, le = log10(_abs(start)), log10(_abs(stop))
    y = power(10.0, linspace(ls, le, num, endpoint=endpoint, axis=0))
    if num > 0:
        y = at(y)[0].set(_abs(start))
        if endpoint and num > 1:
            y = at(y)[-1].set(_abs(stop))
    y = y * sgn
    if axis != 0:
        y = moveaxis(y, 0, axis)
    return y if dtype is None else asarray(y, dtype=dtype)


def dsplit(ary, indices_or_sections):
    """Split along the third axis (``split(..., axis=2)``).

    >>> import numpy as np, xform.numpy as xnp
    >>> [p.shape for p in xnp.dsplit(np.zeros((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    from ._manipulation import split
    a = array_arg(ary, "dsplit")
    if ndim(a) < 3:
        raise ValueError(f"dsplit: needs an array of 3 or more dimensions, got shape {shape(a)}.")
    return split(a, indices_or_sections, axis=2)


def unstack(x, /, *, axis: int = 0):
    """The slices of ``x`` along ``axis``, as a tuple.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.unstack(np.array([[1, 2], [3, 4]]), axis=1)
    (array([1, 3]), array([2, 4]))
    """
    a = moveaxis(array_arg(x, "unstack"), axis, 0)
    return tuple(a[i] for i in range(shape(a)[0]))


def matrix_transpose(x, /):
    """Swap the last two axes.

    >>> import numpy as np, xform.numpy as xnp
    >>> xnp.matrix_transpose(np.ones((2, 3, 4))).shape
    (2, 4, 3)
    """
    a = array_arg(x, "matrix_transpose")
    if ndim(a) < 2:
        raise ValueError(f"matrix_transpose: needs at least 2 dimensions, got shape {shape(a)}.")
    return moveaxis(a, -1, -2)
