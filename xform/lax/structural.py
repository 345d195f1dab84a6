"""Shape primitives: broadcast_in_dim, reshape, transpose, expand_dims, squeeze,
reduce_sum (the reduction cotangents need), rev, slice, pad, concatenate and iota.
Each is defined with all of its rules (impl, abstract_eval, jvp, transpose, batch)."""
from __future__ import annotations

import builtins

import numpy as np

from ..core.abstract import ShapedArray
from ..core.axes import normalize_axes, normalize_axis
from ..core.primitive import Primitive
from ..core.trace import Tracer, get_aval, state
from ..interpreters.jvp import Zero, deflinear
from ..interpreters.transpose import is_undefined
from ._rules import as_dtype_of, move_bdim_to_front

_pyslice = builtins.slice


def _norm_axis(axis: int, ndim: int, opname: str) -> int:
    return normalize_axis(axis, ndim, opname, scalar_ok=True)


def shape_of(x) -> tuple:
    """The shape of an array, tracer or scalar (fast for numpy arrays: eager dispatch)."""
    if type(x) is np.ndarray:
        return x.shape
    if isinstance(x, Tracer):
        return x.aval.shape
    return get_aval(x).shape


def canonicalize_axis(axis, ndim: int, opname: str) -> int:
    """A non-negative axis in ``range(ndim)``; negative axes count from the end."""
    return normalize_axis(axis, ndim, opname)


def canonicalize_axes(axes, ndim: int, opname: str) -> tuple:
    """Sorted, distinct, non-negative axes (an int or a sequence; None = all axes)."""
    if isinstance(axes, np.integer):
        axes = int(axes)
    return normalize_axes(tuple(axes) if not isinstance(axes, (int, type(None))) else axes,
                          ndim, opname)


def checked_impl(prim, fn):
    """Wrap a numpy impl so that numpy's errors are replaced by the primitive's clear
    shape errors (``abstract_eval`` runs only when numpy failed: no eager overhead)."""
    from ..core.abstract import concrete_aval

    def impl(*args, **params):
        try:
            return fn(*args, **params)
        except (ValueError, IndexError, TypeError):
            prim.abstract_eval(*[concrete_aval(a, prim.name) for a in args], **params)
            raise

    return impl




# -- broadcast_in_dim ----------------------------------------------------------------

broadcast_in_dim_p = Primitive("broadcast_in_dim")


def _bid_impl(x, shape, broadcast_dimensions):
    x = np.asarray(x)
    tmp = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        tmp[dst] = x.shape[src]
    return np.broadcast_to(x.reshape(tmp), shape)


def _bid_abstract(x, shape, broadcast_dimensions):
    shape = tuple(shape)
    if len(broadcast_dimensions) != x.ndim:
        raise ValueError(
            f"broadcast_in_dim: operand of shape {x.shape} needs {x.ndim} broadcast "
            f"dimensions, got {broadcast_dimensions}"
        )
    for src, dst in enumerate(broadcast_dimensions):
        if not 0 <= dst < len(shape) or x.shape[src] not in (1, shape[dst]):
            raise ValueError(
                f"broadcast_in_dim: operand shape {x.shape} cannot be broadcast to {shape} "
                f"with broadcast_dimensions={broadcast_dimensions}"
            )
    return ShapedArray(shape, x.dtype, x.weak_type)


def _bid_transpose(ct, x, shape, broadcast_dimensions):
    if type(ct) is Zero:
        return [Zero(x.aval)]
    in_shape = x.aval.shape
    sum_axes = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    sum_axes += [dst for src, dst in enumerate(broadcast_dimensions)
                 if in_shape[src] == 1 and shape[dst] != 1]
    out = reduce_sum(ct, tuple(sorted(sum_axes))) if sum_axes else ct
    if shape_of(out) != in_shape:
        out = reshape(out, in_shape)
    return [out]


