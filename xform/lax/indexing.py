"""Indexing primitives, each defined with all of its rules: gather, scatter_add,
dynamic_slice, dynamic_update_slice, sort and argsort; plus take_along_axis and the
``*_in_dim`` helpers.

``gather`` and ``scatter_add`` use this project's numpy-style contract (simpler than
XLA's): ``gather(x, *indices, axes=...)`` indexes axes ``axes`` of ``x`` with integer
arrays that broadcast together to a shape B; the result has shape B followed by the
non-indexed dims of ``x`` in order. Negative indices wrap once (like numpy), then
out-of-bounds indices are *clamped* to the valid range (JAX clamps too; numpy would
raise). ``scatter_add`` is its transpose: ``np.add.at`` semantics (duplicates
accumulate) with the same index normalization.
"""
from __future__ import annotations

import numpy as np

from ..core.abstract import ShapedArray
from ..core.primitive import Primitive
from ..core.trace import Tracer, get_aval
from ..interpreters.jvp import Zero, instantiate
from ..interpreters.transpose import is_undefined
from ._rules import broadcast_shapes, move_bdim_to_front
from .structural import (
    shape_of,
    broadcast_in_dim,
    broadcasted_iota,
    canonicalize_axis,
    checked_impl,
    expand_dims,
    full,
    index_in_dim,
    moveaxis,
    reshape,
    squeeze,
)

__all__ = [
    "gather", "scatter_add", "dynamic_slice", "dynamic_update_slice", "sort", "argsort",
    "sort_key_val", "take_along_axis", "dynamic_slice_in_dim", "dynamic_index_in_dim",
    "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim",
    "gather_p", "scatter_add_p", "dynamic_slice_p", "dynamic_update_slice_p", "sort_p",
    "argsort_p",
]


def _ew():
    from . import elementwise

    return elementwise


def _shift(axes, d):
    return tuple(a + (a >= d) for a in axes)


def _wrap_index(i, n):
    """numpy: wrap negative indices once (as intp); the caller clamps."""
    i = np.asarray(i)
    k = i.dtype.kind
    if k == "i":
        if i.dtype != np.intp:
            i = i.astype(np.intp)
        return np.where(i < 0, i + n, i)
    if k != "u":
        raise TypeError("index arrays must be integers")
    return i


def _norm_index(i, n):
    """numpy: wrap negative indices once, then clamp into [0, n - 1]."""
    i = _wrap_index(i, n)
    if n == 0:
        return i
    return np.minimum(np.maximum(i, 0), n - 1)


def _check_index_operands(name, x, indices, axes):
    if len(indices) != len(axes):
        raise ValueError(f"{name}: got {len(indices)} index arrays for axes={axes} "
                         f"(one index array per indexed axis)")
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axis in axes={axes}")
    for a in axes:
        if not 0 <= a < x.ndim:
            raise ValueError(f"{name}: axis {a} is out of bounds for operand shape {x.shape}")
    for i in indices:
        if i.dtype.kind not in "iu":
            raise TypeError(f"{name}: index arrays must be integers, got {i.str_short()}")
    B = broadcast_shapes(name, *(i.shape for i in indices))
    if any(x.shape[a] == 0 for a in axes) and int(np.prod(B, dtype=np.int64)) > 0:
        raise IndexError(f"{name}: cannot index an empty axis of operand shape {x.shape} "
                         f"(axes={axes}) with indices of shape {B}")
    rest = tuple(x.shape[i] for i in range(x.ndim) if i not in axes)
    return B, rest


# -- gather ----------------------------------------------------------------------------

gather_p = Primitive("gather")


def _gather_abstract(x, *indices, axes):
    B, rest = _check_index_operands("gather", x, indices, axes)
    return ShapedArray(B + rest, x.dtype, x.weak_type)