def _bid_batch(vals, dims, shape, broadcast_dimensions):
    (x,), (d,) = vals, dims
    x = move_bdim_to_front(x, d)
    size = shape_of(x)[0]
    return broadcast_in_dim(
        x, (size,) + tuple(shape), (0,) + tuple(b + 1 for b in broadcast_dimensions)
    ), 0


broadcast_in_dim_p.impl = checked_impl(broadcast_in_dim_p, _bid_impl)
broadcast_in_dim_p.abstract_eval = _bid_abstract
deflinear(broadcast_in_dim_p, _bid_transpose)
broadcast_in_dim_p.batch = _bid_batch


def broadcast_in_dim(x, shape, broadcast_dimensions):
    """Broadcast ``x`` to ``shape``; operand dim i becomes result dim broadcast_dimensions[i].

    >>> import numpy as np
    >>> broadcast_in_dim(np.array([1., 2.]), (3, 2), (1,)).shape
    (3, 2)
    """
    shape = tuple(int(s) for s in shape)
    broadcast_dimensions = tuple(int(b) for b in broadcast_dimensions)
    if not isinstance(x, Tracer) and np.shape(x) == shape:
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=broadcast_dimensions)


def broadcast_to_shape(x, shape):
    """numpy-style broadcast_to via broadcast_in_dim (trailing dims aligned).

    >>> import numpy as np; from xform import lax
    >>> lax.broadcast_to_shape(np.array([1.0, 2.0]), (2, 2))
    array([[1., 2.],
           [1., 2.]])
    """
    shape = tuple(shape)
    xs = shape_of(x)
    if tuple(xs) == shape:
        return x
    lead = len(shape) - len(xs)
    if lead < 0:
        raise ValueError(f"broadcast_to: cannot broadcast shape {xs} to {shape}")
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value``.

    >>> full((2,), 3.0)
    array([3., 3.])
    """
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if isinstance(fill_value, Tracer) or state().dynamic.level > 0:
        # Under jit/make_jaxpr stage a broadcast of a scalar (fusable), not a big constant.
        if not isinstance(fill_value, Tracer):
            dt = np.dtype(dtype) if dtype is not None else np.asarray(fill_value).dtype
            fill_value = np.asarray(fill_value, dtype=dt)[()]
        elif dtype is not None:
            fill_value = _convert(fill_value, dtype)
        return broadcast_in_dim(fill_value, shape, ())
    dt = np.dtype(dtype) if dtype is not None else np.asarray(fill_value).dtype
    return np.full(shape, fill_value, dtype=dt)


def _convert(x, dtype):
    from . import convert_element_type

    return convert_element_type(x, dtype)


# -- reshape -------------------------------------------------------------------------

reshape_p = Primitive("reshape")


def _reshape_abstract(x, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ValueError(f"reshape: cannot reshape array of shape {x.shape} into shape {new_sizes}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


reshape_p.impl = checked_impl(reshape_p, lambda x, new_sizes: np.reshape(x, new_sizes))
reshape_p.abstract_eval = _reshape_abstract
deflinear(reshape_p, lambda ct, x, new_sizes: [
    Zero(x.aval) if type(ct) is Zero else reshape(ct, x.aval.shape)])


def _reshape_batch(vals, dims, new_sizes):
    x = move_bdim_to_front(vals[0], dims[0])
    return reshape(x, (shape_of(x)[0],) + tuple(new_sizes)), 0


reshape_p.batch = _reshape_batch


def reshape(x, new_sizes):
    """Reshape ``x`` (row-major) to ``new_sizes`` (a tuple of ints; one may be -1).

    >>> import numpy as np
    >>> reshape(np.arange(6.0), (2, -1)).shape
    (2, 3)
    """
    if isinstance(new_sizes, (int, np.integer)):
        new_sizes = (new_sizes,)
    new_sizes = tuple(int(s) for s in new_sizes)
    if -1 in new_sizes:
        new_sizes = _infer_minus_one(shape_of(x), new_sizes)
    if shape_of(x) == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


def _infer_minus_one(shape, new_sizes):
    if new_sizes.count(-1) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension (-1), got {new_sizes}")
    known = int(np.prod([s for s in new_sizes if s != -1], dtype=np.int64))
    size = int(np.prod(shape, dtype=np.int64))
    if known == 0 or size % known:
        raise ValueError(f"reshape: cannot reshape array of shape {tuple(shape)} into shape {new_sizes}")
    return tuple(size // known if s == -1 else s for s in new_sizes)


# -- transpose -----------------------------------------------------------------------

transpose_p = Primitive("transpose")


def _transpose_abstract(x, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose: permutation {permutation} is invalid for shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p.impl = checked_impl(transpose_p, lambda x, permutation: np.transpose(x, permutation))
transpose_p.abstract_eval = _transpose_abstract
deflinear(transpose_p, lambda ct, x, permutation: [
    Zero(x.aval) if type(ct) is Zero else transpose(ct, tuple(np.argsort(permutation)))])


def _transpose_batch(vals, dims, permutation):
    x = move_bdim_to_front(vals[0], dims[0])
    return transpose(x, (0,) + tuple(p + 1 for p in permutation)), 0


transpose_p.batch = _transpose_batch


def transpose(x, permutation):
    """Permute the axes of ``x``: result axis i is operand axis ``permutation[i]``.

    >>> import numpy as np
    >>> transpose(np.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    ndim = len(shape_of(x))
    permutation = tuple(_norm_axis(int(p), ndim, "transpose") for p in permutation)
    if permutation == tuple(range(len(permutation))):
        return x
    return transpose_p.bind(x, permutation=permutation)


def moveaxis(x, source: int, destination: int):
    """Move axis ``source`` of x to position ``destination``.

    >>> import numpy as np
    >>> moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    ndim = len(shape_of(x))
    source = _norm_axis(source, ndim, "moveaxis")
    destination = _norm_axis(destination, ndim, "moveaxis")
    if source == destination:
        return x
    perm = [i for i in range(ndim) if i != source]
    perm.insert(destination, source)
    return transpose(x, tuple(perm))


# -- expand_dims / squeeze -----------------------------------------------------------

expand_dims_p = Primitive("expand_dims")


def _expand_shape(shape, dimensions):
    out = list(shape)
    for d in sorted(dimensions):
        out.insert(d, 1)
    return tuple(out)


expand_dims_p.impl = lambda x, dimensions: np.reshape(x, _expand_shape(np.shape(x), dimensions))
expand_dims_p.abstract_eval = lambda x, dimensions: ShapedArray(
    _expand_shape(x.shape, dimensions), x.dtype, x.weak_type)
deflinear(expand_dims_p, lambda ct, x, dimensions: [
    Zero(x.aval) if type(ct) is Zero else squeeze(ct, dimensions)])


def _expand_dims_batch(vals, dims, dimensions):
    x = move_bdim_to_front(vals[0], dims[0])
    return expand_dims(x, tuple(d + 1 for d in dimensions)), 0


expand_dims_p.batch = _expand_dims_batch


def expand_dims(x, dimensions):
    """Insert size-1 axes at ``dimensions`` (positions in the result).

    >>> import numpy as np
    >>> expand_dims(np.zeros((2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    if isinstance(dimensions, int):
        dimensions = (dimensions,)
    out_ndim = len(shape_of(x)) + len(dimensions)
    dimensions = tuple(sorted(_norm_axis(d, out_ndim, "expand_dims") for d in dimensions))
    if len(set(dimensions)) != len(dimensions):
        raise ValueError(f"expand_dims: repeated dimensions {dimensions}")
    if not dimensions:
        return x
    return expand_dims_p.bind(x, dimensions=dimensions)


squeeze_p = Primitive("squeeze")


def _squeeze_abstract(x, dimensions):
    for d in dimensions:
        if x.shape[d] != 1:
            raise ValueError(f"squeeze: dimension {d} of shape {x.shape} is not 1")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions),
                       x.dtype, x.weak_type)


squeeze_p.impl = checked_impl(
    squeeze_p, lambda x, dimensions: np.squeeze(x, axis=dimensions) if dimensions else x)
squeeze_p.abstract_eval = _squeeze_abstract
deflinear(squeeze_p, lambda ct, x, dimensions: [
    Zero(x.aval) if type(ct) is Zero else expand_dims(ct, dimensions)])


def _squeeze_batch(vals, dims, dimensions):
    x = move_bdim_to_front(vals[0], dims[0])
    return squeeze(x, tuple(d + 1 for d in dimensions)), 0


squeeze_p.batch = _squeeze_batch


def squeeze(x, dimensions):
    """Remove the size-1 axes ``dimensions``.

    >>> import numpy as np
    >>> squeeze(np.zeros((1, 3, 1)), (0, -1)).shape
    (3,)
    """
    if isinstance(dimensions, int):
        dimensions = (dimensions,)
    ndim = len(shape_of(x))
    dimensions = tuple(sorted({_norm_axis(d, ndim, "squeeze") for d in dimensions}))
    if not dimensions:
        return x
    return squeeze_p.bind(x, dimensions=dimensions)


# -- reduce_sum ----------------------------------------------------------------------

reduce_sum_p = Primitive("reduce_sum")


def _reduce_abstract(name):
    def rule(x, axes):
        for a in axes:
            if not 0 <= a < x.ndim:
                raise ValueError(f"{name}: axis {a} is out of bounds for shape {x.shape}")
        return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in axes),
                           x.dtype, x.weak_type)

    return rule