def _gather_impl(x, *indices, axes):
    x = np.asarray(x)
    if len(indices) != len(axes):
        raise ValueError("gather: index count")
    if len(axes) == 1:  # fast path: one index array (np.take clamps)
        (a,) = axes
        i = _wrap_index(indices[0], x.shape[a])
        if a:
            x = x.transpose((a,) + tuple(d for d in range(x.ndim) if d != a))
        return np.take(x, i, axis=0, mode="clip")
    idx = tuple(_norm_index(i, x.shape[a]) for i, a in zip(indices, axes))
    if axes != tuple(range(len(axes))):
        rest = tuple(i for i in range(x.ndim) if i not in axes)
        x = np.transpose(x, axes + rest)
    return np.asarray(x[idx])


def _jvp_linear_in_x(prim):
    """JVP of ``prim(x, *indices)``, linear in x: ``prim`` applied to x's tangent."""

    def jvp(primals, tangents, **params):
        x, *indices = primals
        ans = prim.bind(x, *indices, **params)
        if type(tangents[0]) is Zero:
            return ans, Zero.like(ans)
        return ans, prim.bind(tangents[0], *indices, **params)

    return jvp


def _transpose_into_zeros(ct, x, n_indices, put):
    """Transpose of an op linear in x whose other ``n_indices`` operands are indices:
    ``put(zeros like x, ct)`` for x, None for the indices."""
    none = [None] * n_indices
    if type(ct) is Zero:
        return [Zero(x.aval)] + none
    zeros = full(x.aval.shape, 0, x.aval.dtype)
    return [put(zeros, ct)] + none


def _gather_transpose(ct, x, *indices, axes):
    return _transpose_into_zeros(
        ct, x, len(indices), lambda zeros, c: scatter_add_p.bind(zeros, *indices, c, axes=axes))


def _batch_indices(indices, idims, size):
    """Index arrays that broadcast to (size,) + B, B the broadcast unbatched shape."""
    ranks = [len(shape_of(v)) - (d is not None) for v, d in zip(indices, idims)]
    r = max(ranks, default=0)
    out = []
    for v, d, rk in zip(indices, idims, ranks):
        if d is not None:
            v = move_bdim_to_front(v, d)
            if rk < r:
                v = expand_dims(v, tuple(range(1, 1 + r - rk)))
        out.append(v)
    return out, r


def _batch_size(vals, dims):
    return next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)


def _gather_batch(vals, dims, axes):
    x, *indices = vals
    xd, *idims = dims
    if all(d is None for d in idims):
        # only x is batched: its batch dim is one more non-indexed dim
        B = broadcast_shapes("gather", *(shape_of(i) for i in indices))
        new_axes = _shift(axes, xd)
        rest = [i for i in range(len(shape_of(x))) if i not in new_axes]
        return gather_p.bind(x, *indices, axes=new_axes), len(B) + rest.index(xd)
    size = _batch_size(vals, dims)
    idx, r = _batch_indices(indices, idims, size)
    if xd is None:
        return gather_p.bind(x, *idx, axes=axes), 0
    # both batched: index the batch axis of x with an iota
    x = move_bdim_to_front(x, xd)
    bi = broadcasted_iota(np.int64, (size,) + (1,) * r, 0)
    return gather_p.bind(x, bi, *idx, axes=(0,) + _shift(axes, 0)), 0


gather_p.impl = checked_impl(gather_p, _gather_impl)
gather_p.abstract_eval = _gather_abstract
gather_p.jvp = _jvp_linear_in_x(gather_p)
gather_p.transpose = _gather_transpose
gather_p.batch = _gather_batch


def _norm_axes(axes, ndim, name):
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    return tuple(canonicalize_axis(a, ndim, name) for a in axes)


def gather(x, *indices, axes):
    """numpy-style advanced indexing: ``x[..., i0, ..., i1, ...]`` with integer arrays
    ``indices`` (broadcasting to a shape B) on the distinct axes ``axes``. The result has
    shape B followed by the non-indexed dims of ``x`` in order. Negative indices wrap;
    out-of-range indices are clamped.

    >>> import numpy as np
    >>> x = np.arange(12).reshape(3, 4)
    >>> gather(x, np.array([2, 0, -1]), axes=(0,))
    array([[ 8,  9, 10, 11],
           [ 0,  1,  2,  3],
           [ 8,  9, 10, 11]])
    >>> gather(x, np.array([0, 2]), np.array([1, 3]), axes=(0, 1))
    array([ 1, 11])
    """
    axes = _norm_axes(axes, len(shape_of(x)), "gather")
    if not indices:
        raise ValueError("gather: needs at least one index array")
    return gather_p.bind(x, *indices, axes=axes)