reduce_sum_p.impl = checked_impl(
    reduce_sum_p, lambda x, axes: np.asarray(np.sum(x, axis=axes, dtype=np.asarray(x).dtype)))
reduce_sum_p.abstract_eval = _reduce_abstract("reduce_sum")


def _reduce_sum_transpose(ct, x, axes):
    if type(ct) is Zero:
        return [Zero(x.aval)]
    shape = x.aval.shape
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    return [broadcast_in_dim(ct, shape, kept)]


deflinear(reduce_sum_p, _reduce_sum_transpose)


def _reduce_sum_batch(vals, dims, axes):
    x = move_bdim_to_front(vals[0], dims[0])
    return reduce_sum(x, tuple(a + 1 for a in axes)), 0


reduce_sum_p.batch = _reduce_sum_batch


def reduce_sum(x, axes):
    """Sum over ``axes`` (an int or a tuple of ints, negative allowed); dtype is kept.

    >>> import numpy as np
    >>> reduce_sum(np.ones((2, 3)), (-1,))
    array([3., 3.])
    """
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    axes = canonicalize_axes(axes, len(shape_of(x)), "reduce_sum")
    if not axes:
        return x
    return reduce_sum_p.bind(x, axes=axes)


# -- rev -----------------------------------------------------------------------------