# -- scatter_add -----------------------------------------------------------------------------

scatter_add_p = Primitive("scatter_add")


def _scatter_add_abstract(x, *rest, axes):
    *indices, updates = rest
    B, remaining = _check_index_operands("scatter_add", x, indices, axes)
    if updates.dtype != x.dtype:
        raise TypeError(f"scatter_add: updates {updates.str_short()} must have the dtype of the "
                        f"operand {x.str_short()}")
    if updates.shape != B + remaining:
        raise ValueError(f"scatter_add: updates of shape {updates.shape} must have shape "
                         f"{B + remaining} (index shape {B} + non-indexed dims {remaining} of the "
                         f"operand {x.shape})")
    return ShapedArray(x.shape, x.dtype, x.weak_type and updates.weak_type)


def _scatter_add_impl(x, *rest, axes):
    *indices, updates = rest
    out = np.array(x, copy=True)
    if len(indices) != len(axes):
        raise ValueError("scatter_add: index count")
    idx = tuple(_norm_index(i, out.shape[a]) for i, a in zip(indices, axes))
    rest_axes = tuple(i for i in range(out.ndim) if i not in axes)
    updates = np.asarray(updates)
    expect = np.broadcast_shapes(*(i.shape for i in idx)) + tuple(out.shape[i] for i in rest_axes)
    if updates.shape != expect or updates.dtype != out.dtype:
        raise ValueError("scatter_add: bad updates")
    view = out if axes == tuple(range(len(axes))) else np.transpose(out, axes + rest_axes)
    np.add.at(view, idx, updates)
    return out


def _scatter_add_jvp(primals, tangents, axes):
    x, *indices, u = primals
    tx, tu = tangents[0], tangents[-1]
    ans = scatter_add_p.bind(x, *indices, u, axes=axes)
    if type(tu) is Zero:
        return ans, (Zero.like(ans) if type(tx) is Zero else tx)
    tx = instantiate(tx, Zero.like(x).aval)
    return ans, scatter_add_p.bind(tx, *indices, tu, axes=axes)


def _scatter_add_transpose(ct, x, *rest, axes):
    *indices, u = rest
    none = [None] * len(indices)
    if type(ct) is Zero:
        return ([Zero(x.aval) if is_undefined(x) else None] + none
                + [Zero(u.aval) if is_undefined(u) else None])
    ct_x = ct if is_undefined(x) else None
    ct_u = gather_p.bind(ct, *indices, axes=axes) if is_undefined(u) else None
    return [ct_x] + none + [ct_u]


def _scatter_add_batch(vals, dims, axes):
    x, *indices, u = vals
    xd, *idims, ud = dims
    size = _batch_size(vals, dims)
    xshape = shape_of(x) if xd is None else _drop(shape_of(x), xd)
    ushape = shape_of(u) if ud is None else _drop(shape_of(u), ud)
    x = _bcast_front(x, xd, size, xshape)
    if all(d is None for d in idims):
        B = broadcast_shapes("scatter_add", *(shape_of(i) for i in indices))
        nb = len(B)
        if ud is None:
            target = ushape[:nb] + (size,) + ushape[nb:]
            u = broadcast_in_dim(u, target, tuple(i for i in range(len(target)) if i != nb))
        elif ud != nb:
            u = moveaxis(u, ud, nb)
        return scatter_add_p.bind(x, *indices, u, axes=_shift(axes, 0)), 0
    idx, r = _batch_indices(indices, idims, size)
    u = _bcast_front(u, ud, size, ushape)
    bi = broadcasted_iota(np.int64, (size,) + (1,) * r, 0)
    return scatter_add_p.bind(x, bi, *idx, u, axes=(0,) + _shift(axes, 0)), 0


def _drop(shape, d):
    return shape[:d] + shape[d + 1:]


def _bcast_front(v, d, size, shape):
    if d is None:
        return broadcast_in_dim(v, (size,) + tuple(shape), tuple(range(1, len(shape) + 1)))
    return move_bdim_to_front(v, d)


scatter_add_p.impl = checked_impl(scatter_add_p, _scatter_add_impl)
scatter_add_p.abstract_eval = _scatter_add_abstract
scatter_add_p.jvp = _scatter_add_jvp
scatter_add_p.transpose = _scatter_add_transpose
scatter_add_p.batch = _scatter_add_batch


def scatter_add(x, *indices, updates, axes):
    """``x`` with ``updates`` added at the positions ``gather(x, *indices, axes=axes)``
    reads (``np.add.at`` semantics: duplicate indices accumulate). ``updates`` must have
    shape B + the non-indexed dims of ``x``. Index normalization as in ``gather``.

    >>> import numpy as np
    >>> scatter_add(np.zeros(3), np.array([0, 2, 0]), updates=np.ones(3), axes=(0,))
    array([2., 0., 1.])
    """
    axes = _norm_axes(axes, len(shape_of(x)), "scatter_add")
    if not indices:
        raise ValueError("scatter_add: needs at least one index array")
    from ._rules import as_dtype_of

    updates = as_dtype_of(updates, x)
    return scatter_add_p.bind(x, *indices, updates, axes=axes)


# -- dynamic_slice -------------------------------------------------------------------------


def _check_starts(name, x, starts):
    if len(starts) != x.ndim:
        raise ValueError(f"{name}: operand of shape {x.shape} needs {x.ndim} start indices, "
                         f"got {len(starts)}")
    for s in starts:
        if s.ndim != 0 or s.dtype.kind not in "iu":
            raise TypeError(f"{name}: start indices must be integer scalars, got {s.str_short()}")


def _clamp_starts(starts, shape, sizes):
    for s in starts:
        if not isinstance(s, (np.integer, int)) and (
                np.asarray(s).dtype.kind not in "iu" or np.ndim(s)):
            raise TypeError("start indices must be integer scalars")
    return tuple(min(max(int(s), 0), n - k) for s, n, k in zip(starts, shape, sizes))


dynamic_slice_p = Primitive("dynamic_slice")


def _ds_abstract(x, *starts, slice_sizes):
    _check_starts("dynamic_slice", x, starts)
    if len(slice_sizes) != x.ndim or any(not 0 <= k <= n for k, n in zip(slice_sizes, x.shape)):
        raise ValueError(f"dynamic_slice: slice_sizes {slice_sizes} must have one size per "
                         f"dimension, each between 0 and the operand's size {x.shape}")
    return ShapedArray(tuple(slice_sizes), x.dtype, x.weak_type)


def _ds_impl(x, *starts, slice_sizes):
    x = np.asarray(x)
    if len(starts) != x.ndim or len(slice_sizes) != x.ndim or any(
            not 0 <= k <= n for k, n in zip(slice_sizes, x.shape)):
        raise ValueError("dynamic_slice: bad shapes")
    st = _clamp_starts(starts, x.shape, slice_sizes)
    return x[tuple(slice(s, s + k) for s, k in zip(st, slice_sizes))]


def _ds_transpose(ct, x, *starts, slice_sizes):
    return _transpose_into_zeros(
        ct, x, len(starts), lambda zeros, c: dynamic_update_slice_p.bind(zeros, c, *starts))


def _window_indices(starts, sdims, shape, sizes, size):
    """Per-dimension gather indices of the (clamped) windows; rank len(shape) + 1 each
    (leading batch dim, of size ``size`` or 1)."""
    ew = _ew()
    nd = len(shape)
    out = []
    for k, (s, d, n, w) in enumerate(zip(starts, sdims, shape, sizes)):
        s = ew.convert_element_type(s, np.int64)
        s = ew.min(ew.max(s, np.int64(0)), np.int64(n - w))
        if d is not None:
            s = reshape(s, (size,) + (1,) * nd)
        win = broadcasted_iota(np.int64, (1,) * (k + 1) + (w,) + (1,) * (nd - 1 - k), k + 1)
        out.append(ew.add(s, win))
    return out