rev_p = Primitive("rev")


def _rev_abstract(x, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim:
            raise ValueError(f"rev: dimension {d} is out of bounds for shape {x.shape}")
    return ShapedArray(x.shape, x.dtype, x.weak_type)


rev_p.impl = lambda x, dimensions: np.flip(x, dimensions) if dimensions else x
rev_p.abstract_eval = _rev_abstract
deflinear(rev_p, lambda ct, x, dimensions: [
    Zero(x.aval) if type(ct) is Zero else rev(ct, dimensions)])


def _rev_batch(vals, dims, dimensions):
    (x,), (d,) = vals, dims
    return rev(x, tuple(a + (a >= d) for a in dimensions)), d


rev_p.batch = _rev_batch


def rev(x, dimensions):
    """Reverse the order of elements along ``dimensions`` (like ``numpy.flip``).

    >>> import numpy as np
    >>> rev(np.arange(3), (0,))
    array([2, 1, 0])
    """
    dimensions = canonicalize_axes(dimensions, len(shape_of(x)), "rev")
    if not dimensions:
        return x
    return rev_p.bind(x, dimensions=dimensions)


# -- slice ---------------------------------------------------------------------------

slice_p = Primitive("slice")


def _slice_out_shape(shape, start_indices, limit_indices, strides):
    return tuple(max(0, -(-(hi - lo) // st)) for lo, hi, st in zip(start_indices, limit_indices, strides))


def _check_slice(shape, start_indices, limit_indices, strides):
    n = len(shape)
    if not len(start_indices) == len(limit_indices) == len(strides) == n:
        raise ValueError(
            f"slice: operand of shape {shape} needs {n} start/limit indices and strides, got "
            f"start_indices={start_indices}, limit_indices={limit_indices}, strides={strides}")
    for d in range(n):
        lo, hi, st = start_indices[d], limit_indices[d], strides[d]
        if not 0 <= lo <= hi <= shape[d] or st < 1:
            raise ValueError(
                f"slice: invalid slice [{lo}:{hi}:{st}] of dimension {d} for operand shape "
                f"{shape} (need 0 <= start <= limit <= size and stride >= 1)")


def _slice_abstract(x, start_indices, limit_indices, strides):
    _check_slice(x.shape, start_indices, limit_indices, strides)
    return ShapedArray(_slice_out_shape(x.shape, start_indices, limit_indices, strides),
                       x.dtype, x.weak_type)


def _slice_impl(x, start_indices, limit_indices, strides):
    return np.asarray(x)[tuple(_pyslice(lo, hi, st)
                               for lo, hi, st in zip(start_indices, limit_indices, strides))]


def _slice_transpose(ct, x, start_indices, limit_indices, strides):
    if type(ct) is Zero:
        return [Zero(x.aval)]
    shape = x.aval.shape
    out_shape = shape_of(ct)
    pads = []
    for n, lo, st, m in zip(shape, start_indices, strides, out_shape):
        real_hi = lo + (m - 1) * st + 1 if m else lo
        pads.append((lo, n - real_hi, st - 1 if m else 0))
    return [pad(ct, as_dtype_of(0, ct), tuple(pads))]


def _slice_batch(vals, dims, start_indices, limit_indices, strides):
    (x,), (d,) = vals, dims
    size = shape_of(x)[d]
    return slice(x, start_indices[:d] + (0,) + start_indices[d:],
                 limit_indices[:d] + (size,) + limit_indices[d:],
                 strides[:d] + (1,) + strides[d:]), d


slice_p.impl = checked_impl(slice_p, _slice_impl)
slice_p.abstract_eval = _slice_abstract
deflinear(slice_p, _slice_transpose)
slice_p.batch = _slice_batch


def slice(x, start_indices, limit_indices, strides=None):  # noqa: A001 (JAX's name)
    """The static slice ``x[start:limit:stride]`` in every dimension (JAX's ``lax.slice``).

    Requires ``0 <= start <= limit <= size`` and positive strides; see ``slice_in_dim``
    for Python-style (negative, None, reversed) slicing of one axis.

    >>> import numpy as np
    >>> slice(np.arange(10), (1,), (8,), (3,))
    array([1, 4, 7])
    """
    shape = shape_of(x)
    start_indices = tuple(map(int, start_indices))
    limit_indices = tuple(map(int, limit_indices))
    strides = (1,) * len(start_indices) if strides is None else tuple(map(int, strides))
    _check_slice(shape, start_indices, limit_indices, strides)
    if limit_indices == shape and not any(start_indices) and all(s == 1 for s in strides):
        return x
    return slice_p.bind(x, start_indices=start_indices, limit_indices=limit_indices,
                        strides=strides)


def slice_in_dim(x, start, stop, stride=1, axis=0):
    """Python-style slice ``start:stop:stride`` of one axis (None, negative indices and
    negative strides allowed; out-of-range bounds are clipped like Python's slicing).

    >>> import numpy as np
    >>> slice_in_dim(np.arange(6), -2, None)
    array([4, 5])
    >>> slice_in_dim(np.arange(6), None, None, -2)
    array([5, 3, 1])
    """
    shape = shape_of(x)
    axis = canonicalize_axis(axis, len(shape), "slice_in_dim")
    n = shape[axis]
    stride = 1 if stride is None else int(stride)
    if stride == 0:
        raise ValueError("slice_in_dim: stride must not be zero")
    lo, hi, st = _pyslice(None if start is None else int(start),
                          None if stop is None else int(stop), stride).indices(n)
    count = len(range(lo, hi, st))
    if st < 0:
        x = rev(x, (axis,))
        lo, st = n - 1 - lo, -st
    if count == n and st == 1:
        return x
    nd = len(shape)
    starts = (0,) * axis + ((lo if count else 0),) + (0,) * (nd - axis - 1)
    limits = shape[:axis] + ((lo + (count - 1) * st + 1 if count else 0),) + shape[axis + 1:]
    strides = (1,) * axis + (st,) + (1,) * (nd - axis - 1)
    return slice_p.bind(x, start_indices=starts, limit_indices=limits, strides=strides)


def index_in_dim(x, index, axis=0, keepdims=True):
    """Element ``index`` (negative counts from the end) along ``axis``; the axis is kept
    with size 1 unless ``keepdims=False``.

    >>> import numpy as np
    >>> index_in_dim(np.arange(6).reshape(2, 3), -1, axis=1, keepdims=False)
    array([2, 5])
    """
    shape = shape_of(x)
    axis = canonicalize_axis(axis, len(shape), "index_in_dim")
    n = shape[axis]
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"index_in_dim: index {index} is out of bounds for axis {axis} of size {n}")
    index %= n
    out = slice_in_dim(x, index, index + 1, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


# -- pad -----------------------------------------------------------------------------

pad_p = Primitive("pad")


def _pad_out_shape(shape, padding_config):
    return tuple(lo + hi + n + max(n - 1, 0) * interior
                 for n, (lo, hi, interior) in zip(shape, padding_config))


def _pad_abstract(x, padding_value, padding_config):
    if padding_value.ndim != 0:
        raise ValueError(f"pad: padding_value must be a scalar, got {padding_value.str_short()}")
    if padding_value.dtype != x.dtype:
        raise TypeError(f"pad: padding_value {padding_value.str_short()} must have the dtype of "
                        f"the operand {x.str_short()}")
    if len(padding_config) != x.ndim:
        raise ValueError(f"pad: operand of shape {x.shape} needs {x.ndim} (lo, hi, interior) "
                         f"triples, got padding_config={padding_config}")
    for d, (_, _, interior) in enumerate(padding_config):
        if interior < 0:
            raise ValueError(f"pad: interior padding must be >= 0, got {interior} in dimension {d}")
    out = _pad_out_shape(x.shape, padding_config)
    if any(s < 0 for s in out):
        raise ValueError(f"pad: padding_config={padding_config} gives a negative dimension "
                         f"{out} for operand shape {x.shape}")
    return ShapedArray(out, x.dtype, x.weak_type and padding_value.weak_type)


def _pad_impl(x, padding_value, padding_config):
    x = np.asarray(x)
    if np.shape(padding_value) != () or np.asarray(padding_value).dtype != x.dtype:
        raise TypeError("pad: bad padding value")
    shape = x.shape
    out_shape = _pad_out_shape(shape, padding_config)
    if any(s < 0 for s in out_shape):
        raise ValueError("negative pad")
    # 1. interior and non-negative edge padding into a fresh array
    big = tuple(max(lo, 0) + max(hi, 0) + n + max(n - 1, 0) * it
                for n, (lo, hi, it) in zip(shape, padding_config))
    out = np.full(big, padding_value, dtype=x.dtype)
    out[tuple(_pyslice(max(lo, 0), max(lo, 0) + max(n - 1, 0) * (it + 1) + 1 if n else max(lo, 0),
                       it + 1) for n, (lo, hi, it) in zip(shape, padding_config))] = x
    # 2. negative edge padding crops
    crop = tuple(_pyslice(max(-lo, 0), b - max(-hi, 0))
                 for b, (lo, hi, _) in zip(big, padding_config))
    return out[crop]


def _pad_transpose(ct, x, padding_value, padding_config):
    if type(ct) is Zero:
        return [Zero(x.aval) if is_undefined(x) else None,
                Zero(padding_value.aval) if is_undefined(padding_value) else None]
    ct_shape = shape_of(ct)
    unpad = tuple((-lo, -hi, 0) for lo, hi, _ in padding_config)
    unpadded = pad(ct, as_dtype_of(0, ct), unpad)
    t_x = slice(unpadded, (0,) * len(ct_shape), shape_of(unpadded),
                tuple(it + 1 for _, _, it in padding_config))
    t_pv = None
    if is_undefined(padding_value):
        from .elementwise import sub

        total = reduce_sum(ct, tuple(range(len(ct_shape))))
        t_pv = sub(total, reduce_sum(t_x, tuple(range(len(ct_shape)))))
    return [t_x if is_undefined(x) else None, t_pv]


def _pad_batch(vals, dims, padding_config):
    (x, pv), (xd, pd) = vals, dims
    if pd is None:
        return pad(x, pv, padding_config[:xd] + ((0, 0, 0),) + padding_config[xd:]), xd
    from . import elementwise as ew

    size = shape_of(pv)[pd]
    xs = shape_of(x) if xd is None else shape_of(x)[:xd] + shape_of(x)[xd + 1:]
    x = broadcast_in_dim(x, (size,) + tuple(xs), tuple(range(1, len(xs) + 1))) if xd is None \
        else move_bdim_to_front(x, xd)
    dt = get_aval(x).dtype
    padded = pad(x, np.zeros((), dt), ((0, 0, 0),) + padding_config)
    out_shape = shape_of(padded)
    mask = pad(np.zeros(xs, bool), np.True_, padding_config)
    mask = broadcast_in_dim(mask, out_shape, tuple(range(1, len(out_shape))))
    pv_b = broadcast_in_dim(pv, out_shape, (0,))
    return ew.select(mask, pv_b, padded), 0


pad_p.impl = checked_impl(pad_p, _pad_impl)
pad_p.abstract_eval = _pad_abstract
deflinear(pad_p, _pad_transpose)
pad_p.batch = _pad_batch


def pad(x, padding_value, padding_config):
    """Pad ``x`` with the scalar ``padding_value``: ``padding_config`` has one
    ``(lo, hi, interior)`` per dimension; ``interior`` values go between elements and
    negative ``lo``/``hi`` remove elements (as in JAX's ``lax.pad``).

    >>> import numpy as np
    >>> pad(np.array([1, 2, 3]), 0, ((1, -1, 1),))
    array([0, 1, 0, 2, 0])
    """
    padding_value = as_dtype_of(padding_value, x)
    config = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
    if all(c == (0, 0, 0) for c in config) and len(config) == len(shape_of(x)):
        return x
    return pad_p.bind(x, padding_value, padding_config=config)


# -- concatenate ---------------------------------------------------------------------

concatenate_p = Primitive("concatenate")


def _concatenate_abstract(*operands, dimension):
    if not operands:
        raise ValueError("concatenate: needs at least one operand")
    a0 = operands[0]
    if not 0 <= dimension < max(a0.ndim, 0) or a0.ndim == 0:
        raise ValueError(f"concatenate: dimension {dimension} is out of bounds for operands of "
                         f"rank {a0.ndim} (0-d arrays cannot be concatenated)")
    for a in operands:
        if a.dtype != a0.dtype:
            raise TypeError(f"concatenate: operands must have the same dtype, got "
                            f"{', '.join(o.str_short() for o in operands)}")
        if a.ndim != a0.ndim or any(s != t for i, (s, t) in enumerate(zip(a.shape, a0.shape))
                                     if i != dimension):
            raise ValueError(f"concatenate: operand shapes {[o.shape for o in operands]} must "
                             f"agree except in dimension {dimension}")
    shape = list(a0.shape)
    shape[dimension] = sum(a.shape[dimension] for a in operands)
    return ShapedArray(tuple(shape), a0.dtype, all(a.weak_type for a in operands))


def _concatenate_transpose(ct, *operands, dimension):
    out, start = [], 0
    for x in operands:
        n = (x.aval if is_undefined(x) else get_aval(x)).shape[dimension]
        if is_undefined(x):
            out.append(Zero(x.aval) if type(ct) is Zero else
                       slice_in_dim(ct, start, start + n, 1, dimension))
        else:
            out.append(None)
        start += n
    return out


def _concatenate_batch(vals, dims, dimension):
    size = next(shape_of(v)[d] for v, d in zip(vals, dims) if d is not None)
    args = []
    for v, d in zip(vals, dims):
        if d is None:
            s = shape_of(v)
            v = broadcast_in_dim(v, (size,) + tuple(s), tuple(range(1, len(s) + 1)))
        else:
            v = move_bdim_to_front(v, d)
        args.append(v)
    return concatenate(args, dimension + 1), 0


def _concatenate_impl(*xs, dimension):
    xs = [np.asarray(x) for x in xs]
    if any(x.dtype != xs[0].dtype for x in xs):
        raise TypeError("concatenate: dtypes differ")
    return np.concatenate(xs, axis=dimension)


concatenate_p.impl = checked_impl(concatenate_p, _concatenate_impl)
concatenate_p.abstract_eval = _concatenate_abstract
deflinear(concatenate_p, _concatenate_transpose)
concatenate_p.batch = _concatenate_batch


def concatenate(operands, dimension):
    """Join arrays (same dtype, same shape except in ``dimension``) along ``dimension``.

    >>> import numpy as np
    >>> concatenate([np.zeros((1, 2)), np.ones((2, 2))], 0).shape
    (3, 2)
    """
    operands = list(operands)
    if not operands:
        raise ValueError("concatenate: needs at least one operand")
    ndim = get_aval(operands[0]).ndim
    if ndim == 0:
        raise ValueError("concatenate: 0-d arrays cannot be concatenated")
    dimension = canonicalize_axis(dimension, ndim, "concatenate")
    if len(operands) == 1:
        return operands[0]
    return concatenate_p.bind(*operands, dimension=dimension)


# -- iota ----------------------------------------------------------------------------

iota_p = Primitive("iota")


def _iota_impl(dtype, shape, dimension):
    r = np.arange(shape[dimension], dtype=dtype)
    return np.broadcast_to(r.reshape([-1 if i == dimension else 1 for i in range(len(shape))]),
                           shape).copy()


def _iota_abstract(dtype, shape, dimension):
    if not 0 <= dimension < len(shape):
        raise ValueError(f"iota: dimension {dimension} is out of bounds for shape {shape}")
    if any(s < 0 for s in shape):
        raise ValueError(f"iota: negative dimension in shape {shape}")
    return ShapedArray(shape, dtype, False)


iota_p.impl = _iota_impl
iota_p.abstract_eval = _iota_abstract


def iota(dtype, size):
    """``[0, 1, ..., size - 1]`` of ``dtype`` (like ``numpy.arange``).

    >>> import numpy as np
    >>> iota(np.int32, 3)
    array([0, 1, 2], dtype=int32)
    """
    return broadcasted_iota(dtype, (int(size),), 0)


def broadcasted_iota(dtype, shape, dimension):
    """An array of ``shape`` whose value at each position is its index along ``dimension``.

    >>> import numpy as np
    >>> broadcasted_iota(np.int64, (2, 3), 1)
    array([[0, 1, 2],
           [0, 1, 2]])
    """
    from ..core.dtypes import check_dtype

    shape = tuple(int(s) for s in shape)
    dimension = canonicalize_axis(dimension, len(shape), "broadcasted_iota")
    dtype = check_dtype(dtype, "iota")
    _iota_abstract(dtype, shape, dimension)
    return iota_p.bind(dtype=dtype, shape=shape, dimension=dimension)