def _ds_batch(vals, dims, slice_sizes):
    x, *starts = vals
    xd, *sdims = dims
    if all(d is None for d in sdims):
        n = shape_of(x)[xd]
        starts = starts[:xd] + [np.int64(0)] + starts[xd:]
        return dynamic_slice_p.bind(x, *starts, slice_sizes=slice_sizes[:xd] + (n,)
                                    + slice_sizes[xd:]), xd
    size = _batch_size(vals, dims)
    shape = shape_of(x) if xd is None else _drop(shape_of(x), xd)
    idx = _window_indices(starts, sdims, shape, slice_sizes, size)
    nd = len(shape)
    if xd is None:
        out = gather_p.bind(x, *idx, axes=tuple(range(nd)))
    else:
        x = move_bdim_to_front(x, xd)
        bi = broadcasted_iota(np.int64, (size,) + (1,) * nd, 0)
        out = gather_p.bind(x, bi, *idx, axes=tuple(range(nd + 1)))
    if shape_of(out)[0] != size:  # (cannot happen: some start is batched)
        out = broadcast_in_dim(out, (size,) + shape_of(out)[1:], tuple(range(nd + 1)))
    return out, 0


dynamic_slice_p.impl = checked_impl(dynamic_slice_p, _ds_impl)
dynamic_slice_p.abstract_eval = _ds_abstract
dynamic_slice_p.jvp = _jvp_linear_in_x(dynamic_slice_p)
dynamic_slice_p.transpose = _ds_transpose
dynamic_slice_p.batch = _ds_batch


def _split_starts(start_indices, ndim, name):
    if isinstance(start_indices, (np.ndarray, Tracer)) and len(shape_of(start_indices)) == 1:
        n = shape_of(start_indices)[0]
        return [index_in_dim(start_indices, i, 0, keepdims=False) for i in range(n)]
    if isinstance(start_indices, (np.ndarray, Tracer)) and len(shape_of(start_indices)) == 0:
        return [start_indices]
    try:
        return list(start_indices)
    except TypeError:
        raise TypeError(f"{name}: start_indices must be a sequence of integer scalars, got "
                        f"{start_indices!r}") from None


def _int_start(s):
    if isinstance(s, (bool, np.bool_)):
        raise TypeError("start indices must be integers, got a boolean")
    if isinstance(s, (int, np.integer)):
        return np.int64(s)
    return s


def dynamic_slice(x, start_indices, slice_sizes):
    """The slice of ``x`` of shape ``slice_sizes`` starting at ``start_indices`` (integer
    scalars, possibly traced). As in JAX, starts are clamped so that the slice fits:
    ``start = clip(start, 0, size - slice_size)`` (negative starts do not wrap).

    >>> import numpy as np
    >>> dynamic_slice(np.arange(10), (8,), (3,))
    array([7, 8, 9])
    """
    aval = get_aval(x)
    starts = [_int_start(s) for s in _split_starts(start_indices, aval.ndim, "dynamic_slice")]
    slice_sizes = tuple(int(k) for k in slice_sizes)
    return dynamic_slice_p.bind(x, *starts, slice_sizes=slice_sizes)


# -- dynamic_update_slice -------------------------------------------------------------------

dynamic_update_slice_p = Primitive("dynamic_update_slice")


def _dus_abstract(x, update, *starts):
    _check_starts("dynamic_update_slice", x, starts)
    if update.dtype != x.dtype:
        raise TypeError(f"dynamic_update_slice: update {update.str_short()} must have the dtype "
                        f"of the operand {x.str_short()}")
    if update.ndim != x.ndim or any(u > n for u, n in zip(update.shape, x.shape)):
        raise ValueError(f"dynamic_update_slice: update of shape {update.shape} does not fit in "
                         f"the operand of shape {x.shape} (same rank, each dim <= the operand's)")
    return ShapedArray(x.shape, x.dtype, x.weak_type and update.weak_type)


def _dus_impl(x, update, *starts):
    out = np.array(x, copy=True)
    update = np.asarray(update)
    if update.ndim != out.ndim or len(starts) != out.ndim or update.dtype != out.dtype or any(
            u > n for u, n in zip(update.shape, out.shape)):
        raise ValueError("dynamic_update_slice: bad shapes")
    st = _clamp_starts(starts, out.shape, update.shape)
    out[tuple(slice(s, s + k) for s, k in zip(st, update.shape))] = update
    return out


def _dus_jvp(primals, tangents):
    x, u, *starts = primals
    tx, tu = tangents[0], tangents[1]
    ans = dynamic_update_slice_p.bind(x, u, *starts)
    if type(tx) is Zero and type(tu) is Zero:
        return ans, Zero.like(ans)
    tx = instantiate(tx, Zero.like(x).aval)
    tu = instantiate(tu, Zero.like(u).aval)
    return ans, dynamic_update_slice_p.bind(tx, tu, *starts)


def _dus_transpose(ct, x, u, *starts):
    none = [None] * len(starts)
    if type(ct) is Zero:
        return ([Zero(x.aval) if is_undefined(x) else None,
                 Zero(u.aval) if is_undefined(u) else None] + none)
    u_shape = u.aval.shape if is_undefined(u) else shape_of(u)
    ct_x = ct_u = None
    if is_undefined(x):
        zeros = full(u_shape, 0, get_aval(ct).dtype)
        ct_x = dynamic_update_slice_p.bind(ct, zeros, *starts)
    if is_undefined(u):
        ct_u = dynamic_slice_p.bind(ct, *starts, slice_sizes=tuple(u_shape))
    return [ct_x, ct_u] + none


def _dus_batch(vals, dims):
    x, u, *starts = vals
    xd, ud, *sdims = dims
    size = _batch_size(vals, dims)
    xshape = shape_of(x) if xd is None else _drop(shape_of(x), xd)
    ushape = shape_of(u) if ud is None else _drop(shape_of(u), ud)
    x = _bcast_front(x, xd, size, xshape)
    u = _bcast_front(u, ud, size, ushape)
    if all(d is None for d in sdims):
        return dynamic_update_slice_p.bind(x, u, np.int64(0), *starts), 0
    # batched starts: scatter the update windows into place and select them
    nd = len(xshape)
    idx = _window_indices(starts, sdims, xshape, ushape, size)
    bi = broadcasted_iota(np.int64, (size,) + (1,) * nd, 0)
    axes = tuple(range(nd + 1))
    dt = get_aval(x).dtype
    placed = scatter_add_p.bind(full(shape_of(x), 0, dt), bi, *idx, u, axes=axes)
    mask = scatter_add_p.bind(full(shape_of(x), False, bool), bi, *idx,
                              full(shape_of(u), True, bool), axes=axes)
    return _ew().select(mask, placed, x), 0


dynamic_update_slice_p.impl = checked_impl(dynamic_update_slice_p, _dus_impl)
dynamic_update_slice_p.abstract_eval = _dus_abstract
dynamic_update_slice_p.jvp = _dus_jvp
dynamic_update_slice_p.transpose = _dus_transpose
dynamic_update_slice_p.batch = _dus_batch


def dynamic_update_slice(x, update, start_indices):
    """``x`` with the block ``update`` written at ``start_indices`` (integer scalars,
    possibly traced; clamped so that the block fits, as in JAX).

    >>> import numpy as np
    >>> dynamic_update_slice(np.zeros(5), np.ones(2), (4,))
    array([0., 0., 0., 1., 1.])
    """
    from ._rules import as_dtype_of

    aval = get_aval(x)
    update = as_dtype_of(update, x)
    starts = [_int_start(s) for s in _split_starts(start_indices, aval.ndim,
                                                   "dynamic_update_slice")]
    return dynamic_update_slice_p.bind(x, update, *starts)


def dynamic_slice_in_dim(x, start_index, slice_size, axis=0):
    """``dynamic_slice`` along one axis (other axes whole).

    >>> import numpy as np
    >>> dynamic_slice_in_dim(np.arange(6).reshape(2, 3), 1, 2, axis=1)
    array([[1, 2],
           [4, 5]])
    """
    aval = get_aval(x)
    axis = canonicalize_axis(axis, aval.ndim, "dynamic_slice_in_dim")
    starts = [np.int64(0)] * aval.ndim
    starts[axis] = start_index
    sizes = list(aval.shape)
    sizes[axis] = int(slice_size)
    return dynamic_slice(x, starts, sizes)


def dynamic_index_in_dim(x, index, axis=0, keepdims=True):
    """Element ``index`` (traced ok; clamped) along ``axis``.

    >>> import numpy as np
    >>> dynamic_index_in_dim(np.arange(6).reshape(2, 3), 2, axis=1, keepdims=False)
    array([2, 5])
    """
    axis = canonicalize_axis(axis, len(shape_of(x)), "dynamic_index_in_dim")
    out = dynamic_slice_in_dim(x, index, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


def dynamic_update_slice_in_dim(x, update, start_index, axis=0):
    """``dynamic_update_slice`` along one axis.

    >>> import numpy as np
    >>> dynamic_update_slice_in_dim(np.zeros((2, 3)), np.ones((2, 1)), 1, axis=1)
    array([[0., 1., 0.],
           [0., 1., 0.]])
    """
    aval = get_aval(x)
    axis = canonicalize_axis(axis, aval.ndim, "dynamic_update_slice_in_dim")
    starts = [np.int64(0)] * aval.ndim
    starts[axis] = start_index
    return dynamic_update_slice(x, update, starts)


def dynamic_update_index_in_dim(x, update, index, axis=0):
    """Write ``update`` (without or with the size-1 ``axis``) at ``index`` along ``axis``.

    >>> import numpy as np
    >>> dynamic_update_index_in_dim(np.zeros((3, 2)), np.ones(2), 1, axis=0)
    array([[0., 0.],
           [1., 1.],
           [0., 0.]])
    """
    aval = get_aval(x)
    axis = canonicalize_axis(axis, aval.ndim, "dynamic_update_index_in_dim")
    if len(shape_of(update)) == aval.ndim - 1:
        update = expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(x, update, index, axis)


# -- sort / argsort ---------------------------------------------------------------------------


def _sort_abstract_check(name, x, dimension):
    if not 0 <= dimension < x.ndim:
        raise ValueError(f"{name}: dimension {dimension} is out of bounds for operand shape "
                         f"{x.shape}")


sort_p = Primitive("sort")


def _sort_abstract(x, dimension, is_stable):
    _sort_abstract_check("sort", x, dimension)
    return ShapedArray(x.shape, x.dtype, x.weak_type)


def _sort_jvp(primals, tangents, dimension, is_stable):
    (x,), (t,) = primals, tangents
    ans = sort_p.bind(x, dimension=dimension, is_stable=is_stable)
    if type(t) is Zero:
        return ans, Zero.like(ans)
    perm = argsort_p.bind(x, dimension=dimension, index_dtype=np.dtype(np.int64))
    return ans, take_along_axis(t, perm, dimension)


def _sort_batch(vals, dims, dimension, is_stable):
    (x,), (d,) = vals, dims
    return sort_p.bind(x, dimension=dimension + (dimension >= d), is_stable=is_stable), d


sort_p.impl = checked_impl(sort_p, lambda x, dimension, is_stable: np.sort(
    x, axis=dimension, kind="stable"))
sort_p.abstract_eval = _sort_abstract
sort_p.jvp = _sort_jvp
sort_p.batch = _sort_batch

argsort_p = Primitive("argsort")


def _argsort_abstract(x, dimension, index_dtype):
    _sort_abstract_check("argsort", x, dimension)
    return ShapedArray(x.shape, index_dtype, False)


def _argsort_jvp(primals, tangents, dimension, index_dtype):
    ans = argsort_p.bind(*primals, dimension=dimension, index_dtype=index_dtype)
    return ans, Zero.like(ans)


def _argsort_batch(vals, dims, dimension, index_dtype):
    (x,), (d,) = vals, dims
    return argsort_p.bind(x, dimension=dimension + (dimension >= d), index_dtype=index_dtype), d


argsort_p.impl = checked_impl(argsort_p, lambda x, dimension, index_dtype: np.argsort(
    x, axis=dimension, kind="stable").astype(index_dtype, copy=False))
argsort_p.abstract_eval = _argsort_abstract
argsort_p.jvp = _argsort_jvp
argsort_p.batch = _argsort_batch


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sort along ``dimension`` (stable; NaNs last, like numpy). ``operand`` may also be a
    sequence of same-shape arrays: all are permuted by the order of the first (the key).
    The derivative permutes the tangent the same way. A sequence gives a tuple (JAX's
    result structure).

    >>> import numpy as np
    >>> sort(np.array([3., 1., 2.]))
    array([1., 2., 3.])
    >>> sort([np.array([3, 1, 2]), np.array([30., 10., 20.])])
    (array([1, 2, 3]), array([10., 20., 30.]))
    """
    if num_keys != 1:
        raise NotImplementedError("sort: only num_keys=1 is supported")
    if isinstance(operand, (list, tuple)):
        ops = list(operand)
        if not ops:
            raise ValueError("sort: needs at least one operand")
        key = ops[0]
        shape = shape_of(key)
        for o in ops[1:]:
            if shape_of(o) != shape:
                raise ValueError(f"sort: operands must have the same shape, got "
                                 f"{[shape_of(o) for o in ops]}")
        if len(ops) == 1:
            return (sort(key, dimension),)
        dimension = canonicalize_axis(dimension, len(shape), "sort")
        perm = argsort(key, dimension)
        return (sort(key, dimension),) + tuple(take_along_axis(o, perm, dimension) for o in ops[1:])
    dimension = canonicalize_axis(dimension, len(shape_of(operand)), "sort")
    return sort_p.bind(operand, dimension=dimension, is_stable=bool(is_stable))


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """Sort ``keys`` along ``dimension`` and permute ``values`` alike; returns both.

    >>> import numpy as np
    >>> sort_key_val(np.array([2, 1]), np.array([5., 7.]))
    (array([1, 2]), array([7., 5.]))
    """
    k, v = sort([keys, values], dimension, is_stable)
    return k, v


def argsort(x, dimension=-1, index_dtype=np.int64):
    """Indices that sort ``x`` along ``dimension`` (stable; NaNs last, like numpy).

    >>> import numpy as np
    >>> argsort(np.array([3., 1., 2.]))
    array([1, 2, 0])
    """
    dimension = canonicalize_axis(dimension, len(shape_of(x)), "argsort")
    return argsort_p.bind(x, dimension=dimension, index_dtype=np.dtype(index_dtype))


def take_along_axis(x, indices, axis):
    """numpy's ``take_along_axis`` (built on ``gather``): pick, along ``axis``, the
    elements at ``indices`` (same rank as ``x``; other dims broadcast). Index
    normalization as in ``gather`` (wrap negatives, clamp).

    >>> import numpy as np
    >>> take_along_axis(np.array([[10, 30, 20]]), np.array([[0, 2, 1]]), axis=1)
    array([[10, 20, 30]])
    """
    xa, ia = get_aval(x), get_aval(indices)
    if xa.ndim != ia.ndim:
        raise ValueError(f"take_along_axis: indices of shape {ia.shape} must have the rank of "
                         f"the operand {xa.shape}")
    axis = canonicalize_axis(axis, xa.ndim, "take_along_axis")
    nd = xa.ndim
    out_shape = []
    for d in range(nd):
        if d == axis:
            out_shape.append(ia.shape[d])
        else:
            out_shape.append(broadcast_shapes("take_along_axis", (xa.shape[d],), (ia.shape[d],))[0])
    idx = []
    for d in range(nd):
        if d == axis:
            idx.append(indices)
        elif xa.shape[d] == 1:
            idx.append(np.zeros((1,) * nd, np.int64))
        else:
            shape = tuple(out_shape[d] if k == d else 1 for k in range(nd))
            idx.append(broadcasted_iota(np.int64, shape, d))
    out = gather_p.bind(x, *idx, axes=tuple(range(nd)))
    if shape_of(out) != tuple(out_shape):  # e.g. every index array had size-1 dims
        out = broadcast_in_dim(out, tuple(out_shape), tuple(range(nd)))
    return out
